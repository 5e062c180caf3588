"""32 threads at once against one app with a small answer cache (`--result-cache-entries 8`):
the API, the pages (in every way of choosing the language) and the named queries answer every
request, with the right content type, and nothing fails in the log.

With 8 entries and many more distinct answers, every thread keeps putting answers into the one
cache of the snapshot while the others look theirs up and evict: a cache that checks and then
moves an entry without a lock, or clears and then refills, fails here (a KeyError is a 500).
The app runs in this process (tests/servers.py): the TestClient hands every call to the app's
event loop, which answers them concurrently (pages and the API in its thread pool).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from ketju.core.project import Project
from tests import conftest
from tests.servers import InProcessServer, in_process_server

THREADS = 32
ID = "https://w3id.org/ketju/id/"
CHAINS = ["varsinais-suomi/chain/lonkkamurtuma", "pohjois-savo/chain/lonkkamurtuma",
          "pohjois-pohjanmaa/chain/lonkkamurtuma", "lappi/chain/lonkkamurtuma-pohjois-pohjanmaa"]
PAIR = ",".join(quote(ID + c, safe="") for c in CHAINS[:2])
HTML, JSON, JSON_LD = "text/html", "application/json", "application/ld+json"

#: (path, request headers, the content type expected). Pages in every way of choosing the
#: language: `?lang=`, the cookie, Accept-Language, none.
REQUESTS: list[tuple[str, dict[str, str], str]] = [
    *[(f"/id/{chain}{query}", headers, HTML) for chain in CHAINS
      for query, headers in (("", {}), ("?lang=fi", {}), ("?lang=sv", {}), ("?lang=en", {}),
                             ("", {"Cookie": "lang=sv"}), ("", {"Accept-Language": "en"}))],
    *[(f"/id/{path}{query}", {}, HTML) for path in (
        "keski-suomi/package/nuorten-palvelukokonaisuus", "keski-suomi/goal/nuoret-paatavoite",
        "national/producer/kela", "keski-suomi/service/lastensuojelu",
        "national/segment/lonkkamurtumapotilaat",
        "varsinais-suomi/chain/lonkkamurtuma/step/leikkaus")
      for query in ("", "?lang=sv", "?lang=en")],
    *[(f"/compare?chains={PAIR}{query}", {}, HTML) for query in ("", "&lang=sv", "&lang=en")],
    *[(f"/search?q={q}{query}", {}, HTML) for q in ("lonkka", "muisti", "nuoret")
      for query in ("", "&lang=sv", "&lang=en")],
    *[(f"/search?q={q}&format=json", {}, JSON) for q in ("lonk", "kotihoito")],
    *[(f"/api/search?q={q}", {}, JSON) for q in ("lonkka", "palvelu", "kela")],
    (f"/api/compare?chains={PAIR}", {}, JSON),
    (f"/api/compare?chains={PAIR}&lang=sv", {}, JSON),
    *[(f"/api/chains/{c.replace('/chain/', '/', 1)}", {}, JSON_LD) for c in CHAINS],
    *[(f"/api/chains/{c.replace('/chain/', '/', 1)}/similar", {}, JSON) for c in CHAINS],
    ("/api/chains", {}, JSON), ("/api/packages", {}, JSON), ("/api/regions", {}, JSON),
    *[(f"/api/queries/chain-steps?chain={quote(ID + c, safe='')}", {}, JSON) for c in CHAINS],
    ("/api/queries/regions", {}, JSON), ("/api/queries/catalogue-summary", {}, JSON),
    (f"/api/queries/entity-names?entity={quote(ID + 'national/producer/kela', safe='')}", {},
     JSON),
]

#: Asked again and again: pages (kept answers, looked up in the event loop) and named queries
#: (kept rows, looked up in worker threads).
POPULAR = [r for r in REQUESTS if r[0].startswith("/api/queries/")][-4:] + REQUESTS[1:4]


@pytest.fixture(scope="module")
def server(built_project: Project) -> Iterator[InProcessServer]:
    with in_process_server(built_project, result_cache_entries=8) as running:
        yield running


def test_many_more_distinct_answers_than_the_cache_keeps() -> None:
    assert len({path + str(headers) for path, headers, _ in REQUESTS}) > 8 * 8


def test_32_threads_with_8_cache_entries_get_no_error(server: InProcessServer) -> None:
    # Requests each thread makes, drawn from REQUESTS: fewer in the quick tier.
    each = 3 if conftest.FAST_TIER else 12
    failures: list[str] = []
    answered = [0]
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def hammer(seed: int) -> None:
        # Popular answers (found in the cache, moved to its end) between ones from the long
        # tail (which evict them): lookups meet evictions all the time.
        draw = random.Random(seed)
        order = [pick for tail in draw.sample(REQUESTS, each)
                 for pick in (draw.choice(POPULAR), tail)]
        start.wait()
        for path, headers, media in order:
            try:
                response = server.get(server.base + path, headers=headers)
                problem = None if response.status_code == 200 and response.headers[
                    "content-type"].startswith(media) else (
                    f"{path} {headers}: {response.status_code} "
                    f"{response.headers.get('content-type')} {response.text[:300]}")
            except Exception as error:  # an exception in the app is re-raised here
                problem = f"{path} {headers}: {type(error).__name__}: {error}"
            with lock:
                answered[0] += 1
                if problem:
                    failures.append(problem)

    threads = [threading.Thread(target=hammer, args=(seed,)) for seed in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    assert failures == [], "\n".join(failures[:20])
    assert answered[0] == THREADS * each * 2
    errors = server.log_errors()
    assert errors == [], "\n".join(errors[:5])
