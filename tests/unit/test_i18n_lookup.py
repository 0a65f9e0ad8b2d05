"""`Translator.t` looking the key up in the catalogue gives what gettext gave, for every key
of every language, for a key no catalogue has, and in a locale there is none of."""

from __future__ import annotations

import pytest

from bot.i18n import LANGUAGES, Translator, catalog_keys


def _old(t: Translator, key: str, locale: str | None) -> str:
    return t.gettext(key, locale=locale)


@pytest.mark.parametrize("default", LANGUAGES)
def test_every_key_reads_as_gettext_gives_it(default: str) -> None:
    t = Translator(default)
    keys = sorted(set().union(*(catalog_keys(lang) for lang in LANGUAGES)))
    assert len(keys) > 100
    for key in [*keys, "no.such.key", ""]:
        for locale in [*LANGUAGES, "fr", None]:
            assert t.t(key, locale) == _old(t, key, locale), (key, locale)


def test_params_are_filled_as_before() -> None:
    t = Translator()
    for lang in LANGUAGES:
        text = t.t("report.ask_photos", lang, n=2, limit=10)
        assert text == _old(t, "report.ask_photos", lang).format(n=2, limit=10)
