"""The registry of kinds (ketju.core.kinds) against the tree: every kind's class is in the
ontology, a shape checks it, its queries, template and page loader exist; and the lists that
were kept by hand before the registry are what it gives now, so nothing changed for users."""

from __future__ import annotations

import re
from pathlib import Path
from pkgutil import resolve_name

import pyoxigraph as ox
import pytest

from ketju.core import kinds as registry
from ketju.core.kinds import KINDS, Kind
from ketju.core.namespaces import ONTOLOGY, PREFIXES
from ketju.core.project import Project
from ketju.core.queries import load_queries

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "src" / "ketju" / "web" / "templates"
OWL_CLASS = ox.NamedNode(PREFIXES["owl"] + "Class")
RDF_TYPE = ox.NamedNode(PREFIXES["rdf"] + "type")
TARGET_CLASS = ox.NamedNode(PREFIXES["sh"] + "targetClass")

# What the hand-kept lists held before the registry (issue 15), as they were.
OLD_SEGMENTS = {"service", "package", "chain", "producer", "interface", "goal", "indicator",
                "data-source", "segment", "steering-measure", "plan-template", "channel",
                "role", "service-task", "observation", "organisation", "organiser"}
OLD_HOME_COLUMNS = ("ServicePackage", "ServiceChain", "Service", "Producer", "Interface",
                    "Goal", "Indicator", "DataSource", "CustomerSegment", "SteeringMeasure")
OLD_SHORT_KIND = {
    "ServicePackage": "packages", "ServiceChain": "chains", "Service": "services",
    "Producer": "producers", "Interface": "interfaces", "Goal": "goals",
    "Indicator": "indicators", "DataSource": "sources", "CustomerSegment": "segments",
    "SteeringMeasure": "steering", "CustomerPlanTemplate": "plans", "Channel": "channels"}
OLD_SEARCHED = ("ServicePackage", "ServiceChain", "Service", "Organiser", "Producer",
                "Interface", "Goal", "Indicator", "DataSource", "CustomerSegment",
                "SteeringMeasure", "ServiceTask", "ServiceClass")
OLD_BOOST = {"ServicePackage": 1.5, "ServiceChain": 1.5, "Service": 1.2}
OLD_API = {"packages": ("resource-packages", "package", "ServicePackage"),
           "chains": ("resource-chains", "chain", "ServiceChain"),
           "services": ("resource-services", "service", "Service"),
           "producers": ("resource-producers", "producer", "Producer")}
OLD_TRACKED = tuple(ONTOLOGY + n for n in ("ServicePackage", "ServiceChain", "Service",
                                            "Producer"))
OLD_PAGES = {"ServiceChain": "chain.html", "Organiser": "organiser.html",
             "ServicePackage": "package.html",
             # Issue 13 (monitoring) adds these pages.
             "Goal": "goal.html", "Indicator": "indicator.html",
             "NationalIndicator": "national_indicator.html"}
#: The names the interface showed (messages.toml before the registry): one, many.
OLD_LABELS = {
    "ServicePackage": {"fi": ("palvelukokonaisuus", "Palvelukokonaisuudet"),
                       "sv": ("servicehelhet", "Servicehelheter"),
                       "en": ("service package", "Packages")},
    "ServiceChain": {"fi": ("palveluketju", "Palveluketjut"),
                     "sv": ("servicekedja", "Servicekedjor"), "en": ("service chain", "Chains")},
    "Service": {"fi": ("palvelu", "Palvelut"), "sv": ("tjänst", "Tjänster"),
                "en": ("service", "Services")},
    "Organiser": {"fi": ("järjestäjä", None), "sv": ("anordnare", None),
                  "en": ("organiser", None)},
    "Producer": {"fi": ("tuottaja", "Tuottajat"), "sv": ("producent", "Producenter"),
                 "en": ("producer", "Producers")},
    "Interface": {"fi": ("yhdyspinta", "Yhdyspinnat"), "sv": ("gränsyta", "Gränsytor"),
                  "en": ("interface", "Interfaces")},
    "Goal": {"fi": ("tavoite", "Tavoitteet"), "sv": ("mål", "Mål"), "en": ("goal", "Goals")},
    "Indicator": {"fi": ("mittari", "Mittarit"), "sv": ("mätare", "Mätare"),
                  "en": ("indicator", "Indicators")},
    "DataSource": {"fi": ("tietolähde", "Tietolähteet"), "sv": ("datakälla", "Datakällor"),
                   "en": ("data source", "Data sources")},
    "CustomerSegment": {"fi": ("asiakassegmentti", "Segmentit"),
                        "sv": ("kundsegment", "Segment"),
                        "en": ("customer segment", "Segments")},
    "SteeringMeasure": {"fi": ("ohjauskeino", "Ohjaus"), "sv": ("styrmedel", "Styrning"),
                        "en": ("steering measure", "Steering")},
    "ServiceTask": {"fi": ("palvelutehtävä", None), "sv": ("serviceuppgift", None),
                    "en": ("service task", None)},
    "ServiceClass": {"fi": ("palveluluokka", None), "sv": ("serviceklass", None),
                     "en": ("service class", None)},
}


