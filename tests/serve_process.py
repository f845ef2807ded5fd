"""``gongkai serve`` as a process of its own, as an operator starts it, for the tests that
kill it, run two of it, or read its exit status."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CLI = "import sys; from api.cli.main import main; sys.exit(main(sys.argv[1:]))"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve_env(tmp_path: Path) -> dict[str, str]:
    """The machine's environment without its GONGKAI_* settings, the sealer off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGKAI_")}
    env["GONGKAI_CHECKPOINT_INTERVAL"] = "0"
    env["GONGKAI_KEYS_DIR"] = str(tmp_path / "keys")
    return env


def get_json(url: str, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def post_json(url: str, body: Any, headers: dict[str, str]) -> Any:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


class Server:
    """One ``gongkai serve`` process; its stderr goes to ``log``."""

    def __init__(self, url: str, tmp_path: Path, args: Sequence[str] = (), name: str = "") -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / f"serve{name}-{self.port}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-c", CLI, "serve", "--db", url, "--port", str(self.port), *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=serve_env(tmp_path),
            )

    def wait_until_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited {self.process.returncode}: {self.output()}")
            try:
                get_json(self.base + "/healthz")
                return
            except (OSError, urllib.error.URLError):
                time.sleep(0.05)
        raise AssertionError(f"serve did not answer within {timeout} s: {self.output()}")

    def health(self) -> Any:
        return get_json(self.base + "/healthz")

    def wait_until_current(self, community: str = "tianhai", timeout: float = 60) -> Any:
        """/healthz, once it says the read models of ``community`` are not behind."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            health = self.health()
            if health["read_models"][community]["behind"] == 0:
                return health
            time.sleep(0.05)
        raise AssertionError(f"read models still behind after {timeout} s: {self.health()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it; its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode


@contextmanager
def serving(
    url: str, tmp_path: Path, args: Sequence[str] = (), name: str = ""
) -> Iterator[Server]:
    server = Server(url, tmp_path, args, name)
    try:
        server.wait_until_up()
        yield server
    finally:
        server.stop()
