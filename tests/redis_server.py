"""A throwaway Redis server for the tests that need a real one (Debian's `redis-server`).

Started by the test that asks for it (`running_redis()` below), on a free loopback
port, in a temporary folder, with nothing saved to disk; stopped after the test. Without the
program the test is skipped, saying so (`.ci/run` installs it when missing).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

START_TIMEOUT_S = 20.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="gridbot-redis-"))
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> str:
        program = shutil.which("redis-server")
        if program is None:
            raise FileNotFoundError("redis-server not found")
        self.proc = subprocess.Popen(
            [program, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
            stdout=(self.dir / "log").open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:  # a server starting up: nothing to be told by
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited: {(self.dir / 'log').read_text()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock,
            ):
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return self.url
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("redis-server did not answer PING in time")

    def stop(self, *, for_good: bool = True) -> None:
        """Stop the server; `for_good=False` keeps its folder and port for a `start()` again."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if for_good:
            shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def running_redis() -> Iterator[RedisServer]:
    """A fresh Redis server (its `url`), stopped at the end; the test is skipped without
    `redis-server`. A test module makes it a fixture:

        @pytest.fixture
        def redis_url() -> Iterator[str]:
            with running_redis() as server:
                yield server.url
    """
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (Debian's redis-server; .ci/run installs it)")
    server = RedisServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()