def turtle_of(folder: Path) -> ox.Store:
    store = ox.Store()
    for path in sorted(folder.rglob("*.ttl")):
        store.load(path=str(path), format=ox.RdfFormat.TURTLE)
    return store


@pytest.fixture(scope="module")
def ontology(project: Project) -> ox.Store:
    return turtle_of(project.root / "ontology")


@pytest.fixture(scope="module")
def shapes(project: Project) -> ox.Store:
    return turtle_of(project.root / "shapes")


def kind_id(kind: Kind) -> str:
    return kind.name


@pytest.mark.parametrize("kind", KINDS, ids=kind_id)
def test_class_is_in_the_ontology(ontology: ox.Store, kind: Kind) -> None:
    cls = ox.NamedNode(kind.iri)
    if kind.iri.startswith(ONTOLOGY):
        assert any(ontology.quads_for_pattern(cls, RDF_TYPE, OWL_CLASS)), \
            f"ontology/ declares no owl:Class <{kind.iri}>"
    else:
        # A class of a standard the ontology reuses: the ontology must say how it uses it.
        assert any(ontology.quads_for_pattern(None, None, cls)), \
            f"ontology/ never mentions <{kind.iri}>"


@pytest.mark.parametrize("kind", [k for k in KINDS if k.shaped], ids=kind_id)
def test_a_shape_targets_it(shapes: ox.Store, kind: Kind) -> None:
    assert any(shapes.quads_for_pattern(None, TARGET_CLASS, ox.NamedNode(kind.iri))), \
        f"no shape in shapes/ has sh:targetClass <{kind.iri}>"


@pytest.mark.parametrize("kind", [k for k in KINDS if k.list_query], ids=kind_id)
def test_list_query_exists_and_binds_the_entity(project: Project, kind: Kind) -> None:
    queries = load_queries(project.queries_dir)
    assert kind.list_query in queries, f"queries/{kind.list_query}.rq is missing"
    assert kind.api and kind.segment
    assert re.search(rf"\?{re.escape(kind.segment)}\b", queries[kind.list_query].body), \
        f"{kind.list_query} must answer the entity as ?{kind.segment}"


@pytest.mark.parametrize("kind", [k for k in KINDS if k.page], ids=kind_id)
def test_page_template_and_loader_exist(kind: Kind) -> None:
    assert kind.page is not None
    assert (TEMPLATES / kind.page.template).is_file()
    assert callable(resolve_name(kind.page.loader))


def test_labels_are_complete_and_keys_unique() -> None:
    for kind in KINDS:
        for lang, text in kind.label.items():
            assert text.strip(), f"{kind.name} has no {lang} name"
        if kind.lists:
            assert kind.plural is not None, f"{kind.name} is listed, so it needs a plural"
    for key in ("name", "segment", "api", "short"):
        values = [getattr(k, key) for k in KINDS if getattr(k, key) is not None]
        assert len(values) == len(set(values)), f"two kinds share a {key}"


def values_of(query: str, project: Project) -> set[str]:
    """The classes in the `VALUES ?class|?kind { ... }` of a named query, as IRIs."""
    text = (project.queries_dir / f"{query}.rq").read_text(encoding="utf-8")
    prefixes = dict(re.findall(r"PREFIX\s+(\w*):\s*<([^>]*)>", text))
    block = re.search(r"VALUES\s+\?\w+\s*\{([^}]*)\}", text)
    assert block is not None
    return {prefixes[p] + local for p, local in re.findall(r"(\w+):(\w+)", block.group(1))}


