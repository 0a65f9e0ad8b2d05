"""The digest's buttons: their callback data (`DigestCB`, matched in handlers/digest.py) and
the packer the digest service draws them with (`DigestButtonData`)."""

from __future__ import annotations

from enum import StrEnum

from bot.keyboards import Callback
from domain.cases import CaseStatus


class DigestView(StrEnum):
    WAITING = "w"  # the cases waiting in `status`
    FULL = "full"  # the lists the digest cut short, as a file


class DigestCB(Callback, prefix="dg"):
    what: DigestView
    status: CaseStatus | None = None


class DigestButtonData:
    """Implements `services.digest_text.DigestButtons`. A city's digests carry the same few
    buttons thousands of times: each is packed once."""

    def __init__(self) -> None:
        self._packed: dict[tuple[DigestView, CaseStatus | None], str] = {}

    def _pack(self, what: DigestView, status: CaseStatus | None = None) -> str:
        packed = self._packed.get((what, status))
        if packed is None:
            packed = self._packed[(what, status)] = DigestCB(what=what, status=status).pack()
        return packed

    def waiting(self, status: str) -> str:
        return self._pack(DigestView.WAITING, CaseStatus(status))

    def full_lists(self) -> str:
        return self._pack(DigestView.FULL)
