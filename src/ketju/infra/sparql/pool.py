"""A pool of query processes: time limit, memory ceiling, bounded wait, and a process kept for
short queries.

Each user query runs in a process of its own (worker.py) that the pool kills when the query
passes the time limit, uses more memory than allowed, or its client goes away (the only way to
stop pyoxigraph); a fresh process takes its place and the others keep answering. When the store
is rebuilt the pool moves to the new snapshot: a process that reads the old one is replaced when
it is next handed out or comes back from its query.

Scheduling, so that cheap queries are not starved by expensive ones (pyoxigraph cannot pause or
pre-empt a query, so cost is only learnt by running):

- `size` general processes run queries to the end (up to the time limit), first come, first
  served.
- One more process, the reserve, runs a query only when it has waited `RESERVE_AFTER` for a
  general process (all of them stayed busy), and only for `RESERVE_SECONDS`: a query still
  running then is stopped there (the process is replaced, which takes about 0.3 s) and waits
  for a general process again, in its place by arrival. Queries waiting for the reserve get
  it newest first: a query that has just arrived is the likeliest to be cheap, the oldest ones
  will mostly be the ones that time out anyway ("adaptive LIFO"). So while runaway queries hold
  every general process, a cheap query still runs within about two seconds (its wait, one
  reserve turn and a restart) of arriving; a client that goes away while its query waits is
  noticed when a process is handed to it.
- The wait for a process is bounded (`queue_timeout`, counted from arrival, turns on the reserve
  included): past it the query is answered 503 with Retry-After instead of queueing without end.
- How many queries one client may have running or waiting is capped by the endpoint
  (`max_client_queries`), so one client cannot hold every process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ketju.infra.sparql.worker import MIN_STACK

log = logging.getLogger("ketju.sparql")

#: How long a query may run on the reserve process before it is moved off it.
RESERVE_SECONDS = 1.0
#: How long a query waits for a general process before it may take the reserve: under a load
#: of cheap queries the general processes free up sooner, and the reserve stays out of the way
#: (a fourth busy process on two cores cost about 10 % of throughput).
RESERVE_AFTER = 0.25
#: Seconds a client is asked to wait before retrying when no process was free in time.
RETRY_AFTER = 2


class QueryFailed(Exception):
    """The query was stopped; `status` and `message` are what the client is told, with a
    Retry-After header when `retry_after` is set."""

    def __init__(self, status: int, message: str, reason: str,
                 retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason
        self.retry_after = retry_after


@dataclass
class Reply:
    header: dict[str, Any]
    body: bytes


@dataclass(eq=False)
class QueryProcess:
    process: asyncio.subprocess.Process
    store_path: str
    reserve: bool = False
    isolated: bool = False
    busy: bool = False
    served: int = 0
    killed: bool = field(default=False)
    over_memory: bool = field(default=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return not self.killed and self.process.returncode is None

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


@dataclass(eq=False)
class _Waiter:
    future: asyncio.Future[QueryProcess]
    may_reserve: bool
    arrival: float


class _MovedOffReserve(Exception):
    """The query passed RESERVE_SECONDS on the reserve process and must wait for another."""


class QueryPool:
    """Query processes over the store at `store_path()` (None: processes that only check
    queries); `execute` runs one guarded query."""

    def __init__(self, store_path: Callable[[], Any] | None, size: int, memory_mb: int, *,
                 network: bool = False, reserve: bool = False, queue_timeout: float = 5.0,
                 stack: int = MIN_STACK) -> None:
        self._store_path = store_path
        self.size = max(1, size)
        self.memory_mb = memory_mb
        self.network = network
        self.reserve = reserve
        self.queue_timeout = queue_timeout
        self.stack = stack
        self._all: set[QueryProcess] = set()
        self._idle: list[QueryProcess] = []
        self._reserve_idle: QueryProcess | None = None
        self._waiters: list[_Waiter] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        self.stopped = {"timeout": 0, "memory": 0, "disconnect": 0, "crash": 0, "queue": 0}
        self.moved_off_reserve = 0

    # -- processes --------------------------------------------------------------------------

    async def start(self) -> None:
        roles = [False] * self.size + ([True] if self.reserve else [])
        workers = await asyncio.gather(*(self._spawn(role) for role in roles))
        for worker in workers:
            self._all.add(worker)
            self._release(worker)
        self._background(self._watch_memory())

    async def close(self) -> None:
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        for process in list(self._all):
            process.kill()
            with contextlib.suppress(ProcessLookupError, ChildProcessError):
                await process.process.wait()
        self._all.clear()

    def _background(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _current_path(self) -> str:
        return "-" if self._store_path is None else str(self._store_path())

    async def _spawn(self, reserve: bool) -> QueryProcess:
        path = self._current_path()
        env = {**os.environ, "KETJU_WORKER_NETWORK": "1" if self.network else "0"}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ketju.infra.sparql.worker", path, str(self.stack),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env,
        )
        worker = QueryProcess(process, path, reserve=reserve)
        try:
            ready = await worker._read()
        except (asyncio.IncompleteReadError, ValueError):
            worker.kill()
            raise OSError("a query process did not start") from None
        worker.isolated = bool(ready.header.get("isolated"))
        return worker

    def _replace(self, worker: QueryProcess) -> None:
        worker.kill()
        if worker not in self._all:
            return  # already being replaced
        self._all.discard(worker)
        if not self._closed:
            self._background(self._respawn(worker))

    async def _respawn(self, old: QueryProcess) -> None:
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            await old.process.wait()
        while not self._closed:
            try:
                worker = await self._spawn(old.reserve)
            except OSError:
                log.exception("could not start a query process; trying again in 1 s")
                await asyncio.sleep(1.0)
                continue
            if self._closed:
                worker.kill()
                return
            self._all.add(worker)
            self._release(worker)
            return

    @property
    def processes(self) -> list[QueryProcess]:
        return list(self._all)

    @property
    def isolated(self) -> bool:
        """Every process of the pool runs without network."""
        return bool(self._all) and all(p.isolated for p in self._all)

    # -- handing processes out ----------------------------------------------------------------

    def _usable(self, worker: QueryProcess) -> bool:
        """False (and the process is being replaced) when it died or reads an old store."""
        if not worker.alive or worker.store_path != self._current_path():
            self._replace(worker)
            return False
        return True

    def _release(self, worker: QueryProcess) -> None:
        """Give an idle process to the waiter it is for, or keep it idle."""
        worker.busy = False
        if not self._usable(worker):
            return
        waiter = self._next_waiter(worker.reserve)
        if waiter is not None:
            self._hand_over(waiter, worker)
        elif worker.reserve:
            self._reserve_idle = worker
        else:
            self._idle.append(worker)

    def _next_waiter(self, reserve: bool) -> _Waiter | None:
        """General processes go to the oldest waiter, the reserve to the newest one that may
        run on it."""
        chosen: _Waiter | None = None
        for waiter in self._waiters:
            if waiter.future.done() or (reserve and not waiter.may_reserve):
                continue
            if chosen is None or (waiter.arrival > chosen.arrival if reserve
                                  else waiter.arrival < chosen.arrival):
                chosen = waiter
        return chosen

    def _hand_over(self, waiter: _Waiter, worker: QueryProcess) -> None:
        self._waiters.remove(waiter)
        worker.busy = True
        waiter.future.set_result(worker)

    def _promote(self, waiter: _Waiter) -> None:
        """The waiter has waited RESERVE_AFTER for a general process: it may now take the
        reserve."""
        if waiter.future.done():
            return
        waiter.may_reserve = True
        worker, self._reserve_idle = self._reserve_idle, None
        if worker is not None and self._usable(worker):
            self._hand_over(waiter, worker)

    def _expire(self, waiter: _Waiter) -> None:
        if not waiter.future.done():
            self._waiters.remove(waiter)
            waiter.future.set_exception(TimeoutError())

    def _take_idle(self) -> QueryProcess | None:
        while self._idle:
            worker = self._idle.pop(0)
            if self._usable(worker):
                worker.busy = True
                return worker
        return None

    async def _acquire(self, arrival: float, may_reserve: bool) -> QueryProcess:
        worker = self._take_idle()
        if worker is not None:
            return worker
        loop = asyncio.get_running_loop()
        waiter = _Waiter(loop.create_future(), False, arrival)
        self._waiters.append(waiter)
        timers = [loop.call_at(arrival + self.queue_timeout, self._expire, waiter)]
        if may_reserve:
            timers.append(loop.call_at(arrival + RESERVE_AFTER, self._promote, waiter))
        try:
            return await waiter.future
        except TimeoutError:
            self.stopped["queue"] += 1
            raise QueryFailed(503, f"Every query process stayed busy for "
                                   f"{self.queue_timeout:g} s; try again in a moment.",
                              "queue", retry_after=RETRY_AFTER) from None
        except asyncio.CancelledError:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            if waiter.future.done() and not waiter.future.cancelled() \
                    and waiter.future.exception() is None:
                self._release(waiter.future.result())  # handed over as the wait ended
            raise
        finally:
            for timer in timers:
                timer.cancel()

    # -- running ------------------------------------------------------------------------------

    async def execute(self, request: dict[str, Any], timeout: float,
                      disconnected: asyncio.Event | None = None) -> Reply:
        arrival = asyncio.get_running_loop().time()
        may_reserve = self.reserve
        while True:
            worker = await self._acquire(arrival, may_reserve)
            if disconnected is not None and disconnected.is_set():
                self._release(worker)
                self.stopped["disconnect"] += 1
                raise QueryFailed(499, "The client went away while its query waited.",
                                  "disconnect")
            try:
                return await self._run(worker, request, timeout, disconnected)
            except _MovedOffReserve:
                self.moved_off_reserve += 1
                may_reserve = False

    async def _run(self, worker: QueryProcess, request: dict[str, Any], timeout: float,
                   disconnected: asyncio.Event | None) -> Reply:
        limit = min(timeout, RESERVE_SECONDS) if worker.reserve else timeout
        task = asyncio.ensure_future(worker.ask(request))
        waits: set[asyncio.Future[Any]] = {task}
        gone: asyncio.Future[Any] | None = None
        if disconnected is not None:
            gone = asyncio.ensure_future(disconnected.wait())
            waits.add(gone)
        try:
            done, _ = await asyncio.wait(waits, timeout=limit,
                                         return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            task.cancel()
            self._replace(worker)
            raise
        finally:
            if gone is not None:
                gone.cancel()
        if task in done and task.exception() is None:
            worker.served += 1
            self._release(worker)
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
            raise QueryFailed(503, "The query process ended unexpectedly while running this "
                                   "query; it was stopped and the process replaced. Simplify "
                                   "the query and try again.", reason, retry_after=RETRY_AFTER)
        if limit < timeout:
            raise _MovedOffReserve
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
