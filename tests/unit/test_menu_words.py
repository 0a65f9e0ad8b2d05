"""A menu button matched by a magic filter over `menu_words` takes the texts the function
it replaced took (`message.text in menu_texts(app.translator, key)`), and no others."""

from __future__ import annotations

import pytest
from aiogram import F
from aiogram.types import Message

from bot.i18n import LANGUAGES, Translator
from bot.keyboards import MENU_KEYS, menu_texts, menu_words


@pytest.mark.parametrize("default", LANGUAGES)
@pytest.mark.parametrize("key", MENU_KEYS)
def test_menu_words_are_the_apps_menu_texts(default: str, key: str) -> None:
    t = Translator(default)
    assert menu_words(key) == menu_texts(t, key)
    matches = F.text.in_(menu_words(key))
    texts = [None, "", "/report", "hello", *(w for k in MENU_KEYS for w in menu_words(k))]
    for text in texts:
        content: dict[str, object] = {"text": text} if text is not None else {"photo": []}
        message = Message.model_validate(
            {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, **content}
        )
        was = message.text is not None and message.text in menu_texts(t, key)
        assert bool(matches.resolve(message)) is was, (key, text)
