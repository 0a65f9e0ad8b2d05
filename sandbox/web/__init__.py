"""A Telegram-like web chat on the emulator's server (``/chat/``) for the no-token demo.

    chat = WebChat(emu, tz, roster=..., fences=..., clock=...)
    emu.route_hooks.append(chat.routes)   # before the emulator starts

Plain HTML, CSS and JavaScript in ``static/`` (no build step, nothing fetched from elsewhere);
the routes are in ``server.py``, what a chat looks like to the page in ``views.py``.
"""

from sandbox.web.server import ClockControl, WebChat

__all__ = ["ClockControl", "WebChat"]
