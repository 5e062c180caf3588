"""`make bench`: ketju measured side by side with the engines users would pick instead.

Everything runs in one go on this machine and is reported as median, min–max and the ratio to
its reference measured in the same run, in bench/RESULTS.md:

- build: `ketju build` against `oxigraph load` of the same files;
- validation: `ketju validate` of the whole catalogue and of one changed file, against plain
  pySHACL on the same data and shapes, with a check that both find the same violations on a copy
  with seeded errors;
- SPARQL: a fixed mix of distinct queries at 16 concurrent clients, ketju's `/sparql` against
  `oxigraph serve` on the same store (and against rdflib-endpoint on a 0.1M catalogue);
- API and pages: entity and chain pages, search, named queries, compare, similar chains,
  indicator pages (with their chart) and package pages (with their monitoring section);
- observations (issue 13): the catalogue carries indicator observations at national scale
  (CSV contributions, `bench/generate.py`); reported are the validation of one changed
  observation file of 10 000 rows, and the build's added time for the observations against
  `oxigraph load` of the same observations as N-Triples (the build's reference loads them too);
- remote mode (issue 12): Virtuoso 7 behind two `ketju serve` processes and nginx, the
  named-query mix through the proxy against the same queries sent to Virtuoso directly;
- memory: peak RSS of the build and of the server.

The load generator is wrk (a separate process, C) with a Lua script cycling through request
lists; it runs on the same two cores as the server, for ketju and the references alike.

    python bench/run.py --size 1m          # default of `make bench`
    python bench/run.py --size 0.1m --quick  # what the tests run
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

from generate import generate, parse_size, seed_errors  # noqa: E402

BIN = Path(sys.executable).parent
OUT = ROOT / "bench" / "out"
ID = "https://w3id.org/ketju/id/"
SEED = 20261123


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": len(values)}


def timed(command: list[str], env: dict[str, str] | None = None,
          cwd: Path | None = None) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB, of the process and its children) and stderr."""
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, group_rss(process.pid))
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    stderr = process.stderr.read() if process.stderr else ""
    if process.returncode not in (0, 1):
        raise RuntimeError(f"{command[:3]} failed ({process.returncode}): {stderr[-2000:]}")
    return elapsed, peak, stderr


def group_rss(pgid: int) -> float:
    """Resident memory (MiB) of every process in a process group."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                total += int((entry / "statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total * os.sysconf("SC_PAGE_SIZE") / 2**20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def server(command: list[str], health: str, env: dict[str, str] | None = None,
           ) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited with {process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(health, timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        else:
            raise TimeoutError(health)
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


WRK_SCRIPT = r"""
local paths = {}
local accept = os.getenv("BENCH_ACCEPT") or "application/json"
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local counter = 0
function setup(thread)
  thread:set("offset", counter * 7919)
  counter = counter + 1
