"""A pool of query processes with a time limit, a memory ceiling and replacement on failure.

Each user query goes to an idle process. When the query passes the time limit, uses more memory
than allowed, or its client goes away, the process is killed (the only way to stop pyoxigraph)
and a fresh one takes its place; the other processes keep answering. When the store is rebuilt
the pool moves to the new snapshot: idle processes are replaced at once, busy ones after their
query.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import struct
import sys
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("ketju.sparql")


class QueryFailed(Exception):
    """The query was stopped; `status` and `message` are what the client is told."""

    def __init__(self, status: int, message: str, reason: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason


@dataclass
class Reply:
    header: dict[str, Any]
    body: bytes


@dataclass(eq=False)
class QueryProcess:
    process: asyncio.subprocess.Process
    store_path: str
    isolated: bool = False
    busy: bool = False
    served: int = 0
    killed: bool = field(default=False)
    over_memory: bool = field(default=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    async def _read(self) -> Reply:
        assert self.process.stdout is not None
        head = await self.process.stdout.readexactly(4)
        header = json.loads(await self.process.stdout.readexactly(struct.unpack(">I", head)[0]))
        size = struct.unpack(">Q", await self.process.stdout.readexactly(8))[0]
        body = await self.process.stdout.readexactly(size) if size else b""
        return Reply(header, body)

    async def ask(self, request: dict[str, Any]) -> Reply:
        assert self.process.stdin is not None
        encoded = json.dumps(request).encode()
        self.process.stdin.write(struct.pack(">I", len(encoded)) + encoded)
        await self.process.stdin.drain()
        return await self._read()

    def kill(self) -> None:
        self.killed = True
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()

    def rss_mb(self) -> float:
        try:
            with open(f"/proc/{self.pid}/statm", encoding="ascii") as statm:
                pages = int(statm.read().split()[1])
        except (OSError, IndexError, ValueError):
            return 0.0
        return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


class QueryPool:
    """Query processes over the store at `store_path()`; `execute` runs one guarded query."""

    def __init__(self, store_path: Any, size: int, memory_mb: int,
                 allow_network: bool = False) -> None:
        self._store_path = store_path
        self.size = max(1, size)
        self.memory_mb = memory_mb
        self.allow_network = allow_network
        self._idle: asyncio.Queue[QueryProcess] = asyncio.Queue()
        self._all: set[QueryProcess] = set()
        self._monitor: asyncio.Task[None] | None = None
        self._spawning = 0
        self.stopped = {"timeout": 0, "memory": 0, "disconnect": 0, "crash": 0}

    async def start(self) -> None:
        await asyncio.gather(*(self._add() for _ in range(self.size)))
        self._monitor = asyncio.create_task(self._watch_memory())

    async def close(self) -> None:
        if self._monitor:
            self._monitor.cancel()
        for process in list(self._all):
            process.kill()
            with contextlib.suppress(Exception):
                await process.process.wait()
        self._all.clear()

    async def _spawn(self) -> QueryProcess:
        path = str(self._store_path())
        env = {**os.environ, "KETJU_WORKER_NETWORK": "1" if self.allow_network else "0"}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ketju.sparql.worker", path,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env,
        )
        worker = QueryProcess(process, path)
        ready = await worker._read()
        worker.isolated = bool(ready.header.get("isolated"))
        return worker

    async def _add(self) -> None:
        self._spawning += 1
        try:
            worker = await self._spawn()
        finally:
            self._spawning -= 1
        self._all.add(worker)
        self._idle.put_nowait(worker)

    def _replace(self, worker: QueryProcess) -> None:
        worker.kill()
        self._all.discard(worker)
        asyncio.get_running_loop().create_task(self._reap_and_add(worker))

    async def _reap_and_add(self, worker: QueryProcess) -> None:
        with contextlib.suppress(Exception):
            await worker.process.wait()
        if len(self._all) + self._spawning < self.size:
            try:
                await self._add()
            except Exception:  # pragma: no cover - logged, the next query retries
                log.exception("could not start a query process")

    async def _acquire(self) -> QueryProcess:
        current = str(self._store_path())
        while True:
            if self._idle.empty() and len(self._all) + self._spawning < self.size:
                asyncio.get_running_loop().create_task(self._add())
            worker = await self._idle.get()
            if worker.killed or worker.process.returncode is not None:
                self._all.discard(worker)
                asyncio.get_running_loop().create_task(self._reap_and_add(worker))
                continue
            if worker.store_path != current:
                # The store was rebuilt: retire the process that reads the old snapshot.
                self._replace(worker)
                continue
            return worker

    async def execute(self, request: dict[str, Any], timeout: float,
                      disconnected: asyncio.Event | None = None) -> Reply:
        worker = await self._acquire()
        worker.busy = True
        task = asyncio.ensure_future(worker.ask(request))
        waits: set[asyncio.Future[Any]] = {task}
        gone: asyncio.Future[Any] | None = None
        if disconnected is not None:
            gone = asyncio.ensure_future(disconnected.wait())
            waits.add(gone)
        try:
            done, _ = await asyncio.wait(waits, timeout=timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            task.cancel()
            self._replace(worker)
            raise
        finally:
            if gone is not None:
                gone.cancel()
        if task in done and task.exception() is None:
            worker.busy = False
            worker.served += 1
            self._idle.put_nowait(worker)
            return task.result()
        task.cancel()
        self._replace(worker)
        if gone is not None and gone in done:
            self.stopped["disconnect"] += 1
            raise QueryFailed(499, "The client went away; the query was stopped.", "disconnect")
        if task in done:
            reason = "memory" if worker.over_memory else "crash"
            self.stopped[reason] += 1
            if reason == "memory":
                raise QueryFailed(503, f"The query needed more than {self.memory_mb} MiB of "
                                       "memory and was stopped. Narrow it down (add LIMIT, "
                                       "fewer variables, more specific patterns).", reason)
            raise QueryFailed(500, "The query process ended unexpectedly; the query was "
                                   "stopped.", reason)
        self.stopped["timeout"] += 1
        raise QueryFailed(503, f"The query ran longer than the time limit of {timeout:g} s and "
                               "was stopped. Narrow it down (add LIMIT, more specific "
                               "patterns) and try again.", "timeout")

    async def _watch_memory(self) -> None:
        while True:
            await asyncio.sleep(0.1)
            for worker in list(self._all):
                if worker.busy and not worker.killed and worker.rss_mb() > self.memory_mb:
                    worker.over_memory = True
                    worker.kill()

    @property
    def processes(self) -> list[QueryProcess]:
        return list(self._all)
