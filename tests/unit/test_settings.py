"""Settings: defaults, parsing, and one clear line for a wrong value."""

from __future__ import annotations

import pytest

from bot.cli import main
from bot.settings import DEFAULT_DATABASE_URL, SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: pytest.TempPathFactory) -> None:
    for name in ("BOT_TOKEN", "DATABASE_URL", "TIMEZONE", "ADMIN_IDS", "DEFAULT_LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults() -> None:
    s = load_settings()
    assert s.bot_token is None
    assert s.database_url == DEFAULT_DATABASE_URL
    assert s.timezone == "Asia/Shanghai" and s.tz.key == "Asia/Shanghai"
    assert s.default_language == "zh"


def test_admin_ids_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_IDS", "7500000001, 800000001")
    assert load_settings().admin_ids == frozenset({7500000001, 800000001})


def test_token_is_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", "123:very-secret")
    s = load_settings()
    assert "very-secret" not in repr(s) and "very-secret" not in str(s)
    assert s.bot_token is not None and s.bot_token.get_secret_value() == "123:very-secret"


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("TIMEZONE", "Mars/Olympus", "TIMEZONE"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL"),
        ("ADMIN_IDS", "12,abc", "ADMIN_IDS"),
        ("DEFAULT_LANGUAGE", "fr", "DEFAULT_LANGUAGE"),
    ],
)
def test_a_wrong_setting_is_named_in_one_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, named: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert named in message and "\n" not in message


def test_cli_stops_with_the_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TIMEZONE", "Nowhere/City")
    assert main(["tree"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("gridbot: setting TIMEZONE") and "\n" not in err


@pytest.mark.parametrize("command", ["run", "demo", "chat", "import", "admin", "db", "tree"])
def test_every_subcommand_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    assert "usage: gridbot " + command in capsys.readouterr().out
