"""Server settings: every option has a KETJU_* environment variable and a documented default.

`ketju serve --help` and the README list them; `Settings.from_env()` is what each server process
reads, so options given on the command line reach every worker through the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Any


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """How the server behaves. Field docs double as help texts."""

    host: str = "127.0.0.1"
    port: int = 8000
    #: HTTP server processes (each with its own query workers).
    workers: int = 1
    #: Seconds a user SPARQL query may run before it is stopped.
    query_timeout: float = 30.0
    #: Most result rows (or triples) one answer may carry; more are cut off and flagged.
    max_rows: int = 10_000
    #: Query processes per server process; runaway queries only ever block one of them.
    query_workers: int = 3
    #: Memory (MiB) one query process may use before its query is stopped.
    query_memory_mb: int = 2048
    #: Longest SPARQL query text accepted, in bytes.
    max_query_bytes: int = 64 * 1024
    #: Deepest nesting of groups, brackets and `!` a SPARQL query may have (the engine
    #: crashes from about 850; see infra/sparql/analysis.py).
    max_query_nesting: int = 100
    #: Seconds a SPARQL query may wait for a free query process before it is answered 503
    #: (with Retry-After).
    queue_timeout: float = 5.0
    #: SPARQL queries (and graph-store reads) one client address may have running or waiting
    #: at once; more are answered 429. 0: no cap (benchmarks that play many clients from one
    #: address).
    max_client_queries: int = 2
    #: Largest request body accepted, in bytes.
    max_body_bytes: int = 1024 * 1024
    #: Origins allowed by CORS ("*" for any).
    cors_origins: tuple[str, ...] = ("*",)
    #: Hosts a SERVICE clause may call; empty means SERVICE is refused.
    allowed_service_hosts: tuple[str, ...] = ()
    #: Public URL of the server behind a proxy, e.g. https://ketju.example.fi (default: the
    #: URL requests arrive at).
    public_base_url: str | None = None
    #: IRI base the data uses; IRIs under it are served from this server's origin.
    data_base: str = "https://w3id.org/ketju/"
    #: Remote SPARQL 1.1 endpoint to serve from instead of the embedded store.
    sparql_endpoint: str | None = None
    #: Remote mode: most threads of a server process waiting for the engine at once (pages,
    #: API, feeds); more wait while those calls finish, and get 503 when none has finished
    #: for a quarter second (a stuck engine). Keep it well below 40, the threads all routes
    #: share.
    engine_connections: int = 16
    #: Answers kept in memory per server process (0 turns the result cache off).
    result_cache_entries: int = 2048
    #: Project folder (ontology, data, var/store); default: found from the working directory.
    home: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "extra":
                continue
            raw = env.get(f"KETJU_{f.name.upper()}")
            if raw is None:
                continue
            values[f.name] = _convert(f.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def to_env(self) -> dict[str, str]:
        """The environment that makes `from_env` return these settings."""
        env = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "extra" or value is None:
                continue
            env[f"KETJU_{f.name.upper()}"] = (
                ",".join(value) if isinstance(value, tuple) else str(value)
            )
        return env


def _convert(kind: Any, raw: str) -> Any:
    text = str(kind)
    if "tuple" in text:
        return _split(raw)
    if text.startswith("int"):
        return int(raw)
    if text.startswith("float"):
        return float(raw)
    return raw or None