def test_queries_that_count_kinds_follow_the_registry(project: Project) -> None:
    # SPARQL lives in queries/; these two name kinds, so they must agree with the registry.
    counted = {registry.by_name(n).iri for n in registry.shown_on(registry.HOME)}
    columns = {k.iri for k in KINDS if k.short}
    assert values_of("catalogue-summary", project) == counted | columns
    held = {registry.by_name(n).iri for n in registry.shown_on(registry.ORGANISER)}
    assert values_of("region-catalogue", project) == held


# --- the lists derived from the registry are the ones kept by hand before ---------------------

def test_iri_segments_are_unchanged() -> None:
    # Issue 13 added the numeric target and the dialogue forum (monitoring), issue 16 the
    # decision that approves a description.
    assert set(registry.SEGMENTS) == OLD_SEGMENTS | {"target", "forum", "decision"}


def test_home_page_columns_are_unchanged() -> None:
    assert registry.shown_on(registry.HOME) == OLD_HOME_COLUMNS
    assert registry.shown_on(registry.REGIONS) == ("ServicePackage", "ServiceChain", "Service")
    assert registry.shown_on(registry.ORGANISER) == ("ServicePackage", "ServiceChain")


def test_cli_columns_are_unchanged() -> None:
    from ketju.cli import SHORT_KIND

    assert list(SHORT_KIND.items()) == list(OLD_SHORT_KIND.items())


def test_search_kinds_and_boosts_are_unchanged() -> None:
    from ketju.infra import search

    assert search.KIND_CLASSES == OLD_SEARCHED
    assert search.KIND_BOOST == OLD_BOOST


def test_api_lists_are_unchanged() -> None:
    from ketju.web.api import LISTED

    assert {path: (k.list_query, k.segment, k.name) for path, k in LISTED.items()} == OLD_API
    assert list(LISTED) == list(OLD_API)


def test_change_stream_classes_are_unchanged() -> None:
    from ketju.infra.feeds.ldes import TRACKED_CLASSES

    assert TRACKED_CLASSES == OLD_TRACKED


def test_pages_are_unchanged() -> None:
    assert {k.name: k.page.template for k in KINDS if k.page} == OLD_PAGES


def test_labels_are_unchanged() -> None:
    from ketju.web.i18n import translate

    for name, by_lang in OLD_LABELS.items():
        for lang, (one, many) in by_lang.items():
            assert translate("kind_" + name, lang) == one
            if many is not None:
                assert translate("kinds_" + name, lang) == many


def test_validation_knows_every_segment(project_copy: Project) -> None:
    """A data IRI with a segment the registry does not know is refused, naming the known."""
    from ketju.infra.validate import validate

    target = project_copy.data_dir / "kainuu" / "odd.ttl"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
                      "<https://w3id.org/ketju/id/kainuu/gadget/x> skos:prefLabel \"x\"@fi .\n",
                      encoding="utf-8")
    report = validate(project_copy, [target])
    texts = " ".join(f.text("en") for f in report.findings if f.code == "iri-scheme")
    assert "gadget" in texts and "steering-measure" in texts


def test_no_other_list_of_kinds_in_the_code() -> None:
    """The registry is the only list of kinds: no other module or template holds three kind
    names or more as strings (a list kept by hand). SPARQL names classes to query them, and
    the two queries that list kinds are checked above."""
    code = ROOT / "src" / "ketju"
    names = {kind.name for kind in KINDS}
    pattern = re.compile(r"""["']({})["']""".format("|".join(sorted(names))))
    # Not lists of kinds: the classes the code-list generator gives the organisers it writes
    # (ketju:Organiser, org:Organization, cv:PublicOrganisation) and the JHS 183 concepts.
    not_lists = {code / "core" / "kinds.py", code / "infra" / "codelists.py"}
    lists = {}
    for path in sorted([*code.rglob("*.py"), *code.rglob("*.html")]):
        if path in not_lists:
            continue
        found = set(pattern.findall(path.read_text(encoding="utf-8")))
        if len(found) >= 3:
            lists[str(path.relative_to(ROOT))] = sorted(found)
    assert not lists, f"kinds listed outside ketju.core.kinds: {lists}"
