"""Settings: defaults, parsing, and one clear line for a wrong value."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import DEFAULT_DATABASE_URL, SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "BOT_TOKEN",
        "DATABASE_URL",
        "TIMEZONE",
        "ADMIN_IDS",
        "DEFAULT_LANGUAGE",
        "WEBHOOK_URL",
        "WEBHOOK_SECRET",
    ):
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


@pytest.mark.parametrize(
    "secret",
    [
        "short",
        "fifteen-chars-x",  # one short of 16
        "has spaces in the secret",
        "ümlaut-secret-000000",
        "a:b/c+d=e.f~g!hij",
        "x" * 257,
    ],
)
def test_a_webhook_secret_telegram_would_refuse_or_that_is_short_is_refused(
    monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    monkeypatch.setenv("WEBHOOK_SECRET", secret)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith("setting WEBHOOK_SECRET: must be 16 to 256 characters")
    assert "\n" not in message and secret not in message


def test_a_good_webhook_secret_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_URL", "https://grid.example.org/telegram/webhook")
    monkeypatch.setenv("WEBHOOK_SECRET", "Ab0_-" * 3 + "Z")
    assert load_settings().check_webhook() == (
        "https://grid.example.org/telegram/webhook",
        "Ab0_-Ab0_-Ab0_-Z",
    )


@pytest.mark.parametrize("secret", [None, ""])
def test_webhook_mode_needs_the_secret_polling_does_not(
    monkeypatch: pytest.MonkeyPatch, secret: str | None
) -> None:
    monkeypatch.setenv("WEBHOOK_URL", "https://grid.example.org/telegram/webhook")
    if secret is not None:
        monkeypatch.setenv("WEBHOOK_SECRET", secret)  # `WEBHOOK_SECRET=` in .env: unset
    settings = load_settings()  # polling starts without it
    assert settings.webhook_secret is None
    with pytest.raises(SettingsError) as caught:
        settings.check_webhook()
    assert str(caught.value).startswith("setting WEBHOOK_SECRET: required in webhook mode")


def test_cli_refuses_webhook_mode_without_a_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BOT_TOKEN", "123:very-secret")
    monkeypatch.setenv("WEBHOOK_URL", "https://grid.example.org/telegram/webhook")
    assert main(["run", "--webhook"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("gridbot: setting WEBHOOK_SECRET: required") and "\n" not in err


@pytest.mark.parametrize("command", ["run", "demo", "chat", "import", "admin", "db", "tree"])
def test_every_subcommand_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    assert "usage: gridbot " + command in capsys.readouterr().out
