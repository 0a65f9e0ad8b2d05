"""Telegram's HTML parse mode, checked against cases from Telegram's own parser tests."""

from __future__ import annotations

import pytest

from sandbox.html_text import HtmlParseError, entities_to_html, parse_html, strip_text

ERRORS = [
    ("🏟 🏟&lt;<abacaba", "Unclosed start tag at byte offset 13"),
    ("🏟 🏟&lt;<abac aba>", 'Unsupported start tag "abac" at byte offset 13'),
    ("🏟 🏟&lt;<i   =aba>", 'Empty attribute name in the tag "i" at byte offset 13'),
    ("🏟 🏟&lt;<i    aba>", 'Can\'t find end tag corresponding to start tag "i"'),
    ("🏟 🏟&lt;<i    aba  =  ", 'Unclosed start tag "i" at byte offset 13'),
    ("🏟 🏟&lt;<i    aba  =  190azAz-.,", "Unexpected end of name token at byte offset 27"),
    ('🏟 🏟&lt;<i    aba  =  "&lt;&gt;&quot;>', "Unclosed start tag at byte offset 13"),
    ("🏟 🏟&lt;</", "Unexpected end tag at byte offset 13"),
    ("🏟 🏟&lt;<b></b></", "Unexpected end tag at byte offset 20"),
    ("🏟 🏟&lt;<i>a</i   ", "Unclosed end tag at byte offset 17"),
    ("🏟 🏟&lt;<i>a</em   >", 'Unmatched end tag at byte offset 17, expected "</i>", found "</em>"'),
    ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
]


@pytest.mark.parametrize(("markup", "error"), ERRORS)
def test_errors(markup: str, error: str) -> None:
    with pytest.raises(HtmlParseError) as info:
        parse_html(markup)
    assert str(info.value) == error


OK = [
    ("&ge;&lt;&gt;&amp;&quot;&laquo;&raquo;&#12345678;", '&ge;<>&"&laquo;&raquo;&#12345678;', []),
    (
        "➡️ ➡️<i>➡️ ➡️</i><b>➡️ ➡️</b>",
        "➡️ ➡️➡️ ➡️➡️ ➡️",
        [{"type": "italic", "offset": 5, "length": 5}, {"type": "bold", "offset": 10, "length": 5}],
    ),
    (
        "🏟 🏟<i>🏟 &gt;<b aba   =   caba>&lt🏟</b></i>",
        "🏟 🏟🏟 ><🏟",
        [{"type": "italic", "offset": 5, "length": 7}, {"type": "bold", "offset": 9, "length": 3}],
    ),
    ("🏟 🏟&lt;<i>🏟 🏟&lt;</>", "🏟 🏟<🏟 🏟<", [{"type": "italic", "offset": 6, "length": 6}]),
    (
        "<a href=telegram.org> </a>",
        " ",
        [{"type": "text_link", "offset": 0, "length": 1, "url": "http://telegram.org/"}],
    ),
    ("<a>telegram.org </a>", "telegram.org ", []),
    ('<span class="tg-spoiler">s</span>', "s", [{"type": "spoiler", "offset": 0, "length": 1}]),
    (
        "<pre><code>x</code></pre>",
        "x",
        [{"type": "pre", "offset": 0, "length": 1}, {"type": "code", "offset": 0, "length": 1}],
    ),
    ("🏟 🏟&lt;<b></b>", "🏟 🏟<", []),
]


@pytest.mark.parametrize(("markup", "text", "entities"), OK)
def test_parses(markup: str, text: str, entities: list[dict]) -> None:
    assert parse_html(markup) == (text, entities)


def test_strip_moves_entities() -> None:
    text, entities = parse_html("  <b>粗</b> 体  ")
    assert strip_text(text, entities) == ("粗 体", [{"type": "bold", "offset": 0, "length": 1}])


def test_round_trip_to_html() -> None:
    text, entities = parse_html("<b>a&lt;b</b> <i>c</i>")
    assert entities_to_html(text, entities) == "<b>a&lt;b</b> <i>c</i>"


@pytest.mark.parametrize(
    "markup",
    [
        '<pre><code class="language-fift">x</code></pre>',
        '<code class="language-fift"><pre>x</pre></code>',
    ],
)
def test_pre_code_with_language_merge(markup: str) -> None:
    assert parse_html(markup) == (
        "x",
        [{"type": "pre", "offset": 0, "length": 1, "language": "fift"}],
    )