end
local index = 0
request = function()
  index = index + 1
  local path = paths[((index + offset) % #paths) + 1]
  return wrk.format("GET", path, { ["Accept"] = accept })
end
"""


def wrk(base: str, paths: list[str], seconds: int, accept: str = "application/json",
        connections: int = 16, watch: int | None = None) -> dict[str, float]:
    """Requests per second and latency percentiles (ms) from wrk (2 threads, or 1 for a single
    connection)."""
    work = OUT / "wrk"
    work.mkdir(parents=True, exist_ok=True)
    (work / "paths.txt").write_text("\n".join(paths) + "\n", encoding="utf-8")
    (work / "mix.lua").write_text(WRK_SCRIPT, encoding="utf-8")
    env = {**os.environ, "BENCH_PATHS": str(work / "paths.txt"), "BENCH_ACCEPT": accept}
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s",
               "--timeout", "30s", "--latency", "-s", str(work / "mix.lua"), base]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    peak = 0.0
    while process.poll() is None:
        if watch is not None:
            peak = max(peak, group_rss(watch))
        time.sleep(0.25)
    output = process.stdout.read() if process.stdout else ""
    result: dict[str, float] = {"rss_mb": peak}
    for label, key in (("50%", "p50"), ("90%", "p90"), ("99%", "p99")):
        match = re.search(rf"^\s+{re.escape(label)}\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        if match:
            value, unit = float(match.group(1)), match.group(2)
            result[key] = value / 1000 if unit == "us" else value * 1000 if unit == "s" \
                else value
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    result["rps"] = float(rate.group(1)) if rate else 0.0
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result["non2xx"] = float(errors.group(1)) if errors else 0.0
    socket_errors = re.search(r"Socket errors: (.*)", output)
    result["socket_errors"] = socket_errors.group(1) if socket_errors else ""  # type: ignore
    return result


# --------------------------------------------------------------------------------------------
# The catalogue and its workload
# --------------------------------------------------------------------------------------------


def tree_for(size: str) -> Path:
    """The generated catalogue of `size`, made again when bench/generate.py changed (the data
    must follow the shapes of the code measured)."""
    target = parse_size(size)
    tree = OUT / f"tree-{size}"
    marker = tree / "generated.json"
    generator = hashlib.sha256((ROOT / "bench" / "generate.py").read_bytes()).hexdigest()
    if marker.exists() and json.loads(marker.read_text()).get("generator") == generator:
        return tree
    shutil.rmtree(tree, ignore_errors=True)
    counts = generate(tree, target, SEED)
    marker.write_text(json.dumps({**counts, "generator": generator}), encoding="utf-8")
    return tree


def ketju(*args: str, home: Path) -> list[str]:
    del home
    return [str(BIN / "ketju"), *args]


def env_for(home: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "KETJU_HOME": str(home), **extra}


def source_files(tree: Path) -> list[str]:
    files = sorted((tree / "ontology").rglob("*.ttl")) + sorted((tree / "shapes").glob("*.ttl"))
    files += sorted((tree / "data").rglob("*.ttl"))
    return [str(f) for f in files]


PREFIXES = ("PREFIX ketju: <https://w3id.org/ketju/ontology#>\n"
            "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n")


def workload(tree: Path, rng: random.Random) -> dict[str, list[str]]:
    """Entities to look up, by kind, read from the built store."""
    import pyoxigraph as ox

    store = ox.Store.read_only(str((tree / "var" / "store").resolve()))

    def column(query: str, name: str) -> list[str]:
        rows = store.query(PREFIXES + query, use_default_graph_as_union=True)
        return sorted(row[name].value for row in rows)

    found = {kind: column(f"SELECT ?s WHERE {{ ?s a ketju:{kind} }}", "s")
             for kind in ("ServiceChain", "Service", "Producer", "ServicePackage")}
    found["classes"] = column("SELECT DISTINCT ?c WHERE { ?s ketju:serviceClass ?c }", "c")
    found["organisers"] = column(
        "SELECT DISTINCT ?o WHERE { ?c a ketju:ServiceChain ; ketju:organiser ?o }", "o")
    found["observed"] = column(
        "SELECT DISTINCT ?i WHERE { ?o a ketju:IndicatorObservation ; ketju:indicator ?i }",
        "i")
    found["segments"] = column(
        """SELECT ?segment (GROUP_CONCAT(STR(?c); SEPARATOR=" ") AS ?chains) WHERE {
           ?c ketju:targetSegment ?segment ; a ketju:ServiceChain } GROUP BY ?segment""",
        "chains")
    for key in found:
        if key != "segments":
            rng.shuffle(found[key])
    return found


def sparql_mix(found: dict[str, list[str]], rng: random.Random) -> list[str]:
    """The fixed query mix: 70 % lookups of distinct entities, 10 % a region's chains, 10 %
    chains by service class, 10 % aggregations."""
    lookups = [f"SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }}" for iri in
               (found["Service"][:400] + found["ServiceChain"][:200] + found["Producer"][:100])]
    regions = [PREFIXES + f"""SELECT ?chain ?label WHERE {{ ?chain a ketju:ServiceChain ;
        ketju:organiser <{o}> ; skos:prefLabel ?label FILTER(LANG(?label) = "fi") }}"""
               for o in found["organisers"]]
    classes = [PREFIXES + f"""SELECT DISTINCT ?chain WHERE {{ ?chain ketju:hasStep ?step .
        ?step ketju:service ?service . ?service ketju:serviceClass <{c}> }}"""
               for c in found["classes"]]
    aggregations = [PREFIXES + query for query in (
        """SELECT ?organiser (COUNT(?s) AS ?n) WHERE {
           ?s a ketju:Service ; ketju:organiser ?organiser } GROUP BY ?organiser""",
        "SELECT ?level (COUNT(?s) AS ?n) WHERE { ?s ketju:serviceLevel ?level } GROUP BY ?level",
        """SELECT ?type (COUNT(DISTINCT ?p) AS ?n) WHERE { ?p ketju:producerType ?type }
           GROUP BY ?type""",
        """SELECT ?kind (COUNT(?t) AS ?n) WHERE { ?t ketju:transitionKind ?kind }
           GROUP BY ?kind""",
    )]
    mix = lookups[:]
    share = len(lookups) // 7
    for group in (regions, classes, aggregations):
        mix += [group[i % len(group)] for i in range(share)]
    rng.shuffle(mix)
    return mix


def local(iri: str) -> str:
    return "/" + iri.removeprefix("https://w3id.org/ketju/")


LANGUAGES = ("fi", "sv", "en")


def with_language_links(paths: list[str]) -> list[str]:
    """Every third page URL as the pages' language links (and the links people share) ask
    for it, with `?lang=fi|sv|en` in turn; the others are asked by `Accept` alone. Each way of
    choosing the language must hit the kept answer.

    >>> with_language_links(["/a", "/b", "/c", "/d", "/e", "/f", "/g", "/h", "/i"])
    ['/a', '/b', '/c?lang=fi', '/d', '/e', '/f?lang=sv', '/g', '/h', '/i?lang=en']
    """
    return [f"{path}?lang={LANGUAGES[(i // 3) % 3]}" if i % 3 == 2 else path
            for i, path in enumerate(paths)]


def named_query_mix(found: dict[str, list[str]]) -> list[str]:
    """The named-query mix: a region's chains, and services by JHS 183 class."""
    named = [f"/api/queries/chains?{urlencode({'organiser': o})}" for o in found["organisers"]]
    named += [f"/api/queries/services-by-class?{urlencode({'serviceClass': c})}&limit=50"
              for c in found["classes"][:40]]
    return named


def engine_paths(named: list[str]) -> list[str]:
    """The named-query mix as a remote-mode server sends it to its engine: the same query
    text with the same values bound (`bind_values`), as `/sparql?query=` GET requests.

    >>> engine_paths(["/api/queries/chains?organiser=https%3A%2F%2Fw3id.org%2Fketju%2Fx"]
    ...              )[0].startswith("/sparql?query=")
    True
    """
    from urllib.parse import parse_qs, urlsplit

    from ketju.core.queries import load_queries
    from ketju.infra.sparql.analysis import bind_values

    queries = load_queries(ROOT / "queries")
    paths = []
    for path in named:
        url = urlsplit(path)
        query = queries[url.path.rsplit("/", 1)[1]]
        raw = {k: v[0] for k, v in parse_qs(url.query).items() if k not in ("limit", "offset")}
        text = bind_values(query.body, query.bindings(raw))
        paths.append("/sparql?" + urlencode({"query": text}))
    return paths


def api_paths(found: dict[str, list[str]], rng: random.Random) -> dict[str, list[str]]:
    chains = found["ServiceChain"]
    entities = found["Service"][:300] + found["Producer"][:100] + found["ServicePackage"][:100]
    pairs = []
    for group in found["segments"]:
        members = group.split()
        if len(members) >= 2:
            a, b = rng.sample(members, 2)
            pairs.append(f"/api/compare?chains={quote(a, safe='')},{quote(b, safe='')}")
    words = ["lonkka", "muisti", "kotihoito", "kuntoutus", "päivystys", "nuoret", "neuvola",
             "mielenterveys", "perhe", "vanhus", "ohjaus", "sosiaali", "terveys", "asumis",
             "lapsi", "kotisairaanhoito", "vamma", "päihde", "suun", "rokotus"]
    searches = [f"/search?q={quote(w[:n])}&format=json" for w in words for n in (4, 6, len(w))]
    named = named_query_mix(found)
    return {
        "entity pages": with_language_links([local(i) for i in entities]),
        "chain pages (with diagram)": with_language_links([local(c) for c in chains[:300]]),
        "search": searches,
        "named queries": named,
        "compare": pairs[:300],
        "similar chains": [
            "/api/chains/" + c.removeprefix(ID).replace("/chain/", "/", 1) + "/similar"
            for c in chains[:300]],
        # Issue 13: the indicator page (/id/{region}/indicator/{slug}) draws its series as a
        # chart; a package page shows each goal's indicators with the latest value and trend.
        "indicator pages (with chart)": with_language_links(
            [local(i) for i in found.get("observed", [])[:300]]),
        "package pages (with monitoring)": with_language_links(
            [local(p) for p in found["ServicePackage"][:300]]),
    }


# --------------------------------------------------------------------------------------------
# The sections
# --------------------------------------------------------------------------------------------


OBSERVATION_GRAPHS = "/observations/"


def observations_ntriples(tree: Path, target: Path) -> int:
    """The observation graphs of the tree's built store (one per CSV file) as one N-Triples
    file: what `oxigraph load` is given for the same observations. Returns its triples."""
    import pyoxigraph as ox

    store = ox.Store.read_only(str((tree / "var" / "store").resolve()))
    graphs = [g for g in store.named_graphs() if OBSERVATION_GRAPHS in g.value
              and g.value.endswith(".csv")]
    triples = 0
    with open(target, "wb") as out:
        for graph in graphs:
            data = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph)
            out.write(data)
            triples += data.count(b"\n")
    return triples


def bench_build(tree: Path, repeat: int) -> dict[str, Any]:
    builds, loads, build_rss, load_rss, phases = [], [], [], [], []
    observations = OUT / "observations.nt"
    observations.unlink(missing_ok=True)
    for _ in range(repeat):
        shutil.rmtree(tree / "var", ignore_errors=True)
        seconds, rss, stderr = timed(ketju("build", "--quiet", home=tree), env=env_for(tree))
        if "Built" not in stderr:
            raise RuntimeError(f"build failed: {stderr[-3000:]}")
        builds.append(seconds)
        build_rss.append(rss)
        manifest = json.loads(((tree / "var" / "store").resolve() / "build.json").read_text())
        # Phases in order; "steps" splits into the step times, "store" is the wait for the
        # on-disk store written beside the steps (its own time in "store written").
        steps = dict(manifest.get("step_seconds", {}))
        written = steps.pop("store", None)
        phases.append({**manifest.get("phases", {}),
                       **{f"{name} step": value for name, value in steps.items()},
                       **({"store written (beside the steps)": written} if written else {})})
        if not observations.exists():
            # The observations are CSV files, which oxigraph cannot read: it loads the RDF
            # the build made of them, as N-Triples.
            observations_ntriples(tree, observations)
        target = OUT / "oxigraph-load"
        shutil.rmtree(target, ignore_errors=True)
        extra = [str(observations)] if observations.stat().st_size else []
        seconds, rss, _ = timed([str(BIN / "oxigraph"), "load", "--location", str(target),
                                 "--file", *source_files(tree), *extra])
        loads.append(seconds)
        load_rss.append(rss)
    shutil.rmtree(OUT / "oxigraph-load", ignore_errors=True)
    merged = {k: statistics.median(p.get(k, 0) for p in phases) for k in phases[-1]}
    return {"ketju": summary(builds), "oxigraph": summary(loads), "rss": max(build_rss),
            "oxigraph_rss": max(load_rss), "phases": merged, "triples": manifest["triples"],
            "files": manifest["files"]}


def pyshacl_run(tree: Path, limit: float) -> tuple[float, set[tuple[str, str]] | None, float]:
    """Plain pySHACL on the same data and shapes: seconds, (focus, path) of violations, RSS.
    Stopped after `limit` seconds: then the seconds are the limit and the findings None."""
    script = r"""
import json, sys, time, pathlib, pyshacl
from rdflib import Graph, URIRef
from rdflib.namespace import SH
root = pathlib.Path(sys.argv[1])
started = time.monotonic()
data, shapes = Graph(), Graph()
for p in sorted((root / "ontology").rglob("*.ttl")) + sorted((root / "data").rglob("*.ttl")):
    data.parse(p, format="turtle")
for p in sorted((root / "shapes").glob("*.ttl")):
    shapes.parse(p, format="turtle")
_, results, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none")
found = []
for r in results.subjects(SH.resultSeverity, SH.Violation):
    path = results.value(r, SH.resultPath)
    found.append([str(results.value(r, SH.focusNode)),
                  str(path) if isinstance(path, URIRef) else ""])
print(json.dumps({"seconds": time.monotonic() - started, "found": found}))
"""
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-c", script, str(tree)],
                               stdout=subprocess.PIPE, text=True, start_new_session=True)
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, group_rss(process.pid))
        if time.monotonic() - started > limit:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return limit, None, peak
        time.sleep(0.2)
    output = json.loads(process.stdout.read() if process.stdout else "{}")
    return output["seconds"], {tuple(f) for f in output["found"]}, peak  # type: ignore[misc]


