"""Plain-text rendering of transcript entries (failure messages, the terminal chat)."""

from __future__ import annotations

from typing import Any


def button_rows(entry: dict[str, Any], numbered: bool = False, start: int = 1) -> list[str]:
    rows = []
    n = start
    for row in entry.get("buttons") or []:
        cells = []
        for b in row:
            label = b.get("text", "")
            cells.append(f"[{n}] {label}" if numbered else f"[{label}]")
            n += 1
        rows.append("  ".join(cells))
    for row in entry.get("keyboard") or []:
        cells = []
        for b in row:
            label = b.get("text", "")
            if b.get("request_location"):
                label += " 📍"
            cells.append(f"<{n}> {label}" if numbered else f"<{label}>")
            n += 1
        rows.append("  ".join(cells))
    return rows


def media_summary(message: dict[str, Any] | None) -> str:
    if not message:
        return ""
    if "photo" in message:
        tag = "[photo]"
        if message.get("media_group_id"):
            tag = f"[photo album {message['media_group_id'][-4:]}]"
        return tag
    if "document" in message:
        doc = message["document"]
        return f"[document {doc.get('file_name', '')} {doc.get('file_size', 0)} bytes]"
    if "location" in message:
        loc = message["location"]
        live = " live" if "live_period" in loc else ""
        fwd = " forwarded" if "forward_origin" in message else ""
        return f"[location{live}{fwd} {loc['latitude']:.5f},{loc['longitude']:.5f}]"
    if "contact" in message:
        return f"[contact {message['contact'].get('phone_number')}]"
    return ""


def render_entry(entry: dict[str, Any]) -> str:
    """One line (plus button rows) for an entry in its ``as_dict()`` form."""
    kind = entry["kind"]
    mid = entry.get("message_id")
    text = entry.get("text") or ""
    message = entry.get("message") or {}
    media = media_summary(message)
    body = " ".join(part for part in (media, text) if part)
    head = f"#{entry['seq']}"
    if kind == "user":
        sender = message.get("from", {})
        who = sender.get("first_name", "?")
        if message.get("sender_chat"):
            who = f"{who} (as {message['sender_chat'].get('title', 'chat')})"
        edited = " (moved)" if entry.get("detail", {}).get("edited") else ""
        line = f"{head} 👤 {who}{edited} [msg {mid}]: {body}"
    elif kind == "press":
        line = f"{head} 👆 press on [msg {mid}] data={entry['detail'].get('data')!r}"
    elif kind == "service":
        fields = [
            k
            for k in message
            if k
            in (
                "new_chat_members",
                "left_chat_member",
                "migrate_to_chat_id",
                "migrate_from_chat_id",
                "group_chat_created",
                "forum_topic_created",
                "forum_topic_edited",
                "forum_topic_closed",
                "forum_topic_reopened",
            )
        ]
        line = f"{head} ⚙️ service [msg {mid}]: {', '.join(fields)}"
    elif kind == "callback_answer":
        detail = entry.get("detail", {})
        alert = " (alert)" if detail.get("show_alert") else ""
        line = f"{head} 💬 answer to press on [msg {mid}]{alert}: {detail.get('text') or ''}"
    elif kind == "reaction":
        detail = entry.get("detail", {})
        who = f"bot {detail['bot_id']}" if detail.get("bot_id") else f"user {detail.get('user_id')}"
        new = "".join(r.get("emoji", "?") for r in detail.get("new") or []) or "(none)"
        line = f"{head} {who} reacts on [msg {mid}]: {new}"
    elif kind in ("deleted", "pinned", "unpinned"):
        line = f"{head} 🤖 {kind} [msg {mid}]" + (f": {body}" if body else "")
    else:
        line = f"{head} 🤖 {kind} [msg {mid}]: {body}"
    rows = button_rows(entry) if kind in ("sent", "edited") else []
    return "\n".join([line, *("      " + r for r in rows)])


def render_transcript(entries: list[dict[str, Any]]) -> str:
    return "\n".join(render_entry(e) for e in entries) or "(nothing in this chat)"
