"""What the web chat shows of a chat: its messages as they stand now, ready for the page.

Text comes back as HTML built from the message's entities (everything escaped); buttons keep
their rows; photos point at ``/chat/api/file/<file_id>``. Labels the page shows are in
``static/app.js`` (Chinese), not here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.html_text import entities_to_html, escape
from sandbox.world import Chat, StoredMessage, TranscriptEntry, World

_SERVICE = (
    "new_chat_members",
    "left_chat_member",
    "migrate_to_chat_id",
    "migrate_from_chat_id",
    "group_chat_created",
    "new_chat_title",
    "pinned_message",
)


def _html(message: dict[str, Any]) -> str:
    if "text" in message:
        return entities_to_html(str(message["text"]), message.get("entities") or [])
    if "caption" in message:
        return entities_to_html(str(message["caption"]), message.get("caption_entities") or [])
    return ""


def _buttons(message: dict[str, Any]) -> list[list[dict[str, Any]]]:
    rows = []
    for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
        cells = []
        for button in row:
            cell: dict[str, Any] = {"text": str(button.get("text", ""))}
            if "callback_data" in button:
                cell["kind"] = "callback"
            elif "url" in button:
                cell["kind"] = "url"
                cell["url"] = str(button["url"])
            else:
                cell["kind"] = "other"
            cells.append(cell)
        rows.append(cells)
    return rows


def _sender(message: dict[str, Any]) -> dict[str, Any]:
    sender = message.get("from") or {}
    name = str(sender.get("first_name", ""))
    if sender.get("last_name"):
        name += f" {sender['last_name']}"
    if message.get("sender_chat"):
        name = str(message["sender_chat"].get("title", name))
    return {"id": sender.get("id"), "name": name, "is_bot": bool(sender.get("is_bot"))}


def _service(message: dict[str, Any]) -> dict[str, Any] | None:
    for key in _SERVICE:
        if key in message:
            value = message[key]
            names = []
            if key == "new_chat_members":
                names = [str(m.get("first_name", "")) for m in value]
            elif key == "left_chat_member":
                names = [str(value.get("first_name", ""))]
            return {"kind": key, "names": names}
    return None


def message_view(stored: StoredMessage, me: int, tz: ZoneInfo) -> dict[str, Any]:
    data = stored.data
    view: dict[str, Any] = {
        "message_id": stored.message_id,
        "from_bot": stored.bot_id is not None,
        "sender": _sender(data),
        "mine": stored.bot_id is None and (data.get("from") or {}).get("id") == me,
        "html": _html(data),
        "buttons": _buttons(data),
        "edited": "edit_date" in data and stored.bot_id is not None,
        "time": datetime.fromtimestamp(int(data.get("date") or 0), tz).strftime("%m-%d %H:%M"),
    }
    if data.get("photo"):
        view["photo"] = data["photo"][-1]["file_id"]
    if isinstance(data.get("document"), dict):
        doc = data["document"]
        view["document"] = {"file_id": doc["file_id"], "name": doc.get("file_name", "")}
    if isinstance(data.get("location"), dict):
        loc = data["location"]
        view["location"] = {"latitude": loc["latitude"], "longitude": loc["longitude"]}
    if isinstance(data.get("contact"), dict):
        view["contact"] = escape(str(data["contact"].get("phone_number", "")))
    reply = data.get("reply_to_message")
    if isinstance(reply, dict):
        quoted = str(reply.get("text") or reply.get("caption") or "")
        view["reply_to"] = {"name": _sender(reply)["name"], "text": quoted[:60]}
    service = _service(data)
    if service is not None:
        view["service"] = service
    return view


def chat_view(world: World, chat: Chat, me: int, tz: ZoneInfo) -> dict[str, Any]:
    """The chat now: its messages (deleted ones left out) and its reply keyboard."""
    messages = [
        message_view(stored, me, tz)
        for _, stored in sorted(chat.messages.items())
        if not stored.deleted
    ]
    keyboard = [
        [
            {
                "text": str(b.get("text", "")) if isinstance(b, dict) else str(b),
                "location": bool(isinstance(b, dict) and b.get("request_location")),
                "contact": bool(isinstance(b, dict) and b.get("request_contact")),
            }
            for b in row
        ]
        for row in (chat.reply_keyboard or {}).get("keyboard", [])
    ]
    return {
        "chat": {"id": chat.id, "type": chat.type, "title": chat_title(world, chat)},
        "messages": messages,
        "keyboard": keyboard,
        "cursor": len(world.log),
    }


def chat_title(world: World, chat: Chat) -> str:
    if chat.type == "private":
        bot = next((b for b in world.bots.values() if b.id == chat.bot_id), None)
        return bot.first_name if bot is not None else "bot"
    return chat.title or str(chat.id)


def concerns(world: World, entry: TranscriptEntry, me: int, bot_id: int) -> bool:
    """Whether a transcript entry is news for that person: their private chat with the bot,
    or a group they are in."""
    if entry.chat_key == (bot_id, me):
        return True
    if entry.chat_key[0] != 0:
        return False
    group = world.groups.get(entry.chat_id)
    return group is not None and group.members.get(me) in (
        "creator",
        "administrator",
        "member",
        "restricted",
    )


def event_of(entry: TranscriptEntry, me: int) -> dict[str, Any]:
    """The SSE payload for one entry: which chat changed, and a press's answer for its presser."""
    out: dict[str, Any] = {"chat_id": entry.chat_id, "kind": entry.kind, "seq": entry.seq}
    if entry.kind == "callback_answer" and entry.detail.get("user_id") == me:
        out["answer"] = entry.detail.get("text") or ""
        out["alert"] = bool(entry.detail.get("show_alert"))
    return out