def bench_validation(tree: Path, repeat: int, pyshacl_tree: Path | None,
                     pyshacl_limit: float) -> dict[str, Any]:
    whole, one = [], []
    region_file = sorted((tree / "data").glob("*/chain-*.ttl"))[0]
    for _ in range(repeat):
        seconds, rss, _ = timed(ketju("validate", home=tree), env=env_for(tree))
        whole.append(seconds)
        text = region_file.read_text(encoding="utf-8")
        region_file.write_text(text + "\n# changed\n", encoding="utf-8")
        try:
            seconds, _, _ = timed(ketju("validate", str(region_file), home=tree),
                                  env=env_for(tree))
        finally:
            region_file.write_text(text, encoding="utf-8")
        one.append(seconds)
    result: dict[str, Any] = {"whole": summary(whole), "one_file": summary(one),
                              "rss": rss, "changed_file": str(region_file.relative_to(tree))}
    if pyshacl_tree is None:
        return result
    # Side by side on one copy with the same seeded errors: the findings must agree.
    seeded = OUT / "seeded"
    shutil.rmtree(seeded, ignore_errors=True)
    shutil.copytree(pyshacl_tree / "data", seeded / "data")
    for name in ("ontology", "shapes", "queries", "standards"):
        (seeded / name).symlink_to((pyshacl_tree / name).resolve())
    injected = seed_errors(seeded, 1)
    ours_seconds = []
    for _ in range(repeat):
        seconds, _, _ = timed(ketju("validate", home=seeded), env=env_for(seeded))
        ours_seconds.append(seconds)
    process = subprocess.run(ketju("validate", "--format", "json", home=seeded),
                             env=env_for(seeded), capture_output=True, text=True)
    report = json.loads(process.stdout)
    ours = {(f["node"], f["property"] or "") for f in report["findings"]
            if f["code"] == "shape" and f["severity"] == "error"}
    seconds, theirs, rss_pyshacl = pyshacl_run(seeded, pyshacl_limit)
    result.update({"pyshacl_size": pyshacl_tree.name.removeprefix("tree-"),
                   "ours_seeded": summary(ours_seconds), "pyshacl": seconds,
                   "pyshacl_rss": rss_pyshacl, "seeded": len(injected)})
    if theirs is not None:
        theirs = {t for t in theirs if t[0].startswith(ID)}
        result.update({"ours_found": len(ours), "pyshacl_found": len(theirs),
                       "same_findings": ours == theirs,
                       "only_ours": sorted(ours - theirs)[:5],
                       "only_pyshacl": sorted(theirs - ours)[:5]})
    shutil.rmtree(seeded, ignore_errors=True)
    return result


def observation_file(tree: Path) -> tuple[Path, int] | None:
    """The observation file with the most rows (10 000 at national scale), and its rows."""
    files = sorted((tree / "data").glob("*/observations/*.csv"))
    if not files:
        return None
    rows = {f: f.read_bytes().count(b"\n") - 1 for f in files}
    chosen = max(files, key=lambda f: (rows[f], -files.index(f)))
    return chosen, rows[chosen]


def changed_value(text: str) -> str:
    """The file with the value of its first row changed (a contributor's correction).

    >>> changed_value("indicator,period,value,unit\\na,2024-Q1,61.5,percent\\n")
    'indicator,period,value,unit\\na,2024-Q1,61.6,percent\\n'
    """
    header, first, rest = text.split("\n", 2)
    cells = first.split(",")
    cells[2] = f"{float(cells[2]) + 0.1:.1f}"
    return "\n".join((header, ",".join(cells), rest))


def bench_observations(tree: Path, repeat: int, build: dict[str, Any] | None
                       ) -> dict[str, Any]:
    """Issue 13's figures: validating one changed observation file; the build's added time
    for the observations (the build with them against the same build without them) against
    `oxigraph load` of the same observations as N-Triples."""
    result: dict[str, Any] = {}
    found = observation_file(tree)
    if found is None:
        return {"skipped": "the catalogue has no observation files"}
    path, rows = found
    text = path.read_text(encoding="utf-8")
    validations = []
    for _ in range(repeat):
        path.write_text(changed_value(text), encoding="utf-8")
        try:
            seconds, _, _ = timed(ketju("validate", str(path), home=tree),
                                  env=env_for(tree))
        finally:
            path.write_text(text, encoding="utf-8")
        validations.append(seconds)
    result["validate_one_file"] = summary(validations)
    result["changed_file"] = str(path.relative_to(tree))
    result["changed_rows"] = rows
    # oxigraph load of the observations alone, as N-Triples.
    ntriples = OUT / "observations.nt"
    if not ntriples.exists():
        if not (tree / "var" / "store").exists():
            timed(ketju("build", "--quiet", home=tree), env=env_for(tree))
        observations_ntriples(tree, ntriples)
    result["triples"] = ntriples.read_bytes().count(b"\n")
    result["rows"] = sum(f.read_bytes().count(b"\n") - 1
                         for f in (tree / "data").glob("*/observations/*.csv"))
    result["files"] = len(list((tree / "data").glob("*/observations/*.csv")))
    loads = []
    for _ in range(repeat):
        target = OUT / "oxigraph-load-observations"
        shutil.rmtree(target, ignore_errors=True)
        seconds, _, _ = timed([str(BIN / "oxigraph"), "load", "--location", str(target),
                               "--file", str(ntriples)])
        loads.append(seconds)
    shutil.rmtree(OUT / "oxigraph-load-observations", ignore_errors=True)
    result["oxigraph_load"] = summary(loads)
    # The same build without the observations: their folders moved aside meanwhile.
    aside = OUT / "observations-aside"
    shutil.rmtree(aside, ignore_errors=True)
    folders = sorted((tree / "data").glob("*/observations"))
    without = []
    try:
        for folder in folders:
            (aside / folder.parent.name).mkdir(parents=True, exist_ok=True)
            folder.rename(aside / folder.parent.name / "observations")
        for _ in range(repeat):
            shutil.rmtree(tree / "var", ignore_errors=True)
            seconds, _, stderr = timed(ketju("build", "--quiet", home=tree), env=env_for(tree))
            if "Built" not in stderr:
                raise RuntimeError(f"build failed: {stderr[-3000:]}")
            without.append(seconds)
    finally:
        for folder in folders:
            moved = aside / folder.parent.name / "observations"
            if moved.exists():
                moved.rename(folder)
        shutil.rmtree(aside, ignore_errors=True)
    result["build_without"] = summary(without)
    # The store with the observations again, for the pages measured next.
    shutil.rmtree(tree / "var", ignore_errors=True)
    seconds, _, _ = timed(ketju("build", "--quiet", home=tree), env=env_for(tree))
    # The build section's median when it ran (same tree, `repeat` runs), else this build.
    result["build_with"] = build["ketju"]["median"] if build else seconds
    result["added"] = result["build_with"] - result["build_without"]["median"]
    return result


