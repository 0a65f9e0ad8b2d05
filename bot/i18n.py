"""Translations: gettext catalogues in `bot/locales/<lang>/LC_MESSAGES/gridbot.po`.

Message ids are stable keys ("start.stranger"); both zh and en catalogues translate every key.
Each feature keeps its own file (`start.po`, `cases.po`, ...); all files of a language are
merged and compiled in memory at start-up, so there is no build step and no stale .mo.
"""

from __future__ import annotations

import gettext
import io
from pathlib import Path
from typing import Any, Protocol

from aiogram.utils.i18n import I18n
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES = Path(__file__).with_name("locales")
DOMAIN = "gridbot"
LANGUAGES = ("zh", "en")


def _po_files(lang: str) -> list[Path]:
    return sorted((LOCALES / lang / "LC_MESSAGES").glob("*.po"))


def _compile(lang: str) -> gettext.GNUTranslations:
    merged = Catalog(locale=lang, domain=DOMAIN)
    for po_path in _po_files(lang):
        with po_path.open("rb") as fh:
            for message in read_po(fh, locale=lang):
                if message.id:
                    merged[message.id] = message
    buffer = io.BytesIO()
    write_mo(buffer, merged)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


class Translates(Protocol):
    """What wording a text needs: `AppContext` (in the default language when none is given)
    and the tests' fakes provide it."""

    def t(self, key: str, language: str | None = None, /, **params: Any) -> str: ...


class Translator(I18n):
    """aiogram's I18n, reading .po files directly."""

    def __init__(self, default_locale: str = "zh") -> None:
        super().__init__(path=LOCALES, default_locale=default_locale, domain=DOMAIN)

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        return {lang: _compile(lang) for lang in LANGUAGES}

    def t(self, key: str, locale: str | None = None, /, **params: Any) -> str:
        """Translate `key` in `locale` (default: the current one) and fill `{params}`."""
        # What gettext finds first, the key in the locale's catalogue, looked up here: every
        # text of every answer comes through, and the two gettext layers cost more than the
        # look-up. Anything else (no locale given, a key not there) goes to gettext itself.
        catalog = self.locales.get(locale) if locale is not None else None
        text = catalog._catalog.get(key) if catalog is not None else None  # type: ignore[attr-defined]
        if text is None:
            text = self.gettext(key, locale=locale)
        return text.format(**params) if params else text


def catalog_keys(lang: str) -> set[str]:
    keys: set[str] = set()
    for po_path in _po_files(lang):
        with po_path.open("rb") as fh:
            keys |= {str(m.id) for m in read_po(fh) if m.id}
    return keys
