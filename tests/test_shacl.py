"""The SPARQL-compiled SHACL engine: every shape has valid and invalid fixtures, each invalid
fixture lists the results it must produce, and pySHACL must find exactly the same results."""

from __future__ import annotations

import re
from pathlib import Path

import pyshacl
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SH

from ketju.core.namespaces import PREFIXES
from ketju.infra.shacl import (
    ShapesGraph,
    UnsupportedShape,
    focus_nodes,
    term_text,
    validate_store,
)
from tests.conftest import FIXTURES, ROOT, ontology_paths, store_of

SHAPE_FIXTURES = FIXTURES / "shapes"
BASE_IRI = "https://w3id.org/ketju/id/kainuu/"
VALID = sorted((SHAPE_FIXTURES / "valid").glob("*.ttl"))
INVALID = sorted((SHAPE_FIXTURES / "invalid").glob("*.ttl"))


@pytest.fixture(scope="module")
def shapes() -> ShapesGraph:
    return ShapesGraph.from_files(str(p) for p in sorted((ROOT / "shapes").glob("*.ttl")))


def short(iri: str) -> str:
    for name, namespace in PREFIXES.items():
        if iri.startswith(namespace):
            return f"{name}:{iri[len(namespace):]}"
    return iri


def path_text(path: str | None) -> str:
    """`<a>` -> `prefix:a`, `^<a>` -> `^prefix:a`, `(<a>|<b>)` -> `prefix:a|prefix:b`."""
    if path is None:
        return "-"
    return re.sub(r"<([^>]+)>", lambda m: short(m.group(1)), path).strip("()")


def expectations(path: Path) -> set[tuple[str, str, str, str]]:
    found = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := re.match(r"# expect: (\S+) (\S+) (\S+)( warning)?$", line):
            component, focus, prop, warning = match.groups()
            severity = "Warning" if warning else "Violation"
            found.add((component, BASE_IRI + focus, prop, severity))
    return found


def run_ours(shapes: ShapesGraph, fixture: Path) -> list:
    files = [*ontology_paths(), SHAPE_FIXTURES / "base.ttl", fixture]
    return [r for r in validate_store(store_of(files), shapes) if r.focus.startswith(BASE_IRI)]


def normalised(value: str | None) -> str | None:
    """rdflib rewrites some ill-formed literals ("yes"^^xsd:boolean -> "false"); do the same."""
    if value is None or not value.startswith('"'):
        return value
    match = re.match(r'^"(.*)"\^\^<(.+)>$', value, re.S)
    if match:
        return term_text(Literal(match.group(1), datatype=URIRef(match.group(2))))
    return value


def run_pyshacl(shapes: ShapesGraph, fixture: Path) -> set[tuple]:
    data = Graph()
    for path in [*ontology_paths(), SHAPE_FIXTURES / "base.ttl", fixture]:
        data.parse(path, format="turtle")
    _, results, _ = pyshacl.validate(data, shacl_graph=shapes.graph, inference="none")
    found = set()
    for result in results.subjects(SH.resultSeverity, None):
        focus = term_text(results.value(result, SH.focusNode))
        if not focus.startswith(BASE_IRI):
            continue
        path = results.value(result, SH.resultPath)
        value = results.value(result, SH.value)
        found.add((
            focus,
            shapes._path(path) if path is not None and not isinstance(path, URIRef)
            else (f"<{path}>" if path is not None else None),
            None if value is None else term_text(value),
            str(results.value(result, SH.resultSeverity)).rsplit("#", 1)[1],
            str(results.value(result, SH.sourceConstraintComponent)).rsplit("#", 1)[1],
        ))
    return found


def node_shape_of(shapes: ShapesGraph, shape_id: str) -> str:
    """The node shape a (property) shape belongs to."""
    node = URIRef(shape_id) if not shape_id.startswith("N") else None
    for subject in shapes.graph.subjects(SH.property, None):
        if any(str(o) == shape_id for o in shapes.graph.objects(subject, SH.property)):
            return str(subject)
    return str(node) if node is not None else shape_id


