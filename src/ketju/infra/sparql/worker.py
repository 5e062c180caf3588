"""A query process: runs user SPARQL against a read-only store snapshot, one query at a time.

pyoxigraph cannot cancel a query, so user queries run here, in a process the server can end:
the server kills the process when a query passes its time or memory limit, and starts a new one.

Isolation: unless started with KETJU_WORKER_NETWORK=1 (the processes that run federated queries
to allowed hosts), the process first moves into its own empty network namespace, so even a
SERVICE the checks missed could not reach out; it reports whether that worked
(`ready.isolated`). KETJU_WORKER_NO_ISOLATION=1 makes it report failure without trying: tests use
it to act out a kernel that does not permit `unshare`.

Stack: the engine recurses on the query's structure and overflows an 8 MiB stack at about 2,200
nested groups (analysis.MAX_NESTING has the measurements). Queries run on a thread whose stack
is sized from the longest accepted query (`stack_bytes`), so no query that fits in
`max_query_bytes` can overflow it; the stack is reserved address space, only the pages a query
touches use memory.

Protocol on stdin/stdout, one frame each way per request: a 4-byte big-endian length and a JSON
header, then (answers only) an 8-byte length and the body.

Request: `query`, `format`, `max_rows`; optional `default_graphs` / `named_graphs` (the
protocol's dataset: given, they replace the query's FROM and the union default graph); `check`
(the text may hold SERVICE or FROM: parse it first, analysis.inspect) with `allowed_hosts` and
`refusal` (why SERVICE is refused when no host is allowed); `run: false` to only check (the
remote mode, which has no store here).

Answer: `{"ok": true, "form", "count", "capped"}` with the body; `{"ok": false, "status",
"message"}`; or `{"ok": false, "needs_network": true}` when an allowed SERVICE must run in a
process that has network.
"""

from __future__ import annotations

import ctypes
import json
import os
import struct
import sys
import threading
from typing import Any, BinaryIO

from ketju.infra.sparql.analysis import Inspection, QueryRefused, inspect, refuse_services

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
#: Stack of the query thread per byte of the longest accepted query. The costliest construct
#: per byte measured is nested calls of a prefixed function, `:f(:f(...))`: about 8.7 KiB of
#: stack for 4 bytes, 2.2 KiB per byte; times 3.7 for margin. Checked: 64 KiB of nested
#: groups, calls or EXISTS run on the 512 MiB this gives for the default max_query_bytes.
STACK_PER_QUERY_BYTE = 8 * 1024
MIN_STACK = 256 * 1024 * 1024
#: What the client is told when a query that calls SERVICE fails: the same words whatever the
#: remote end did (refused, hung up, sent garbage or HTML), so answers tell nothing about which
#: ports are open, and nothing the remote end sent is reflected.
SERVICE_FAILED = ("The query calls SERVICE, and it failed: the remote endpoint could not be "
                  "reached or its answer could not be used (details are not shown for federated "
                  "queries).")


def stack_bytes(max_query_bytes: int) -> int:
    return max(MIN_STACK, STACK_PER_QUERY_BYTE * max_query_bytes)


def drop_network() -> bool:
    """Move into a new network namespace with no interfaces up; False if not permitted."""
    if os.environ.get("KETJU_WORKER_NO_ISOLATION") == "1":
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return False
    return any(libc.unshare(flags) == 0 for flags in (CLONE_NEWNET, CLONE_NEWUSER | CLONE_NEWNET))


def read_frame(stream: BinaryIO) -> dict[str, Any] | None:
    head = stream.read(4)
    if len(head) < 4:
        return None
    (length,) = struct.unpack(">I", head)
    return json.loads(stream.read(length))


def write_frame(stream: BinaryIO, header: dict[str, Any], body: bytes = b"") -> None:
    encoded = json.dumps(header).encode()
    stream.write(struct.pack(">I", len(encoded)) + encoded + struct.pack(">Q", len(body)) + body)
    stream.flush()


def _refused(status: int, message: str) -> tuple[dict[str, Any], bytes]:
    return {"ok": False, "status": status, "message": message}, b""


