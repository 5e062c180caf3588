"""A query process: runs user SPARQL against a read-only store snapshot, one query at a time.

pyoxigraph cannot cancel a query, so user queries run here, in a process the server can end:
the server kills the process when a query passes its time or memory limit, and starts a new one.
When no SERVICE host is allowed the process first moves into its own empty network namespace
(where the kernel permits it), so even a SERVICE the query checks missed could not reach out.

Protocol on stdin/stdout, one frame each way per query: a 4-byte big-endian length and a JSON
header, then (answers only) an 8-byte length and the body.
"""

from __future__ import annotations

import ctypes
import json
import os
import struct
import sys
from typing import Any, BinaryIO

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000


def drop_network() -> bool:
    """Move into a new network namespace with no interfaces up; False if not permitted."""
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


def run(store: Any, request: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    import pyoxigraph as ox

    from ketju.sparql.formats import OXIGRAPH_RESULTS
    from ketju.sparql.results import serialize_select, serialize_triples, write_boolean

    options: dict[str, Any] = {}
    if request.get("default_graphs") is not None:
        options["default_graph"] = [
            ox.DefaultGraph() if g == "" else ox.NamedNode(g) for g in request["default_graphs"]
        ]
    else:
        options["use_default_graph_as_union"] = True
    if request.get("named_graphs") is not None:
        options["named_graphs"] = [ox.NamedNode(g) for g in request["named_graphs"]]
    try:
        result = store.query(request["query"], base_iri=request.get("base_iri"), **options)
    except SyntaxError as error:
        message = f"The query is not valid SPARQL: {error}"
        return {"ok": False, "status": 400, "message": message}, b""
    except (ValueError, OSError) as error:
        return {"ok": False, "status": 400, "message": f"The query cannot be run: {error}"}, b""
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
    except (ValueError, OSError, SyntaxError) as error:
        # Evaluation errors surface while iterating (e.g. a SERVICE that failed).
        return {"ok": False, "status": 400, "message": f"The query failed: {error}"}, b""


def main() -> None:
    isolated = os.environ.get("KETJU_WORKER_NETWORK", "0") != "1" and drop_network()
    import pyoxigraph as ox

    store = ox.Store.read_only(sys.argv[1])
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    write_frame(stdout, {"ready": True, "pid": os.getpid(), "isolated": isolated})
    while (request := read_frame(stdin)) is not None:
        header, body = run(store, request)
        write_frame(stdout, header, body)


if __name__ == "__main__":
    main()
