"""A throwaway PostgreSQL server for the storage tests that need a real one.

`python3 dev.py test` starts it when PostgreSQL's server programs are on the machine (CI
installs them) and passes its URL to pytest as GRIDBOT_TEST_PG_URL. It lives in a temporary
folder, listens on loopback only, trusts local connections (no password exists to leak), keeps
its clock in Asia/Shanghai rather than UTC, and is stopped after the run.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgServer:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="gridbot-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self.as_root = os.geteuid() == 0

    def _run(self, *cmd: str) -> None:
        if self.as_root:  # PostgreSQL refuses to run as root
            cmd = ("runuser", "-u", "postgres", "--", *cmd)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

    def start(self) -> str:
        initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
        if initdb is None or pg_ctl is None:
            raise FileNotFoundError("PostgreSQL server programs not found")
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self._run(
            pg_ctl,
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "log"),
            "-w",
            "start",
            "-o",
            # Not UTC, as a server set up where the bot is deployed may well be: a query that
            # leaned on the server's zone (a cast to date, now()) would show it here.
            f"-h 127.0.0.1 -p {self.port} -k {self.dir} -F -c timezone=Asia/Shanghai",
        )
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        pg_ctl = _bin("pg_ctl")
        if pg_ctl and self.data.exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self._run(pg_ctl, "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)