def test_every_shape_is_exercised_by_the_fixtures(shapes: ShapesGraph) -> None:
    """Each node shape fails on some invalid fixture and has a target in some valid fixture."""
    failing = {
        node_shape_of(shapes, r.shape) for fixture in INVALID for r in run_ours(shapes, fixture)
    }
    valid_store = store_of([*ontology_paths(), SHAPE_FIXTURES / "base.ttl", *VALID])
    for shape in shapes._node_shapes():
        assert str(shape) in failing, f"no invalid fixture fails {shape}"
        target = shapes._target(shape)
        rows = valid_store.query(f"ASK {{ {{ {target} }} FILTER(STRSTARTS(STR(?this), "
                                 f"\"{BASE_IRI}\")) }}", use_default_graph_as_union=True)
        assert bool(rows), f"no valid fixture has a target of {shape}"


@pytest.mark.parametrize("fixture", VALID, ids=lambda p: p.stem)
def test_valid_fixture_has_no_results(shapes: ShapesGraph, fixture: Path) -> None:
    assert run_ours(shapes, fixture) == []


@pytest.mark.parametrize("fixture", INVALID, ids=lambda p: p.stem)
def test_invalid_fixture_gives_exactly_the_expected_results(
    shapes: ShapesGraph, fixture: Path
) -> None:
    expected = expectations(fixture)
    assert expected, f"{fixture.name} declares no '# expect:' lines"
    found = {
        (r.component.removesuffix("ConstraintComponent"), r.focus, path_text(r.path), r.severity)
        for r in run_ours(shapes, fixture)
    }
    assert found == expected


@pytest.mark.slow
@pytest.mark.parametrize("fixture", VALID + INVALID, ids=lambda p: p.stem)
def test_same_results_as_pyshacl(shapes: ShapesGraph, fixture: Path) -> None:
    ours = {
        (r.focus, r.path, normalised(r.value), r.severity, r.component)
        for r in run_ours(shapes, fixture)
    }
    assert ours == run_pyshacl(shapes, fixture)


def test_messages_are_in_finnish_and_english(shapes: ShapesGraph) -> None:
    results = run_ours(shapes, SHAPE_FIXTURES / "invalid" / "chain-problems.ttl")
    duplicate = next(r for r in results if r.component == "SPARQLConstraintComponent"
                     and r.focus.endswith("chain/rikki"))
    assert duplicate.messages["fi"].startswith("Kahdella ketjun vaiheella on sama järjestysnumero")
    assert '"1"' in duplicate.messages["en"]


def test_unsupported_features_are_refused() -> None:
    graph = Graph().parse(data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <urn:s> a sh:NodeShape ; sh:targetClass <urn:C> ; sh:closed true .
    """, format="turtle")
    with pytest.raises(UnsupportedShape, match="closed"):
        ShapesGraph(graph).compile({})


def test_focus_nodes_restrict_results(shapes: ShapesGraph) -> None:
    fixture = SHAPE_FIXTURES / "invalid" / "goal.ttl"
    store = store_of([*ontology_paths(), SHAPE_FIXTURES / "base.ttl", fixture])
    base = focus_nodes(store, [(SHAPE_FIXTURES / "base.ttl").resolve().as_uri()])
    assert base and validate_store(store, shapes, focus=base) == []
    assert validate_store(store, shapes, focus=[]) == []
    only_fixture = validate_store(store, shapes,
                                  focus=focus_nodes(store, [fixture.resolve().as_uri()]))
    assert {r.focus for r in only_fixture} == {BASE_IRI + f for f in (
        "goal/ilman-mittaria", "goal/vaara-mittari", "indicator/ilman-lahdetta",
        "indicator/vaara-lahde", "data-source/ilman-lajia")}


@pytest.mark.slow
def test_known_difference_derived_integer_types(shapes: ShapesGraph, tmp_path: Path) -> None:
    """Oxigraph stores xsd:positiveInteger as xsd:integer; pySHACL keeps the derived type."""
    fixture = tmp_path / "positive.ttl"
    text = (SHAPE_FIXTURES / "valid" / "chain.ttl").read_text(encoding="utf-8")
    fixture.write_text(text.replace("ketju:position 1 ;",
                                    'ketju:position "1"^^xsd:positiveInteger ;'), encoding="utf-8")
    assert run_ours(shapes, fixture) == []
    assert {r[4] for r in run_pyshacl(shapes, fixture)} == {"DatatypeConstraintComponent"}