def sparql_paths(mix: list[str], path: str) -> list[str]:
    return [f"{path}?{urlencode({'query': q})}" for q in mix]


def bench_sparql(tree: Path, mix: list[str], seconds: int) -> dict[str, Any]:
    store = (tree / "var" / "store").resolve()
    results: dict[str, Any] = {}
    copy = OUT / "oxigraph-serve-store"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(store, copy)
    port = free_port()
    with server([str(BIN / "oxigraph"), "serve-read-only", "--location", str(copy),
                 "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
                f"http://127.0.0.1:{port}/query?query=ASK%7B%7D") as process:
        base = f"http://127.0.0.1:{port}"
        wrk(base, sparql_paths(mix, "/query"), 3)
        results["oxigraph"] = wrk(base, sparql_paths(mix, "/query"), seconds,
                                  accept="application/sparql-results+json", watch=process.pid)
    shutil.rmtree(copy, ignore_errors=True)
    for label, extra in (("ketju", {}), ("ketju (cache off)", {"result_cache_entries": "0"})):
        with ketju_serve(tree, workers=2, **extra) as (base, process):
            wrk(base, sparql_paths(mix, "/sparql"), 3)
            results[label] = wrk(base, sparql_paths(mix, "/sparql"), seconds,
                                 accept="application/sparql-results+json", watch=process.pid)
    return results


@contextlib.contextmanager
def ketju_serve(tree: Path, workers: int = 2, **settings: str,
                ) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    # wrk plays 16 clients from one address; the cap of queries per address is for real ones.
    settings.setdefault("max_client_queries", "0")
    env = env_for(tree, **{f"KETJU_{k.upper()}": v for k, v in settings.items()})
    with server(ketju("serve", "--no-build", "--port", str(port), "--workers", str(workers),
                      home=tree), f"http://127.0.0.1:{port}/healthz", env=env) as process:
        base = f"http://127.0.0.1:{port}"
        wait_warm(base, workers)
        yield base, process


def wait_warm(base: str, workers: int, limit: float = 300) -> None:
    """Until every server process has finished its start-up work (the chain index): each
    builds its own, and one still building would take a core from the measurement."""
    warm: set[int] = set()
    deadline = time.monotonic() + limit
    while len(warm) < workers and time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, ValueError):
            # A new connection each time, so that requests reach every process.
            health = httpx.get(base + "/healthz", timeout=10,
                               headers={"Connection": "close"}).json()
            if health.get("warm"):
                warm.add(int(health["process"]))
        time.sleep(0.1)


def bench_rdflib_endpoint(size: str, seconds: int) -> dict[str, Any]:
    tree = tree_for(size)
    if not (tree / "var" / "store").exists():
        timed(ketju("build", "--quiet", home=tree), env=env_for(tree))
    rng = random.Random(SEED)
    mix = sparql_mix(workload(tree, rng), rng)
    results: dict[str, Any] = {}
    port = free_port()
    files = [f for f in source_files(tree) if "/shapes/" not in f]
    with server([str(BIN / "rdflib-endpoint"), "serve", "--host", "127.0.0.1", "--port",
                 str(port), *files], f"http://127.0.0.1:{port}/?query=ASK%7B%7D"):
        base = f"http://127.0.0.1:{port}"  # rdflib-endpoint 0.6 answers SPARQL at "/"
        results["rdflib-endpoint"] = wrk(base, sparql_paths(mix, "/"), seconds,
                                         accept="application/sparql-results+json")
    with ketju_serve(tree, result_cache_entries="0") as (base, _):
        wrk(base, sparql_paths(mix, "/sparql"), 3)
        results["ketju (cache off)"] = wrk(base, sparql_paths(mix, "/sparql"), seconds,
                                           accept="application/sparql-results+json")
    results["triples"] = json.loads(((tree / "var" / "store").resolve() / "build.json")
                                    .read_text())["triples"]
    return results


#: Virtuoso's memory for the benchmark: 8 KiB pages, what its guide advises for 4 GB (the
#: tests' small catalogue runs on the packaged default).
VIRTUOSO_BUFFERS = 340000


def bench_remote(tree: Path, found: dict[str, list[str]], seconds: int) -> dict[str, Any]:
    """Remote mode as docs/DEPLOYMENT.md draws it: Virtuoso 7 loaded from the build's N-Quads
    dump with its bulk loader, two `ketju serve --sparql-endpoint` processes (one worker each)
    behind nginx round robin (deploy/nginx-ketju.conf); the named-query mix through the proxy,
    side by side with the same queries (the same text and bound values a remote ketju sends)
    asked of Virtuoso's `/sparql` directly."""
    sys.path.insert(0, str(ROOT))
    from tests.servers import nginx, virtuoso_server

    named = named_query_mix(found)
    direct = engine_paths(named)
    dump = (tree / "var" / "store").resolve() / "dumps" / "ketju.nq.gz"
    folder = OUT / "remote"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    results: dict[str, Any] = {"requests": len(named)}
    started = time.monotonic()
    with virtuoso_server(dump, folder, buffers=VIRTUOSO_BUFFERS) as engine:
        results["load_s"] = time.monotonic() - started
        wrk(engine.base, direct, 3, accept="application/sparql-results+json")
        results["Virtuoso directly"] = wrk(engine.base, direct, seconds,
                                           accept="application/sparql-results+json",
                                           watch=engine.process.pid)
        port = free_port()
        proxy = f"http://127.0.0.1:{port}"
        for label, extra in (("ketju ×2 behind nginx (answers kept)", {}),
                             ("ketju ×2 behind nginx (cache off)",
                              {"result_cache_entries": "0"})):
            settings = {"sparql_endpoint": engine.endpoint, "public_base_url": proxy, **extra}
            with ketju_serve(tree, workers=1, **settings) as (first, _), \
                    ketju_serve(tree, workers=1, **settings) as (second, _):
                prefix = folder / f"nginx-{len(results)}"
                backends = [first.removeprefix("http://"), second.removeprefix("http://")]
                with nginx(prefix, port, backends):
                    wrk(proxy, named, 3)
                    results[label] = wrk(proxy, named, seconds)
    return results


