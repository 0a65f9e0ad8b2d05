"""Both languages translate every key, with the same placeholders, and code uses only real keys."""

from __future__ import annotations

import re
from pathlib import Path
from string import Formatter

from babel.messages.pofile import read_po

from bot.i18n import LANGUAGES, LOCALES, Translator, catalog_keys

ROOT = Path(__file__).resolve().parents[2]
CODE_DIRS = ("bot", "handlers", "services", "scheduler", "storage")
# t("key" ...), app.t("key" ...), _t("key" ...): a literal key as the first argument.
KEY_USE = re.compile(r"""\bt\(\s*["']([a-z_]+(?:\.[a-z0-9_]+)+)["']""")


def _catalog(lang: str) -> dict[str, str]:
    messages: dict[str, str] = {}
    for path in sorted((LOCALES / lang / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as fh:
            for m in read_po(fh):
                if m.id:
                    messages[str(m.id)] = str(m.string)
    return messages


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


def test_every_language_has_every_key() -> None:
    keys = {lang: catalog_keys(lang) for lang in LANGUAGES}
    assert keys["zh"] == keys["en"], keys["zh"] ^ keys["en"]


def test_translations_are_not_empty_and_share_placeholders() -> None:
    zh, en = _catalog("zh"), _catalog("en")
    for key in zh:
        assert zh[key].strip(), f"zh {key} is empty"
        assert en[key].strip(), f"en {key} is empty"
        assert _fields(zh[key]) == _fields(en[key]), key


def test_code_uses_only_known_keys() -> None:
    known = catalog_keys("zh")
    used: dict[str, str] = {}
    for folder in CODE_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            for key in KEY_USE.findall(path.read_text(encoding="utf-8")):
                used.setdefault(key, str(path.relative_to(ROOT)))
    missing = {k: where for k, where in used.items() if k not in known}
    assert not missing, missing
    assert len(used) > 10  # the scan itself works


def test_translator_fills_parameters_per_language() -> None:
    t = Translator("zh")
    assert t.t("start.invite_ok", "zh", grid="G", role="R") == "欢迎加入「G」，您的身份：R。"
    assert t.t("start.invite_ok", "en", grid="G", role="R") == "Welcome to G; your role: R."
