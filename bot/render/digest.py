"""The digest's buttons: their callback data (`DigestCB`, matched in handlers/digest.py) and
the packer the digest service draws them with (`DigestButtonData`)."""

from __future__ import annotations

from bot.keyboards import Callback


class DigestCB(Callback, prefix="dg"):
    """Digest buttons: `what` is "w" (cases waiting, `status`) or "full" (the full lists)."""

    what: str
    status: str = ""


class DigestButtonData:
    """Implements `services.digest.DigestButtons`. A city's digests carry the same few
    buttons thousands of times: each is packed once."""

    def __init__(self) -> None:
        self._packed: dict[tuple[str, str], str] = {}

    def _pack(self, what: str, status: str = "") -> str:
        packed = self._packed.get((what, status))
        if packed is None:
            packed = self._packed[(what, status)] = DigestCB(what=what, status=status).pack()
        return packed

    def waiting(self, status: str) -> str:
        return self._pack("w", status)

    def full_lists(self) -> str:
        return self._pack("full")
