"""Real servers for the tests: `ketju serve` and `oxigraph serve-read-only`, on free ports."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code < 500:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not come up")


class Server:
    def __init__(self, base: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.base = base
        self.process = process
        self.log = log

    @property
    def sparql(self) -> str:
        return self.base + "/sparql"

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def _stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def ketju_server(home: Path, log_dir: Path, **settings: object) -> Iterator[Server]:
    """`ketju serve --no-build` over the project at `home`, with KETJU_* settings."""
    port = free_port()
    env = {**os.environ, "KETJU_HOME": str(home)}
    for key, value in settings.items():
        env[f"KETJU_{key.upper()}"] = ",".join(value) if isinstance(value, tuple | list) \
            else str(value)
    log = log_dir / f"ketju-{port}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(BIN / "ketju"), "serve", "--no-build", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
        yield Server(f"http://127.0.0.1:{port}", process, log)
    finally:
        _stop(process)


@contextlib.contextmanager
def oxigraph_server(store: Path, log_dir: Path) -> Iterator[Server]:
    """The reference engine: `oxigraph serve-read-only` on a copy of a built store."""
    port = free_port()
    copy = log_dir / f"oxigraph-store-{port}"
    shutil.copytree(store, copy)
    log = log_dir / f"oxigraph-{port}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(BIN / "oxigraph"), "serve-read-only", "--location", str(copy),
             "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/query?query=ASK%7B%7D", process)
        yield Server(f"http://127.0.0.1:{port}", process, log)
    finally:
        _stop(process)