def run(store: Any, request: dict[str, Any], network: bool) -> tuple[dict[str, Any], bytes]:
    inspection = Inspection()
    if request.get("check"):
        try:
            inspection = inspect(request["query"])
            if inspection.services:
                refuse_services(inspection.services, tuple(request.get("allowed_hosts") or ()),
                                request.get("refusal") or "federated queries are switched off")
        except QueryRefused as refused:
            return _refused(refused.status, refused.message)
    if request.get("run") is False:
        return {"ok": True, "services": list(inspection.services),
                "dataset": inspection.dataset}, b""
    if inspection.services and not network:
        return {"ok": False, "needs_network": True}, b""
    return evaluate(store, request, inspection)


def evaluate(store: Any, request: dict[str, Any],
             inspection: Inspection) -> tuple[dict[str, Any], bytes]:
    import pyoxigraph as ox

    from ketju.infra.sparql.formats import OXIGRAPH_RESULTS
    from ketju.infra.sparql.results import serialize_select, serialize_triples, write_boolean

    options: dict[str, Any] = {}
    defaults, named = request.get("default_graphs"), request.get("named_graphs")
    if defaults is not None or named is not None:
        # The protocol's dataset replaces the query's (SPARQL 1.1 Protocol 2.1.4): what it
        # does not list is empty.
        options["default_graph"] = [ox.NamedNode(g) for g in defaults or ()]
        options["named_graphs"] = [ox.NamedNode(g) for g in named or ()]
    elif not inspection.dataset:
        options["use_default_graph_as_union"] = True
    try:
        result = store.query(request["query"], **options)
    except SyntaxError as error:
        return _refused(400, f"The query is not valid SPARQL: {error}")
    # RuntimeError: e.g. a call of a function the engine does not know.
    except (ValueError, OSError, RuntimeError) as error:
        return _refused(400, f"The query cannot be run: {error}")
    fmt = request["format"]
    max_rows = int(request["max_rows"])
    try:
        if isinstance(result, ox.QuerySolutions):
            if fmt not in OXIGRAPH_RESULTS:
                return {"ok": False, "status": 406, "form": "SELECT"}, b""
            answer = serialize_select(result, fmt, max_rows)
            return {"ok": True, "form": "SELECT", "count": answer.count,
                    "capped": answer.capped}, answer.body
        if isinstance(result, ox.QueryBoolean):
            if fmt not in OXIGRAPH_RESULTS:
                return {"ok": False, "status": 406, "form": "ASK"}, b""
            return {"ok": True, "form": "ASK", "count": 1, "capped": False}, write_boolean(
                bool(result), fmt)
        if fmt in OXIGRAPH_RESULTS:
            return {"ok": False, "status": 406, "form": "CONSTRUCT"}, b""
        answer = serialize_triples(result, fmt, max_rows)
        return {"ok": True, "form": "CONSTRUCT", "count": answer.count,
                "capped": answer.capped}, answer.body
    # Evaluation errors surface while iterating: a SERVICE that failed (OSError, or
    # RuntimeError for an answer the engine could not read), a type error in the data.
    except (ValueError, OSError, SyntaxError, RuntimeError) as error:
        if inspection.services:
            return _refused(502, SERVICE_FAILED)
        return _refused(400, f"The query failed: {error}")


def serve(store_path: str, network: bool, isolated: bool) -> None:
    import pyoxigraph as ox

    # rdflib's grammar recurses in Python; the nesting limit keeps it far below this.
    sys.setrecursionlimit(100_000)
    store = ox.Store.read_only(store_path) if store_path != "-" else None
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    write_frame(stdout, {"ready": True, "pid": os.getpid(), "isolated": isolated})
    while (request := read_frame(stdin)) is not None:
        header, body = run(store, request, network)
        write_frame(stdout, header, body)


def main() -> None:
    """`python -m ketju.infra.sparql.worker STORE [STACK_BYTES]`; STORE `-`: only check queries."""
    network = os.environ.get("KETJU_WORKER_NETWORK") == "1"
    # Before any thread starts: a namespace change applies to the calling thread and the
    # threads it starts afterwards.
    isolated = not network and drop_network()
    threading.stack_size(int(sys.argv[2]) if len(sys.argv) > 2 else MIN_STACK)
    thread = threading.Thread(target=serve, args=(sys.argv[1], network, isolated),
                              name="query")
    thread.start()
    thread.join()


if __name__ == "__main__":
    main()
