#!/usr/bin/env python3
"""Set up and run gridbot with nothing but Python 3.11.

    python3 dev.py start   # set up, then run the bot (the local demo when BOT_TOKEN is unset)
    python3 dev.py test    # set up, then lint, check the format, type-check and run every test:
                           # all on SQLite, and tests/storage + tests/e2e on a throwaway
                           # PostgreSQL server, the two passes side by side
                           # (--serial, --sqlite, --postgres: see tests/README.md)

Set-up makes `.venv/` and installs the project with its dev tools; it is skipped when
pyproject.toml has not changed since the last set-up.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".gridbot-installed"


def run(*cmd: str | Path) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], cwd=ROOT, check=True)


def setup() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036  (this file runs before the venv exists)
        sys.exit("gridbot needs Python 3.11 or newer")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        venv.create(VENV, with_pip=True)
    run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", ".[dev,postgres,redis]")
    STAMP.write_text(wanted)


def start(extra: list[str]) -> int:
    setup()
    if os.environ.get("BOT_TOKEN") or _dotenv_has_token():
        run(BIN / "gridbot", "db", "upgrade")
        return subprocess.call([str(BIN / "gridbot"), "run", *extra], cwd=ROOT)
    return subprocess.call([str(BIN / "gridbot"), "demo", *extra], cwd=ROOT)


def _dotenv_has_token() -> bool:
    env = ROOT / ".env"
    if not env.exists():
        return False
    return any(
        line.strip().startswith("BOT_TOKEN=") and line.split("=", 1)[1].strip()
        for line in env.read_text().splitlines()
    )


PG_PASS_PATHS = ("tests/storage", "tests/e2e")


def test(extra: list[str]) -> int:
    """Lint, then the SQLite pass of every test and the PostgreSQL pass of tests/storage and
    tests/e2e, side by side (`--serial`: one after the other; `--sqlite` / `--postgres`: that
    pass alone). Other arguments go to pytest."""
    setup()
    flags = {"--serial", "--sqlite", "--postgres"}
    serial, only_sqlite, only_pg = (f in extra for f in ("--serial", "--sqlite", "--postgres"))
    extra = [a for a in extra if a not in flags]
    run(BIN / "ruff", "check", ".")
    run(BIN / "ruff", "format", "--check", ".")
    run(BIN / "mypy")
    env = dict(os.environ)
    server = None if only_sqlite else _postgres()
    if server is not None:
        env["GRIDBOT_TEST_PG_URL"] = server[1]
    elif only_pg:
        return 1
    try:
        passes: list[tuple[str, list[str], dict[str, str]]] = []
        if not only_pg:
            passes.append(("SQLite", extra, {**env, "GRIDBOT_TEST_DB": "sqlite"}))
        if server is not None:
            # Paths given on the command line narrow the PostgreSQL pass too.
            chosen = extra if any(Path(a.split("::")[0]).exists() for a in extra) else None
            pg_args = chosen if chosen is not None else [*PG_PASS_PATHS, *extra]
            passes.append(("PostgreSQL", pg_args, {**env, "GRIDBOT_TEST_DB": "postgres"}))
        return _run_passes(passes, serial=serial)
    finally:
        if server is not None:
            server[0].stop()


def _run_passes(passes: list[tuple[str, list[str], dict[str, str]]], *, serial: bool) -> int:
    """Each pass is one pytest process. Side by side, the first streams its output and the
    second's is shown when both have ended, so the two never interleave."""
    import tempfile

    codes: dict[str, int] = {}
    if serial or len(passes) == 1:
        for name, args, env in passes:
            print(f"=== {name} pass: pytest {' '.join(args)}", flush=True)
            codes[name] = subprocess.call([str(BIN / "pytest"), *args], cwd=ROOT, env=env)
    else:
        (first, first_args, first_env), (second, second_args, second_env) = passes
        with tempfile.TemporaryFile() as log:
            proc = subprocess.Popen(
                [str(BIN / "pytest"), *second_args],
                cwd=ROOT,
                env=second_env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            print(f"=== {first} pass: pytest {' '.join(first_args)}", flush=True)
            codes[first] = subprocess.call(
                [str(BIN / "pytest"), *first_args], cwd=ROOT, env=first_env
            )
            codes[second] = proc.wait()
            log.seek(0)
            print(f"=== {second} pass: pytest {' '.join(second_args)}", flush=True)
            sys.stdout.buffer.write(log.read())
            sys.stdout.flush()
    for name, code in codes.items():
        print(f"=== {name} pass: {'passed' if code == 0 else f'FAILED (exit {code})'}", flush=True)
    return next((code for code in codes.values() if code != 0), 0)


def _postgres():  # type: ignore[no-untyped-def]
    """Start a throwaway PostgreSQL for the tests that need one, if the machine has it."""
    sys.path.insert(0, str(ROOT))
    from tests.pg_server import PgServer

    server = PgServer()
    try:
        url = server.start()
    except (FileNotFoundError, subprocess.CalledProcessError) as exc:
        print(f"PostgreSQL tests will be skipped: {exc}", flush=True)
        server.stop()
        return None
    print(f"PostgreSQL for the tests on port {server.port}", flush=True)
    return server, url


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("start", "test", "setup"):
        print(__doc__)
        return 2
    command, extra = sys.argv[1], sys.argv[2:]
    if command == "setup":
        setup()
        return 0
    try:
        return start(extra) if command == "start" else test(extra)
    except subprocess.CalledProcessError as exc:
        return exc.returncode or 1


if __name__ == "__main__":
    sys.exit(main())
