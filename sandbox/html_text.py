"""Telegram's HTML parse mode: text + entities, or the error Telegram gives.

It follows the algorithm of Telegram's own parser (TDLib ``parse_html``): the
tags Telegram knows, name tokens and quoted attribute values, the four named
character references (``&lt; &gt; &amp; &quot;``, the ``;`` optional) and numeric
ones, ``</>`` closing whatever is open, and byte offsets in the error messages.
Everything else written with ``&`` stays as it is. Entity offsets and lengths
are in UTF-16 code units, as in the Bot API.
"""

from __future__ import annotations

from typing import Any

SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)

_ENTITY_TYPE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}

_SPACES = b" \t\r\n\f\v"


class HtmlParseError(ValueError):
    """The text after ``Bad Request: can't parse entities: ``."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _decode_entity(data: bytes, pos: int) -> tuple[int, int] | None:
    """(code point, position after it) for a character reference at ``pos``."""
    n = len(data)
    end = pos + 1
    value = 0
    if end < n and data[end : end + 1] == b"#":
        end += 1
        if end < n and data[end : end + 1] == b"x":
            end += 1
            while end < n and chr(data[end]) in "0123456789abcdefABCDEF":
                value = value * 16 + int(chr(data[end]), 16)
                end += 1
                if value >= 0x10FFFF:
                    return None
        else:
            while end < n and 48 <= data[end] <= 57:
                value = value * 10 + data[end] - 48
                end += 1
                if value >= 0x10FFFF:
                    return None
        if value == 0 or end - pos >= 10:
            return None
    else:
        while end < n and chr(data[end]).isascii() and chr(data[end]).isalpha():
            end += 1
        name = data[pos + 1 : end]
        named = {b"lt": "<", b"gt": ">", b"amp": "&", b"quot": '"'}
        if name not in named:
            return None
        value = ord(named[name])
    if end < n and data[end : end + 1] == b";":
        end += 1
    return value, end


def parse_html(markup: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse ``markup`` as Telegram does; raise HtmlParseError as Telegram would."""
    data = markup.encode("utf-8", "surrogatepass")
    n = len(data)

    def at(k: int) -> int:
        return data[k] if k < n else 0

    def is_space(c: int) -> bool:
        return c != 0 and bytes([c]) in _SPACES

    out: list[str] = []
    utf16 = 0
    entities: list[dict[str, Any]] = []
    stack: list[tuple[str, str, int]] = []  # tag, argument, utf16 offset
    i = 0
    while i < n:
        c = data[i]
        if c == ord("&"):
            decoded = _decode_entity(data, i)
            if decoded is not None:
                ch = chr(decoded[0])
                out.append(ch)
                utf16 += utf16_len(ch) if decoded[0] < 0xD800 or decoded[0] > 0xDFFF else 1
                i = decoded[1]
                continue
        if c != ord("<"):
            # copy one whole UTF-8 character
            j = i + 1
            while j < n and (data[j] & 0xC0) == 0x80:
                j += 1
            ch = data[i:j].decode("utf-8", "surrogatepass")
            out.append(ch)
            utf16 += utf16_len(ch)
            i = j
            continue
        begin = i
        i += 1
        if at(i) != ord("/"):
            while at(i) != 0 and not is_space(at(i)) and at(i) != ord(">"):
                i += 1
            if at(i) == 0:
                raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")
            tag = data[begin + 1 : i].decode("utf-8", "replace").lower()
            if tag not in SUPPORTED_TAGS:
                raise HtmlParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
            argument = ""
            while at(i) != ord(">"):
                while is_space(at(i)):
                    i += 1
                if at(i) == ord(">"):
                    break
                name_begin = i
                while at(i) != 0 and not is_space(at(i)) and at(i) not in (ord("="), ord(">")):
                    i += 1
                attr = data[name_begin:i].decode("utf-8", "replace")
                if not attr:
                    raise HtmlParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset {begin}'
                    )
                while is_space(at(i)):
                    i += 1
                if at(i) != ord("="):
                    if at(i) == 0:
                        raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                    continue
                i += 1
                while is_space(at(i)):
                    i += 1
                if at(i) == 0:
                    raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                value_chars: list[str] = []
                if at(i) not in (ord("'"), ord('"')):
                    token_begin = i
                    while at(i) != 0 and (
                        (chr(at(i)).isascii() and chr(at(i)).isalnum())
                        or at(i) in (ord("."), ord("-"))
                    ):
                        i += 1
                    value = data[token_begin:i].decode("ascii").lower()
                    if not is_space(at(i)) and at(i) != ord(">"):
                        raise HtmlParseError(
                            f"Unexpected end of name token at byte offset {token_begin}"
                        )
                else:
                    quote = at(i)
                    i += 1
                    raw = bytearray()
                    while at(i) != 0 and at(i) != quote:
                        if at(i) == ord("&"):
                            decoded = _decode_entity(data, i)
                            if decoded is not None:
                                raw += chr(decoded[0]).encode("utf-8", "surrogatepass")
                                i = decoded[1]
                                continue
                        raw.append(at(i))
                        i += 1
                    if at(i) == quote:
                        i += 1
                    value_chars.append(raw.decode("utf-8", "replace"))
                    value = "".join(value_chars)
                if at(i) == 0:
                    raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")
                if tag == "a" and attr == "href":
                    argument = value
                elif tag == "code" and attr == "class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and attr == "class" and value.startswith("tg-"):
                    argument = value[3:]
                elif tag == "tg-emoji" and attr == "emoji-id":
                    argument = value
            if tag == "span" and argument != "spoiler":
                raise HtmlParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {begin}'
                )
            stack.append((tag, argument, utf16))
            i += 1  # past '>'
        else:
            if not stack:
                raise HtmlParseError(f"Unexpected end tag at byte offset {begin}")
            while at(i) != 0 and not is_space(at(i)) and at(i) != ord(">"):
                i += 1
            end_name = data[begin + 2 : i].decode("utf-8", "replace")
            while is_space(at(i)):
                i += 1
            if at(i) != ord(">"):
                raise HtmlParseError(f"Unclosed end tag at byte offset {begin}")
            tag, argument, offset = stack[-1]
            if end_name and end_name != tag:
                raise HtmlParseError(
                    f'Unmatched end tag at byte offset {begin}, expected "</{tag}>", '
                    f'found "</{end_name}>"'
                )
            stack.pop()
            i += 1
            length = utf16 - offset
            if length > 0:
                entity = _entity(tag, argument, offset, length, "".join(out), utf16)
                if not _merge_pre_code(entities, entity, tag, argument):
                    entities.append(entity)
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    text = "".join(out)
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        raise HtmlParseError(
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units"
        )
    entities = [{k: v for k, v in e.items() if k != "_language"} for e in entities if e]
    entities.sort(key=lambda e: (e["offset"], -e["length"], _PRIORITY.get(e["type"], 50)))
    return text, entities


