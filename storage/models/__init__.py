"""All tables. Importing this package registers them on `SQLModel.metadata`."""

from storage.models.access import AuditEntry, Invite
from storage.models.cases import Case, CaseCard, CaseCounter, CaseEvent
from storage.models.delivery import Delivery
from storage.models.inbox import InboxUpdate
from storage.models.patrols import Patrol
from storage.models.runtime import Deployment, FsmRecord, ProcessedUpdate, QuarantinedUpdate
from storage.models.tree import Department, Grid, Membership, Person, Role

__all__ = [
    "AuditEntry",
    "Case",
    "CaseCard",
    "CaseCounter",
    "CaseEvent",
    "Delivery",
    "Department",
    "Deployment",
    "FsmRecord",
    "Grid",
    "InboxUpdate",
    "Invite",
    "Membership",
    "Patrol",
    "Person",
    "ProcessedUpdate",
    "QuarantinedUpdate",
    "Role",
]
