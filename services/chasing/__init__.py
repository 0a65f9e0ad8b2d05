"""The chasing (催办): who owes what, told once, at the right hour; cases nobody moves climb.

Called by the scheduler's jobs (scheduler/jobs.py) with the database: each run reads the
city in one read-only unit of work (it never holds SQLite's write lock while it thinks), each
escalation commits on its own, and the pushes are queued a few hundred rows per short
transaction afterwards (`job.Pusher.write`):

- `run_daily` at the nag time (`daily.py`): patrol laggards (domain.pacing `needs_nag`) get a
  nag saying what is missing and by when; whoever ended yesterday's / last week's / last
  month's window short (`fell_short`) is named to their grid's leader (`patrol_nags.py`);
  case assignees are reminded the day before the deadline and on the day; the day after it
  passed a 催办 goes to the assignee, copied to the grid's leader; after N working days
  overdue the case escalates one level up by itself (`case_nags.py`, `escalation.py`);
  opted-in grid groups get a roll call (`roll_call.py`). It also runs `run_sweep`.
- `run_sweep` every few minutes (`sweep.py`): reports nobody accepted within
  `accept_remind_hours` have their leader reminded, within `accept_escalate_hours` they
  escalate; assignments nobody acknowledged, the same.

Every push is an outbox row keyed (kind, recipient, period): running a job twice, in two
processes, or again after a crash (even between two of its chunks) queues nothing new, and
a case that climbed no longer climbs. Quiet hours hold everything but 重大
cases until they end (`not_before`). The deployment's times and thresholds are `Rules`
(`rules.py`); `/schedule` changes them (`schedule.py`).

"Leader of a grid" is the nearest leader on the way up: a 楼院 without its own 网格长 is
answered for by its 片区's.
"""

from services.chasing.daily import run_daily
from services.chasing.job import ChasingTexts, Outcome
from services.chasing.rules import Rules, hold_until, load_rules
from services.chasing.schedule import SCHEDULE_FIELDS, ScheduleError, update_schedule
from services.chasing.sweep import run_sweep

__all__ = [
    "SCHEDULE_FIELDS",
    "ChasingTexts",
    "Outcome",
    "Rules",
    "ScheduleError",
    "hold_until",
    "load_rules",
    "run_daily",
    "run_sweep",
    "update_schedule",
]