#: Answers the server keeps per build (`--result-cache-entries`); named queries are not kept.
KEPT = ("entity pages", "chain pages (with diagram)", "search", "compare", "similar chains",
        "indicator pages (with chart)", "package pages (with monitoring)")
PAGE_TARGETS = {"entity pages": 50, "chain pages (with diagram)": 50, "search": 30,
                "compare": 20, "similar chains": 200, "indicator pages (with chart)": 50,
                "package pages (with monitoring)": 50}


def steady(base: str, urls: list[str], accept: str, floor_rps: float, passes: int = 15) -> None:
    """Warm-up passes of 2 s until the list is served at half the floor's rate or more (only
    kept answers come that fast; each server process keeps its own), or `passes` ran."""
    for _ in range(passes):
        if wrk(base, urls, 2, accept=accept)["rps"] >= floor_rps / 2:
            return


@contextlib.contextmanager
def profiled(pid: int, seconds: float) -> Iterator[dict[str, Any]]:
    """py-spy samples of the server (all its processes) while the block runs: the ketju
    functions that hold the most samples, as shares of the samples taken."""
    found: dict[str, Any] = {}
    spy = BIN / "py-spy"
    raw = OUT / f"profile-{pid}.txt"
    process = subprocess.Popen(
        [str(spy), "record", "--pid", str(pid), "--subprocesses", "--nonblocking", "--rate",
         "100", "--duration", str(max(1, int(seconds))), "--format", "raw", "--output",
         str(raw)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) \
        if spy.exists() else None
    try:
        yield found
    finally:
        if process is not None:
            try:
                process.wait(timeout=seconds + 30)
            except subprocess.TimeoutExpired:
                process.kill()
            if raw.exists():
                found.update(profile_summary(raw.read_text(encoding="utf-8")))
                raw.unlink()


IDLE_FRAMES = ("threading.py", "queue.py", "selectors.py", "asyncio/base_events.py (select",
               "_run_once", "Condition.wait", "Event.wait")


def profile_summary(raw: str, top: int = 6) -> dict[str, Any]:
    """Busy samples (py-spy raw stacks) by the innermost ketju function on the stack: where
    ketju's own code spends the time, itself or in what it calls (queries, templates)."""
    busy = 0
    share: dict[str, int] = {}
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        if any(marker in frames[-1] for marker in IDLE_FRAMES):
            continue
        busy += int(count)
        inner = next((f for f in reversed(frames) if "ketju/" in f), None)
        if inner is not None:
            name = re.sub(r"(\.<locals>\.<(listcomp|genexpr|dictcomp|setcomp|lambda)>)+", "",
                          inner.split(" (")[0])
            share[name] = share.get(name, 0) + int(count)
    ranked = sorted(share.items(), key=lambda item: -item[1])[:top]
    return {"samples": busy,
            "top": [(name, round(100 * n / busy, 1)) for name, n in ranked] if busy else []}


def bench_api(tree: Path, paths: dict[str, list[str]], seconds: int,
              warm_passes: int = 12) -> dict[str, Any]:
    """Each request list at 16 connections, twice: with answers kept per build (the default;
    measured after warm-up passes) and with every answer made afresh (`result_cache_entries=0`,
    profiled with py-spy), plus one connection alone for the time one answer takes."""
    results: dict[str, Any] = {"kept": {}, "fresh": {}, "single": {}, "profiles": {}}
    for label in ("kept", "fresh"):
        extra = {} if label == "kept" else {"result_cache_entries": "0"}
        with ketju_serve(tree, **extra) as (base, process):
            if label == "kept":
                # The floor: the cheapest answer there is, through the same framework, with
                # wrk on the same two cores.
                wrk(base, ["/healthz"], 1)
                results["floor"] = wrk(base, ["/healthz"], max(2, seconds // 3))
            else:
                # The unit of the made-afresh figures: `/healthz` with one client, measured
                # as the pages are (wrk, one connection, on this server).
                wrk(base, ["/healthz"], 1, connections=1)
                results["healthz_single"] = wrk(base, ["/healthz"], max(2, seconds // 5),
                                                connections=1)
            for name, urls in paths.items():
                if not urls or (label == "fresh" and name not in KEPT):
                    continue
                accept = "text/html" if "pages" in name else "application/json"
                if label == "kept":
                    steady(base, urls, accept, results["floor"]["rps"], warm_passes)
                    results[label][name] = wrk(base, urls, seconds, accept=accept,
                                               watch=process.pid)
                    continue
                wrk(base, urls, 1, accept=accept)
                results["single"][name] = wrk(base, urls, max(2, seconds // 5), accept=accept,
                                              connections=1)
                with profiled(process.pid, seconds / 2) as profile:
                    results[label][name] = wrk(base, urls, max(2, seconds // 2),
                                               accept=accept, watch=process.pid)
                results["profiles"][name] = profile
    results["afresh"] = afresh_against_healthz(results)
    return results


#: Issue 15's targets for answers made afresh (`--result-cache-entries 0`): the time one
#: answer takes with one client (ms), and the p99 at 16 clients, which must be within 2× of
#: the page targets (PAGE_TARGETS).
ONE_CLIENT_TARGETS = {"chain pages (with diagram)": 5.0, "entity pages": 2.0, "compare": 3.0,
                      "search": 2.0}
#: `/healthz` with one client (ms, wrk -c1, 1000 / req/s) on the machine the ms targets are
#: set for (the 2-core Intel Xeon of bench/RESULTS.md): the targets as multiples of it are
#: what must hold on any machine. Measured 2026-12-04 as `bench_api` does (`ketju serve
#: --workers 2 --result-cache-entries 0` on tree-1m, median of five 2-second runs: 0.20–0.25
#: ms, on a busy machine); set it to `healthz_one_client_ms` of the committed run.
HEALTHZ_REFERENCE_MS = 0.22
#: Answers whose one-client time made afresh is reported without a target (issue 13).
ONE_CLIENT_REPORTED = ("indicator pages (with chart)", "package pages (with monitoring)")


def one_client_ms(run: dict[str, float]) -> float:
    """The time one answer takes with one client: wrk's one connection asks again as soon as
    it has its answer, so 1000 / req/s."""
    return 1000 / run["rps"] if run.get("rps") else float("nan")


def afresh_against_healthz(api: dict[str, Any]) -> dict[str, Any]:
    """Each made-afresh figure with an issue 15 target, in ms and as a multiple of the
    `/healthz` one-client time of the same run, against the target in both units; `met` by
    the multiple (machines differ 2-3× in absolute speed)."""
    healthz = api.get("healthz_single")
    unit = one_client_ms(healthz) if healthz else float("nan")
    figures: dict[str, Any] = {"healthz_one_client_ms": unit,
                               "healthz_reference_ms": HEALTHZ_REFERENCE_MS, "figures": []}
    for name, target in ONE_CLIENT_TARGETS.items():
        for kind, run, value, target_ms in (
                ("one client", api.get("single", {}).get(name), None, target),
                ("p99 at 16 clients", api.get("fresh", {}).get(name), "p99",
                 2 * PAGE_TARGETS[name])):
            if not run:
                continue
            ms = one_client_ms(run) if value is None else run.get(value, float("nan"))
            times = ms / unit if unit == unit and unit > 0 else float("nan")
            target_times = target_ms / HEALTHZ_REFERENCE_MS
            answered = run.get("rps", 0) > 0 and not run.get("non2xx")
            figures["figures"].append({
                "answer": name, "figure": kind, "ms": ms, "times_healthz": times,
                "target_ms": target_ms, "target_times_healthz": target_times,
                "answered": answered, "met": answered and times <= target_times})
    for name in ONE_CLIENT_REPORTED:
        run = api.get("single", {}).get(name)
        if not run:
            continue
        ms = one_client_ms(run)
        figures["figures"].append({
            "answer": name, "figure": "one client", "ms": ms,
            "times_healthz": ms / unit if unit == unit and unit > 0 else float("nan"),
            "target_ms": None, "target_times_healthz": None,
            "answered": run.get("rps", 0) > 0 and not run.get("non2xx"), "met": None})
    return figures


def afresh_table(afresh: dict[str, Any]) -> list[str]:
    """The report's table of `afresh_against_healthz`."""
    if not afresh.get("figures"):
        return []
    unit = afresh["healthz_one_client_ms"]
    lines = ["### Made afresh, against `/healthz`", "",
             f"Answers made for their request (`--result-cache-entries 0`), in ms and as "
             f"multiples of `/healthz` with one client in this run ({fmt(unit, 2)} ms, wrk "
             f"with one connection as for the pages). The targets are issue 15's, in ms for "
             f"the machine of the committed run, where `/healthz` took "
             f"{fmt(afresh['healthz_reference_ms'], 2)} ms; the multiples are what must hold "
             f"on any machine, so the verdict is by the multiple.", "",
             "| answer | figure | ms | × `/healthz` | target ms | target × | |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for f in afresh["figures"]:
        verdict_text = ("reported" if f["met"] is None else verdict(f["met"])) \
            if f["answered"] else "**not measured: errors or no answers**"
        targets = ("–", "–") if f["target_ms"] is None else (
            f"≤ {fmt(f['target_ms'], 0)}", f"≤ {fmt(f['target_times_healthz'], 1)}×")
        lines.append(f"| {f['answer']} | {f['figure']} | {fmt(f['ms'], 1)} | "
                     f"{fmt(f['times_healthz'], 1)}× | {targets[0]} | {targets[1]} | "
                     f"{verdict_text} |")
    return [*lines, ""]


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with contextlib.suppress(OSError, IndexError, ValueError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 2**20:.0f} GiB"
    versions = {}
    for package in ("pyoxigraph", "pyshacl", "rdflib", "fastapi", "uvicorn", "ketju"):
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            versions[package] = version(package)
    with contextlib.suppress(Exception):
        versions["oxigraph CLI"] = subprocess.run(
            [str(BIN / "oxigraph"), "--version"], capture_output=True, text=True
        ).stdout.strip().split()[-1]
    with contextlib.suppress(Exception):
        versions["wrk"] = subprocess.run(["wrk", "--version"], capture_output=True,
                                         text=True).stdout.split()[1]
    return {"cpu": cpu, "cores": str(os.cpu_count()), "memory": memory,
            "system": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(),
            "versions": ", ".join(f"{k} {v}" for k, v in versions.items())}


def fmt(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}".replace(",", " ")


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "–"


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def bounds(api: dict[str, Any]) -> list[str]:
    """What bounds each missed page target, from this run's own figures and profiles."""
    lines: list[str] = []
    floor = api.get("floor", {}).get("p99")
    for name, target in PAGE_TARGETS.items():
        kept = api.get("kept", {}).get(name)
        if kept and kept.get("p99", 0) > target:
            lines.append(f"- **{name}, kept**: p99 {fmt(kept['p99'])} ms against {target} ms "
                         f"({kept['p99'] / target:.2f}×). A kept answer is sent without any "
                         "work of its own, so this is the server's floor on this machine"
                         + (f": `/healthz`, the cheapest answer there is, has p99 "
                            f"{fmt(floor)} ms under the same load" if floor else "")
                         + " (the framework, two server processes and wrk share two cores).")
        fresh, single = api.get("fresh", {}).get(name), api.get("single", {}).get(name)
        if not fresh or not single or fresh.get("p99", 0) <= target or not single["rps"]:
            continue
        alone = 1000 / single["rps"]
        queue = 16 * alone / 2
        profile = api.get("profiles", {}).get(name, {})
        top = ", ".join(f"`{f}` {share} %" for f, share in profile.get("top", []))
        lines.append(f"- **{name}, made afresh**: p99 {fmt(fresh['p99'])} ms against "
                     f"{target} ms ({fresh['p99'] / target:.1f}×). One answer takes "
                     f"{fmt(alone)} ms with one client; with 16 clients on 2 cores each request "
                     f"waits behind about 16 × {fmt(alone)} / 2 = {fmt(queue)} ms of other "
                     f"requests' work, so only less work per answer lowers it."
                     + (f" Where the time goes (py-spy, innermost ketju function, share of "
                        f"{profile['samples']} busy samples of the server's processes): {top}."
                        if top else ""))
    if lines:
        lines = ["### What bounds the misses", "", *lines, ""]
    return lines


def write_report(results: dict[str, Any], path: Path) -> None:
    lines: list[str] = []
    m = results["machine"]
    build = results.get("build")
    lines += [
        "# ketju benchmarks",
        "",
        f"Run {results['date']} with `make bench SIZE={results['size']}`: a synthetic national "
        f"catalogue of {fmt(build['triples'], 0) if build else '?'} triples in "
        f"{build['files'] if build else '?'} files (23 organisers, `bench/generate.py`, "
        f"seed {SEED}).",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']} RAM, {m['system']}, "
        f"Python {m['python']}. Versions: {m['versions']}.",
        "",
        "Every figure is measured in this run, side by side with its reference; medians with "
        "min–max over the repeated runs. The load generator is wrk (a separate C process, 2 "
        "threads, 16 connections, a Lua script cycling through the request list), on the same "
        "two cores as the servers. Ratios > 1 mean ketju takes longer (times) or serves more "
        "(throughput), as labelled.",
        "",
        "## Headline",
        "",
        "| figure | ketju | reference | ratio | target | |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    headline: list[str] = []
    if build:
        b, o = build["ketju"]["median"], build["oxigraph"]["median"]
        headline.append(f"| build | {fmt(b)} s | `oxigraph load` {fmt(o)} s | {ratio(b, o)} "
                        f"| ≤ 1.2× | {verdict(b <= 1.2 * o)} |")
    validation = results.get("validation")
    if validation and "pyshacl" in validation:
        v, p = validation["ours_seeded"]["median"], validation["pyshacl"]
        size = validation["pyshacl_size"]
        stopped = "same_findings" not in validation
        theirs = f"pySHACL {'> ' if stopped else ''}{fmt(p)} s"
        agree = "findings not compared (pySHACL stopped)" if stopped else (
            "same findings" if validation["same_findings"] else "**different findings**")
        headline.append(f"| validate whole catalogue ({size}, seeded errors) | {fmt(v)} s | "
                        f"{theirs} | {'≥ ' if stopped else ''}{p / v:.1f}× faster; {agree} | "
                        f"≥ 5× faster, same findings | "
                        f"{verdict(p >= 5 * v and validation.get('same_findings', False))} |")
    if validation:
        one = validation["one_file"]["median"]
        headline.append(f"| validate one changed file | {fmt(one)} s | – | – | ≤ 5 s | "
                        f"{verdict(one <= 5)} |")
    observations = results.get("observations")
    if observations and "validate_one_file" in observations:
        one = observations["validate_one_file"]["median"]
        headline.append(f"| validate one changed observation file "
                        f"({fmt(observations['changed_rows'], 0)} rows) | {fmt(one, 2)} s | – "
                        f"| – | ≤ 2 s | {verdict(one <= 2)} |")
        added, load = observations["added"], observations["oxigraph_load"]["median"]
        headline.append(f"| build's added time for {fmt(observations['rows'], 0)} observations "
                        f"| {fmt(added)} s | `oxigraph load` of the same "
                        f"({fmt(observations['triples'], 0)} N-Triples) {fmt(load)} s | "
                        f"{ratio(added, load)} | ≤ 1.2× | {verdict(added <= 1.2 * load)} |")
    sparql = results.get("sparql")
    if sparql:
        k, o = sparql["ketju"], sparql["oxigraph"]
        headline.append(f"| `/sparql` throughput (result cache on) | {fmt(k['rps'], 0)} req/s | "
                        f"`oxigraph serve` {fmt(o['rps'], 0)} req/s | {ratio(k['rps'], o['rps'])}"
                        f" | ≥ 0.5× | {verdict(k['rps'] >= 0.5 * o['rps'])} |")
        kc = sparql["ketju (cache off)"]
        headline.append(f"| `/sparql` throughput (cache off) | {fmt(kc['rps'], 0)} req/s | "
                        f"`oxigraph serve` {fmt(o['rps'], 0)} req/s | "
                        f"{ratio(kc['rps'], o['rps'])} | ≥ 0.5× | "
                        f"{verdict(kc['rps'] >= 0.5 * o['rps'])} |")
        headline.append(f"| `/sparql` p99 (cache off) | {fmt(kc['p99'])} ms | "
                        f"`oxigraph serve` {fmt(o['p99'])} ms | {ratio(kc['p99'], o['p99'])} | "
                        f"≤ 2× | {verdict(kc['p99'] <= 2 * o['p99'])} |")
    rdflib_endpoint = results.get("rdflib_endpoint")
    if rdflib_endpoint:
        k, r = rdflib_endpoint["ketju (cache off)"], rdflib_endpoint["rdflib-endpoint"]
        headline.append(f"| `/sparql` vs rdflib-endpoint at {fmt(rdflib_endpoint['triples'], 0)}"
                        f" triples | {fmt(k['rps'], 0)} req/s | {fmt(r['rps'], 1)} req/s | "
                        f"{ratio(k['rps'], r['rps'])} | ≥ 5× | "
                        f"{verdict(k['rps'] >= 5 * r['rps'])} |")
    remote = results.get("remote")
    if remote:
        v = remote["Virtuoso directly"]
        for how in ("cache off", "answers kept"):
            k = remote[f"ketju ×2 behind nginx ({how})"]
            headline.append(f"| named queries, remote mode on Virtuoso through nginx ({how}) | "
                            f"{fmt(k['rps'], 0)} req/s, p99 {fmt(k.get('p99', 0))} ms | "
                            f"Virtuoso directly {fmt(v['rps'], 0)} req/s, p99 "
                            f"{fmt(v.get('p99', 0))} ms | {ratio(k['rps'], v['rps'])} "
                            f"throughput | – | reported |")
    api = results.get("api")
    if api:
        for name, target in PAGE_TARGETS.items():
            for label, how in (("kept", "answers kept per build"), ("fresh", "made afresh")):
                run = api.get(label, {}).get(name)
                if not run:
                    continue
                p99 = run.get("p99", 0)
                answered = run["rps"] > 0 and not run.get("non2xx")
                headline.append(f"| {name} p99 ({how}) | {fmt(p99)} ms | – | – | "
                                f"≤ {target} ms | "
                                + (f"{verdict(p99 <= target)} |" if answered
                                   else "**not measured: errors or no answers** |"))
        afresh = api.get("afresh") or afresh_against_healthz(api)
        for f in afresh.get("figures", []):
            target = "–" if f["target_ms"] is None else (
                f"≤ {fmt(f['target_times_healthz'])}× (≤ {fmt(f['target_ms'], 0)} ms)")
            outcome = ("reported" if f["met"] is None else verdict(f["met"])) \
                if f["answered"] else "**not measured: errors or no answers**"
            headline.append(
                f"| {f['answer']} made afresh, {f['figure']} | {fmt(f['ms'])} ms | "
                f"`/healthz` one client {fmt(afresh['healthz_one_client_ms'], 2)} ms | "
                f"{fmt(f['times_healthz'])}× | {target} | {outcome} |")
    lines += [*headline, ""]
    if build:
        lines += ["## Build", "",
                  f"`ketju build` {fmt(build['ketju']['median'])} s "
                  f"({fmt(build['ketju']['min'])}–{fmt(build['ketju']['max'])}, "
                  f"{build['ketju']['runs']} runs), peak RSS {fmt(build['rss'], 0)} MiB; "
                  f"`oxigraph load --file` on the same {build['files']} files "
                  f"{fmt(build['oxigraph']['median'])} s "
                  f"({fmt(build['oxigraph']['min'])}–{fmt(build['oxigraph']['max'])}), peak RSS "
                  f"{fmt(build['oxigraph_rss'], 0)} MiB.", "",
                  "Where the build's time goes (median seconds): "
                  + ", ".join(f"{k} {v:.1f}" for k, v in build["phases"].items()) + ".", ""]
    if validation:
        lines += ["## Validation", "",
                  f"`ketju validate` (whole catalogue) {fmt(validation['whole']['median'])} s "
                  f"({fmt(validation['whole']['min'])}–{fmt(validation['whole']['max'])}); "
                  f"one changed file (`{validation['changed_file']}`) "
                  f"{fmt(validation['one_file']['median'])} s "
                  f"({fmt(validation['one_file']['min'])}–{fmt(validation['one_file']['max'])})."]
        if "pyshacl" in validation:
            stopped = "same_findings" not in validation
            lines += ["",
                      f"Side by side on a copy of the {validation['pyshacl_size']} catalogue with "
                      f"{validation['seeded']} seeded errors: `ketju validate` "
                      f"{fmt(validation['ours_seeded']['median'])} s "
                      f"({fmt(validation['ours_seeded']['min'])}–"
                      f"{fmt(validation['ours_seeded']['max'])}); plain pySHACL (rdflib parsing "
                      f"included, `inference='none'`) "
                      + (f"stopped after {fmt(validation['pyshacl'])} s without finishing"
                         if stopped else f"{fmt(validation['pyshacl'])} s")
                      + f", peak RSS {fmt(validation['pyshacl_rss'], 0)} MiB."]
            if not stopped:
                lines += [f"Violations (focus node, property): ketju {validation['ours_found']}, "
                          f"pySHACL {validation['pyshacl_found']}, "
                          + ("identical." if validation["same_findings"] else
                             f"different: only ketju {validation['only_ours']}, only pySHACL "
                             f"{validation['only_pyshacl']}.")]
        lines.append("")
    if observations and "validate_one_file" in observations:
        o = observations
        lines += ["## Observations", "",
                  f"{fmt(o['rows'], 0)} indicator observations in {o['files']} CSV files "
                  f"(`data/{{region}}/observations/`, every organiser, ten years quarterly, "
                  f"some by sex), {fmt(o['triples'], 0)} triples once built.", "",
                  f"Validating one changed observation file (`{o['changed_file']}`, "
                  f"{fmt(o['changed_rows'], 0)} rows, one value changed): "
                  f"{fmt(o['validate_one_file']['median'], 2)} s "
                  f"({fmt(o['validate_one_file']['min'], 2)}–"
                  f"{fmt(o['validate_one_file']['max'], 2)}).", "",
                  f"The build with the observations {fmt(o['build_with'])} s, without them "
                  f"(their folders moved aside) {fmt(o['build_without']['median'])} s "
                  f"({fmt(o['build_without']['min'])}–{fmt(o['build_without']['max'])}): "
                  f"{fmt(o['added'])} s added, against "
                  f"{fmt(o['oxigraph_load']['median'])} s "
                  f"({fmt(o['oxigraph_load']['min'])}–{fmt(o['oxigraph_load']['max'])}) for "
                  f"`oxigraph load` of the same observations as N-Triples (the RDF the build "
                  f"made of them, dumped from its store): "
                  f"{ratio(o['added'], o['oxigraph_load']['median'])}.",
                  ""]
    if sparql:
        lines += ["## SPARQL", "",
                  "Fixed mix of distinct queries: 70 % lookups of 700 different entities, 10 % "
                  "a region's chains, 10 % chains by service class, 10 % aggregations. ketju "
                  "runs `--workers 2` (each with its query processes); `oxigraph serve-read-only "
                  "--union-default-graph` serves a copy of the same store. With the cache on, "
                  "repeated queries are answered from memory until the next build.", "",
                  "| server | req/s | p50 ms | p90 ms | p99 ms | errors | peak RSS MiB |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        for name, r in sparql.items():
            lines.append(f"| {name} | {fmt(r['rps'], 0)} | {fmt(r.get('p50', 0), 2)} | "
                         f"{fmt(r.get('p90', 0), 2)} | {fmt(r.get('p99', 0), 2)} | "
                         f"{int(r.get('non2xx', 0))} | {fmt(r['rss_mb'], 0)} |")
        lines.append("")
    if rdflib_endpoint:
        lines += [f"Against rdflib-endpoint on the {fmt(rdflib_endpoint['triples'], 0)}-triple "
                  "catalogue (same mix):", "",
                  "| server | req/s | p50 ms | p99 ms | errors |",
                  "| --- | --- | --- | --- | --- |"]
        for name, r in rdflib_endpoint.items():
            if isinstance(r, dict):
                lines.append(f"| {name} | {fmt(r['rps'], 1)} | {fmt(r.get('p50', 0), 1)} | "
                             f"{fmt(r.get('p99', 0), 1)} | {int(r.get('non2xx', 0))} |")
        lines.append("")
    if api:
        lines += ["## API and pages", "",
                  "Each list of distinct requests at 16 connections (ketju `--workers 2`). "
                  "*Kept*: the default server, after 2-second warm-up passes until the list is "
                  "served at half the `/healthz` rate or more (at most 12), so every process "
                  "has made and kept each answer of the list "
                  "(entity and chain pages, search, compare and similar chains are kept per "
                  "build; named queries are not). *Afresh*: a server with "
                  "`--result-cache-entries 0`, so every answer is made for its request. "
                  "*One client*: the afresh server with one connection, the time one answer "
                  "takes.", "",
                  "| requests | server | req/s | p50 ms | p90 ms | p99 ms | errors | "
                  "server RSS MiB |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for name in api.get("kept", {}):
            for label in ("kept", "fresh", "single"):
                r = api.get(label, {}).get(name)
                if not r:
                    continue
                server = {"kept": "kept", "fresh": "afresh", "single": "one client"}[label]
                lines.append(f"| {name} | {server} | {fmt(r['rps'], 0)} | "
                             f"{fmt(r.get('p50', 0), 1)} | {fmt(r.get('p90', 0), 1)} | "
                             f"{fmt(r.get('p99', 0), 1)} | {int(r.get('non2xx', 0))} | "
                             f"{fmt(r['rss_mb'], 0) if label != 'single' else '–'} |")
        if api.get("floor"):
            f = api["floor"]
            lines += ["", f"Floor: `/healthz` on the kept server, 16 connections: "
                          f"{fmt(f['rps'], 0)} req/s, p50 {fmt(f.get('p50', 0), 1)} ms, p99 "
                          f"{fmt(f.get('p99', 0), 1)} ms."]
        lines.append("")
        lines += afresh_table(api.get("afresh") or afresh_against_healthz(api))
        lines += bounds(api)
    if remote:
        lines += ["## Remote mode (Virtuoso 7 behind two ketju processes and nginx)", "",
                  f"Virtuoso 7 (Debian's package) bulk-loaded the build's N-Quads dump in "
                  f"{fmt(remote['load_s'])} s (start-up included). Two `ketju serve "
                  f"--sparql-endpoint` processes with one worker each run behind nginx round "
                  f"robin (`deploy/nginx-ketju.conf`), as docs/DEPLOYMENT.md draws it. The "
                  f"named-query mix ({remote['requests']} distinct requests: a region's chains, "
                  f"services by JHS 183 class) goes through the proxy; *Virtuoso directly* gets "
                  f"the same queries, with the same text and bound values a remote ketju sends "
                  f"it, at its own `/sparql`. *Answers kept*: each ketju process keeps a named "
                  f"query's rows until the next build; *cache off*: every request goes to the "
                  f"engine. Everything shares the same two cores.", "",
                  "| path | req/s | p50 ms | p90 ms | p99 ms | errors | ratio (req/s) |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        base_rps = remote["Virtuoso directly"]["rps"]
        for name, r in remote.items():
            if isinstance(r, dict):
                lines.append(f"| {name} | {fmt(r['rps'], 0)} | {fmt(r.get('p50', 0), 1)} | "
                             f"{fmt(r.get('p90', 0), 1)} | {fmt(r.get('p99', 0), 1)} | "
                             f"{int(r.get('non2xx', 0))} | {ratio(r['rps'], base_rps)} |")
        lines.append("")
    if results.get("notes"):
        lines += ["## Notes", "", *results["notes"], ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1m")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10, help="duration of each load test")
    parser.add_argument("--quick", action="store_true",
                        help="one run each, short load tests, no pySHACL (for the tests)")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "RESULTS.md")
    parser.add_argument("--skip", default="", help="comma-separated sections to skip")
    parser.add_argument("--pyshacl-size", default="10k",
                        help="catalogue size of the pySHACL comparison (pySHACL needs about 80 s "
                        "for 10k triples with these shapes; 0.1m does not finish in 4 minutes)")
    parser.add_argument("--pyshacl-limit", type=float, default=240,
                        help="seconds after which pySHACL is stopped (reported as > limit)")
    args = parser.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    repeat, seconds = (1, 2) if args.quick else (args.repeat, args.seconds)
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    results: dict[str, Any] = {"size": args.size, "machine": machine(),
                               "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                               "notes": []}

    def step(name: str, run: Callable[[], Any]) -> None:
        if name in skip:
            return
        print(f"[{time.monotonic() - started:6.0f} s] {name}", flush=True)
        results[name] = run()
        (OUT / f"results-{args.size}.json").write_text(json.dumps(results, indent=2, default=str))

    tree = tree_for(args.size)
    step("build", lambda: bench_build(tree, repeat))
    if not (tree / "var" / "store").exists():
        timed(ketju("build", "--quiet", home=tree), env=env_for(tree))
    rng = random.Random(SEED)
    found = workload(tree, rng)
    pyshacl_tree = None if args.quick else tree_for(args.pyshacl_size)
    step("validation", lambda: bench_validation(tree, repeat, pyshacl_tree,
                                                args.pyshacl_limit))
    step("observations", lambda: bench_observations(tree, repeat, results.get("build")))
    step("sparql", lambda: bench_sparql(tree, sparql_mix(found, rng), seconds))
    step("api", lambda: bench_api(tree, api_paths(found, rng), seconds,
                                  warm_passes=1 if args.quick else 12))
    step("remote", lambda: bench_remote(tree, found, seconds))
    if not args.quick:
        step("rdflib_endpoint", lambda: bench_rdflib_endpoint("0.1m", seconds))
    results["notes"].append(f"Whole run: {time.monotonic() - started:.0f} s.")
    write_report(results, args.output)
    print(f"wrote {args.output} in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