_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}


def _merge_pre_code(
    entities: list[dict[str, Any]], entity: dict[str, Any], tag: str, argument: str
) -> bool:
    """<pre><code class="language-x"> (either nesting) is one pre entity with a language."""
    if tag not in ("pre", "code") or not entities:
        return False
    last = entities[-1]
    if (last["offset"], last["length"]) != (entity["offset"], entity["length"]):
        return False
    if tag == "pre" and last["type"] == "code" and last.get("_language"):
        entities[-1] = {**entity, "language": last["_language"]}
        return True
    if tag == "code" and last["type"] == "pre" and argument:
        last["language"] = argument
        return True
    return False


def _entity(
    tag: str, argument: str, offset: int, length: int, text: str, end: int
) -> dict[str, Any]:
    if tag == "a":
        url = argument
        if not url:
            # <a>telegram.org</a> links to its own text when that is a URL
            data = text.encode("utf-16-le")[offset * 2 : end * 2].decode("utf-16-le")
            url = data if "." in data and not any(ch.isspace() for ch in data) else ""
        if not url:
            return {}
        if url.startswith("tg://user?id="):
            return {
                "type": "text_mention",
                "offset": offset,
                "length": length,
                "user": {"id": int(url.split("=", 1)[1] or 0), "is_bot": False, "first_name": ""},
            }
        if "://" not in url:
            url = "http://" + url
        if url.count("/") == 2:
            url += "/"
        return {"type": "text_link", "offset": offset, "length": length, "url": url}
    if tag == "tg-emoji":
        return {
            "type": "custom_emoji",
            "offset": offset,
            "length": length,
            "custom_emoji_id": argument,
        }
    entity: dict[str, Any] = {"type": _ENTITY_TYPE[tag], "offset": offset, "length": length}
    if tag == "code" and argument:
        entity["_language"] = argument  # merged into an enclosing pre, else dropped
    return entity


def strip_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Trim leading and trailing white space, as Telegram does, moving entities along."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    out: list[dict[str, Any]] = []
    for e in entities:
        start = max(e["offset"] - lead, 0)
        end = min(e["offset"] + e["length"] - lead, total)
        if end > start:
            out.append({**e, "offset": start, "length": end - start})
    return stripped, out


def entities_to_html(text: str, entities: list[dict[str, Any]]) -> str:
    """A plain rendering back to HTML (escaped), enough for transcripts."""
    return escape(text) if not entities else _render(text, entities)


def _render(text: str, entities: list[dict[str, Any]]) -> str:
    units = text.encode("utf-16-le")
    opens: dict[int, list[str]] = {}
    closes: dict[int, list[str]] = {}
    names = {
        "bold": "b",
        "italic": "i",
        "underline": "u",
        "strikethrough": "s",
        "spoiler": "tg-spoiler",
        "code": "code",
        "pre": "pre",
        "blockquote": "blockquote",
    }
    for e in entities:
        tag = names.get(e["type"])
        if tag is None and e["type"] == "text_link":
            opens.setdefault(e["offset"], []).append(f'<a href="{escape(e["url"])}">')
            closes.setdefault(e["offset"] + e["length"], []).insert(0, "</a>")
            continue
        if tag is None:
            continue
        opens.setdefault(e["offset"], []).append(f"<{tag}>")
        closes.setdefault(e["offset"] + e["length"], []).insert(0, f"</{tag}>")
    out: list[str] = []
    pos = 0
    total = len(units) // 2
    while pos <= total:
        out.extend(closes.get(pos, []))
        out.extend(opens.get(pos, []))
        if pos == total:
            break
        step = 2 if 0xD800 <= int.from_bytes(units[pos * 2 : pos * 2 + 2], "little") < 0xDC00 else 1
        out.append(escape(units[pos * 2 : (pos + step) * 2].decode("utf-16-le")))
        pos += step
    return "".join(out)
