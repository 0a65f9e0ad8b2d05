"""An aiogram session pointed at the emulator."""

from __future__ import annotations

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer


class _QuickCloseSession(AiohttpSession):
    async def close(self) -> None:
        # AiohttpSession.close() sleeps 250 ms for TLS shutdown; loopback has none.
        if self._session is not None and not self._session.closed:
            await self._session.close()


def emulator_session(base_url: str, timeout: float = 10.0) -> AiohttpSession:
    """``Bot(token, session=emulator_session(emu.base_url))``."""
    return _QuickCloseSession(api=TelegramAPIServer.from_base(base_url), timeout=timeout)
