"""Prometheus counters of the guarded SPARQL service: queries stopped, answers capped, answers
served from the cache. They live here, below the web layer, so that whatever runs the guard
can count without importing the web layer; `/metrics` (ketju.web.observability) exposes them
with the HTTP metrics.
"""

from __future__ import annotations

from prometheus_client import Counter

QUERIES_STOPPED = Counter("ketju_sparql_queries_stopped_total",
                          "User queries stopped, by reason (timeout, memory, disconnect, crash)",
                          ["reason"])
ANSWERS_CAPPED = Counter("ketju_sparql_answers_capped_total",
                         "SPARQL answers cut off at the row limit")
CACHE_HITS = Counter("ketju_sparql_cache_hits_total", "SPARQL answers served from the cache")

__all__ = ["ANSWERS_CAPPED", "CACHE_HITS", "QUERIES_STOPPED"]
