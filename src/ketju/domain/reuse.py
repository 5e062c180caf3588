"""Reuse: derive a region's own draft of another region's service chain.

`derive_chain` copies a chain - its statements, steps, transitions, goals and the goals'
indicators - into the target region's namespace and returns it as Turtle, ready to be saved as
`data/{region}/{slug}-{source region}.ttl`:

- every copied node gets a new IRI there, derived only from the source IRIs, so deriving the
  same chain again gives the same IRIs and byte for byte the same file;
- every new node says `prov:wasDerivedFrom` its source node;
- references between copied nodes are rewritten; national and vocabulary IRIs are kept, and so
  are references to the source region's services, data sources, segments and other
  descriptions, which exist and can be replaced later (an editorial note on the chain lists them);
- the organiser becomes the target region's organiser;
- producers are mapped to the target's producers (`read_producer_map`) or replaced by clearly
  marked placeholders of the same producer type;
- the copy is a draft (`adms:status` UnderDevelopment) without the source's version and date,
  nor its life cycle (decision, validity, successor, current state or target model).

References that only the source region can keep (its steering measures, interfaces and
packages, and goals outside the chain) are left out and listed in the note too. Nothing is
stored: the caller (`ketju reuse`, `POST /api/chains/{id}/reuse`) writes or returns the text.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from ketju.core import namespaces as ns
from ketju.core.namespaces import ADMS, DCAT, DCT, ORG, PROV, SKOS, XSD
from ketju.core.turtle import prefix_lines, string_literal
from ketju.infra.snapshot import Snapshot

K = ns.ONTOLOGY
RDF_TYPE = ns.RDF_TYPE

STATUS = ns.ADMS_STATUS
DRAFT = STATUS + "UnderDevelopment"
PREF_LABEL = SKOS + "prefLabel"
EDITORIAL_NOTE = SKOS + "editorialNote"
DERIVED_FROM = PROV + "wasDerivedFrom"

#: Statements about the source's own life cycle, not carried over to the draft.
DROPPED_PREDICATES = frozenset({
    DCAT + "version", DCT + "modified", ADMS + "status", DERIVED_FROM, EDITORIAL_NOTE,
    # The life cycle (issue 16): the draft is a new description, not approved, valid, replacing
    # or replaced, nor the source's current state or its target model.
    K + "approvedBy", K + "validFrom", K + "validUntil", DCT + "replaces", DCT + "isReplacedBy",
    K + "modelState", K + "targetModelOf",
})
#: Links to how the source region governs its chain: the target decides its own.
REGIONAL_ONLY_LINKS = frozenset({
    K + "hasSteeringMeasure", K + "hasInterface", K + "partOfPackage", K + "contributesTo",
})
PRODUCER_LINKS = frozenset({K + "responsibleProducer", K + "goalProducer"})

LANGUAGES = ("fi", "sv", "en")
_SLUG = re.compile(ns.SLUG)
_PREFIX_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_LOCAL_NAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?")

Object = ox.NamedNode | ox.Literal


class ReuseError(ValueError):
    """A chain cannot be derived as asked; the message says why in plain words.

    `str(error)` is the English message; `messages` holds it in Finnish ("fi") and English
    ("en") for pages and API answers.
    """

    def __init__(self, en: str, fi: str | None = None) -> None:
        super().__init__(en)
        self.messages = {"fi": fi or en, "en": en}


@dataclass(frozen=True)
class Derivation:
    """A derived chain: its Turtle text and what was made.

    `new_iris` maps every source node to the node made from it (the chain, steps, transitions,
    goals and indicators, and each placeholder producer from the producer it stands in for);
    `placeholders` lists the placeholder producers, `source_references` the IRIs of other
    regions the draft still points to and `dropped_references` the links left out.
    """

    turtle: str
    chain_iri: str
    new_iris: dict[str, str]
    placeholders: list[str]
    source_references: list[str] = field(default_factory=list)
    dropped_references: list[str] = field(default_factory=list)


@dataclass
class _Producer:
    """A producer named in the source chain, as read with `reuse-producers`."""

    iri: str
    types: set[str] = field(default_factory=set)
    labels: dict[str, str] = field(default_factory=dict)
    parents: set[str] = field(default_factory=set)

    def label(self, lang: str) -> str:
        for candidate in (lang, "fi", "en", "sv", ""):
            if candidate in self.labels:
                return self.labels[candidate]
        return self.iri.rsplit("/", 1)[-1]


# ---------------------------------------------------------------------------------------------
# Reading the producer map
# ---------------------------------------------------------------------------------------------


def read_producer_map(path: Path) -> dict[str, str]:
    """Read a CSV file with the header `source,target`: source producer IRI -> target IRI.

    IRIs may be written with or without angle brackets; blank lines are skipped. A file saved
    by a spreadsheet (byte-order mark, `;` as separator) is accepted.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise ReuseError(f"The producer map {path} cannot be read: {error.strerror}.",
                         f"Tuottajavastaavuuksien tiedostoa {path} ei voi lukea: "
                         f"{error.strerror}.") from None
    except UnicodeDecodeError:
        raise ReuseError(f"The producer map {path} is not UTF-8 text; save it as UTF-8 CSV.",
                         f"Tuottajavastaavuuksien tiedosto {path} ei ole UTF-8-tekstiä; "
                         "tallenna se UTF-8-muotoisena CSV-tiedostona.") from None
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [cell.strip().lower() for cell in next(reader, [])]
    if "source" not in header or "target" not in header:
        raise ReuseError(
            f"The producer map {path.name} must start with the header line `source,target` "
            "(the source region's producer IRI, then the target region's producer IRI).",
            f"Tuottajavastaavuuksien tiedoston {path.name} ensimmäisen rivin pitää olla "
            "`source,target` (lähdealueen tuottajan IRI, sitten kohdealueen tuottajan IRI).")
    source_at, target_at = header.index("source"), header.index("target")
    mapping: dict[str, str] = {}
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        line = reader.line_num
        cells = [cell.strip().strip("<>").strip() for cell in row]
        source = cells[source_at] if source_at < len(cells) else ""
        target = cells[target_at] if target_at < len(cells) else ""
        for value in (source, target):
            if not re.fullmatch(r"https?://[^\s<>\"{}|\\^`]+", value):
                raise ReuseError(
                    f"{path.name}, line {line}: '{value}' is not an IRI; give both the source "
                    "and the target producer as full IRIs (https://w3id.org/ketju/id/...).",
                    f"{path.name}, rivi {line}: '{value}' ei ole IRI; anna sekä lähde- että "
                    "kohdetuottaja kokonaisena IRI:nä (https://w3id.org/ketju/id/...).")
        if mapping.get(source, target) != target:
            raise ReuseError(
                f"{path.name}, line {line}: <{source}> is mapped twice, to <{mapping[source]}> "
                f"and to <{target}>; keep one.",
                f"{path.name}, rivi {line}: <{source}> on kahdesti, kohteina "
                f"<{mapping[source]}> ja <{target}>; jätä toinen pois.")
        mapping[source] = target
    return mapping


# ---------------------------------------------------------------------------------------------
# Deriving a chain
# ---------------------------------------------------------------------------------------------


def derive_chain(
    snapshot: Snapshot,
    chain_iri: str,
    target_region: str,
    producer_map: Mapping[str, str] | None = None,
) -> Derivation:
    """Derive a draft of the chain `chain_iri` in `target_region`'s namespace, as Turtle.

    `producer_map` maps source producer IRIs to existing producers the target uses instead;
    producers left unmapped (other than national ones and the target's own) become
    placeholders. Raises ReuseError for an unknown chain or region, for `national` as the
    target, and for a mapping to a producer that does not exist.
    """
    organiser = _check_target(snapshot, target_region)
    source = _check_chain_iri(chain_iri)
    source_region, source_slug = source["region"], source["slug"]
    statements = _read_statements(snapshot, chain_iri)
    if chain_iri not in statements:
        raise ReuseError(
            f"There is no service chain <{chain_iri}> in the catalogue. Check the address, or "
            "run `ketju build` if the chain was added after the last build.",
            f"Luettelossa ei ole palveluketjua <{chain_iri}>. Tarkista osoite, tai aja "
            "`ketju build`, jos ketju on lisätty viimeisimmän koonnin jälkeen.")
    mapping = _check_producer_map(snapshot, producer_map or {})
    base = ns.region_namespace(target_region)
    plan = _plan_copies(statements, chain_iri, base, f"{source_slug}-{source_region}")
    producers = _read_producers(snapshot, chain_iri)
    producer_iris, placeholders = _plan_producers(producers, mapping, base, target_region)
    _check_unique({**plan.new_iris, **placeholders})
    copied = _copy_statements(statements, plan.new_iris, producer_iris, organiser,
                              target_region)
    triples = copied.triples
    illustrative = (K + "illustrative", ox.Literal(True)) in statements[chain_iri]
    for source_producer, placeholder in placeholders.items():
        triples.update(dict.fromkeys(_placeholder_triples(
            placeholder, producers[source_producer], organiser, illustrative)))
    version = _text(statements[chain_iri], DCAT + "version", "")
    triples.update(dict.fromkeys(_chain_notes(
        plan.new_chain, chain_iri, source_region, version, sorted(placeholders.values()),
        sorted(copied.kept), sorted(copied.dropped))))
    outside = sorted({s for s, _, _ in triples if not s.startswith(base)})
    if outside:  # pragma: no cover - every subject above is made in the target's namespace
        raise AssertionError(f"subjects outside {base}: {outside}")
    header = _header(
        target_region, source_region, chain_iri,
        _text(statements[chain_iri], PREF_LABEL, "fi") or chain_iri, version,
        _text(statements[chain_iri], DCT + "modified", ""), len(placeholders),
        sorted(copied.kept), sorted(copied.dropped))
    sections = _sections(plan, triples, placeholders)
    order = [iri for _, subjects in sections for iri in subjects]
    writer = _TurtleWriter(target_region, chain_iri, plan.new_chain, order)
    turtle = writer.document(header, sections, triples)
    _check_parses(turtle)
    return Derivation(
        turtle=turtle,
        chain_iri=plan.new_chain,
        new_iris={**plan.new_iris, **placeholders},
        placeholders=sorted(placeholders.values()),
        source_references=sorted(copied.kept),
        dropped_references=sorted(copied.dropped),
    )


@dataclass(frozen=True)
class _Plan:
    """Which nodes of the source are copied, and their new IRIs (source IRI -> new IRI)."""

    new_chain: str
    new_iris: dict[str, str]
    steps: list[str]
    transitions: list[str]
    goals: list[str]
    indicators: list[str]


def _plan_copies(statements: Mapping[str, list[tuple[str, Object]]], chain_iri: str,
                 base: str, new_slug: str) -> _Plan:
    """The chain, its steps, transitions and regional goals and indicators, with new IRIs
    under `base` (the target region's namespace)."""
    def linked(subject: str, *predicates: str) -> list[str]:
        return sorted({o.value for p, o in statements.get(subject, ())
                       if p in predicates and isinstance(o, ox.NamedNode)
                       and o.value in statements})

    steps = linked(chain_iri, K + "hasStep")
    transitions = linked(chain_iri, K + "hasTransition")
    goals = [g for g in linked(chain_iri, K + "hasMainGoal", K + "hasGoal")
             if _region_of(g) != "national"]
    indicators = sorted({i for g in goals for i in linked(g, K + "measuredBy")
                         if _region_of(i) != "national"})
    new_chain = f"{base}chain/{new_slug}"
    new_iris = {chain_iri: new_chain}
    new_iris.update({s: f"{new_chain}/step/{_slug_of(s)}" for s in steps})
    new_iris.update({t: f"{new_chain}/transition/{_slug_of(t)}" for t in transitions})
    new_iris.update({g: f"{base}goal/{new_slug}-{_slug_of(g)}" for g in goals})
    new_iris.update({i: f"{base}indicator/{new_slug}-{_slug_of(i)}" for i in indicators})
    _check_unique(new_iris)
    return _Plan(new_chain, new_iris, steps, transitions, goals, indicators)


def _plan_producers(producers: Mapping[str, _Producer], mapping: Mapping[str, str], base: str,
                    target_region: str) -> tuple[dict[str, str], dict[str, str]]:
    """Producers mapped (`mapping`), kept (national or the target's own) or replaced by a
    placeholder: (source IRI -> IRI used, source IRI -> placeholder)."""
    producer_iris: dict[str, str] = {}
    placeholders: dict[str, str] = {}
    for iri, producer in sorted(producers.items()):
        if iri in mapping:
            producer_iris[iri] = mapping[iri]
        elif _region_of(iri) not in (None, "national", target_region):
            placeholder = (f"{base}producer/placeholder-{_region_of(iri)}-"
                           f"{_slug_of(producer.iri)}")
            producer_iris[iri] = placeholders[iri] = placeholder
    return producer_iris, placeholders


@dataclass
class _Copied:
    """The statements copied onto the new nodes (a dict as an ordered set: literals keep this
    order within a language when written), and the source region's nodes still referred to
    (`kept`) or left out (`dropped`)."""

    triples: dict[tuple[str, str, Object], None] = field(default_factory=dict)
    kept: set[str] = field(default_factory=set)
    dropped: set[str] = field(default_factory=set)


def _copy_statements(statements: Mapping[str, list[tuple[str, Object]]],
                     new_iris: Mapping[str, str], producer_iris: Mapping[str, str],
                     organiser: str, target_region: str) -> _Copied:
    """Copy the statements of every planned node onto its new IRI, each with
    prov:wasDerivedFrom its source."""
    copied = _Copied()
    for old, new in new_iris.items():
        for predicate, obj in statements[old]:
            if predicate in DROPPED_PREDICATES:
                continue
            if isinstance(obj, ox.NamedNode):
                value = obj.value
                if predicate == K + "organiser":
                    obj = ox.NamedNode(organiser)
                elif value in new_iris:
                    obj = ox.NamedNode(new_iris[value])
                elif value in producer_iris and predicate in PRODUCER_LINKS:
                    obj = ox.NamedNode(producer_iris[value])
                elif _region_of(value) not in (None, "national", target_region):
                    if predicate in REGIONAL_ONLY_LINKS:
                        copied.dropped.add(value)
                        continue
                    copied.kept.add(value)
            copied.triples[(new, predicate, obj)] = None
        copied.triples[(new, DERIVED_FROM, ox.NamedNode(old))] = None
    return copied


def _sections(plan: _Plan, triples: Mapping[tuple[str, str, Object], None],
              placeholders: Mapping[str, str]) -> list[tuple[str, list[str]]]:
    """The draft's sections and their subjects, in the order they are written."""
    new_iris = plan.new_iris
    step_order = sorted((new_iris[s] for s in plan.steps),
                        key=lambda iri: (_position(triples, iri), iri))
    main_goals = {o.value for s, p, o in triples
                  if s == plan.new_chain and p == K + "hasMainGoal"}
    return [
        ("Chain", [plan.new_chain]),
        ("Steps", step_order),
        ("Transitions", _transition_order(triples, [new_iris[t] for t in plan.transitions])),
        ("Goals and indicators",
         sorted((new_iris[g] for g in plan.goals), key=lambda iri: (iri not in main_goals, iri))
         + sorted(new_iris[i] for i in plan.indicators)),
        ("Placeholder producers: replace or complete these", sorted(placeholders.values())),
    ]


# ---------------------------------------------------------------------------------------------
# Checks and reads
# ---------------------------------------------------------------------------------------------


def _check_target(snapshot: Snapshot, region: str) -> str:
    """The organiser of the target region; ReuseError when it cannot receive a chain."""
    if region == "national":
        raise ReuseError(
            "A chain cannot be reused into 'national': national definitions are shared by all "
            "regions and hold no region's own chains. Give a region's short name, for example "
            "kainuu.",
            "Ketjua ei voi käyttää uudelleen kohteeseen 'national': kansalliset määrittelyt ovat "
            "kaikkien alueiden yhteisiä, eikä niissä ole alueiden omia ketjuja. Anna alueen "
            "lyhyt nimi, esimerkiksi kainuu.")
    rows = snapshot.select("reuse-regions")
    known = sorted({row["region"].value.removeprefix(ns.VOCAB + "region/") for row in rows})
    organisers = sorted(row["organiser"].value for row in rows
                        if row["region"].value == ns.region_iri(region) and "organiser" in row)
    if region not in known:
        listing = ", ".join(known) if known else "(none; run `ketju build`)"
        raise ReuseError(
            f"'{region}' is not a known region. Give the region's short name, one of: "
            f"{listing}.",
            f"'{region}' ei ole tunnettu alue. Anna alueen lyhyt nimi, jokin näistä: "
            f"{listing}.")
    wanted = ns.organiser_iri(region)
    if wanted not in organisers:
        raise ReuseError(
            f"The region '{region}' has no organiser <{wanted}> in the catalogue, so a chain "
            "cannot be given to it.",
            f"Alueella '{region}' ei ole luettelossa järjestäjää <{wanted}>, joten sille ei voi "
            "johtaa ketjua.")
    return wanted


def _check_chain_iri(chain_iri: str) -> dict[str, str]:
    parts = ns.parse_data_iri(chain_iri)
    if parts is None or parts["kind"] != "chain" or "subkind" in parts:
        raise ReuseError(
            f"<{chain_iri}> is not the address of a service chain; it should look like "
            "https://w3id.org/ketju/id/{region}/chain/{slug}.",
            f"<{chain_iri}> ei ole palveluketjun osoite; sen pitää olla muotoa "
            "https://w3id.org/ketju/id/{alue}/chain/{tunniste}.")
    return parts


def _check_producer_map(snapshot: Snapshot, producer_map: Mapping[str, str]) -> dict[str, str]:
    """The map, once every target is known to be a producer in the catalogue."""
    for source, target in sorted(producer_map.items()):
        try:
            node = ox.NamedNode(target)
        except ValueError:
            node = None
        exists = node is not None and snapshot.data.ask(
            f"ASK {{ ?producer a <{K}Producer> }}", {"producer": node})
        if not exists:
            raise ReuseError(
                f"The producer map points <{source}> to <{target}>, which is not a producer "
                "(ketju:Producer) in the catalogue. Check the address, or describe the producer "
                "first (for example in data/{region}/producers.ttl) and build again.",
                f"Tuottajavastaavuus ohjaa tuottajan <{source}> kohteeseen <{target}>, joka ei "
                "ole luettelossa tuottaja (ketju:Producer). Tarkista osoite, tai kuvaa tuottaja "
                "ensin (esimerkiksi tiedostossa data/{alue}/producers.ttl) ja kokoa uudelleen.")
    return dict(producer_map)


def _read_statements(snapshot: Snapshot, chain_iri: str) -> dict[str, list[tuple[str, Object]]]:
    """The source statements by subject (named subjects and objects only)."""
    rows = snapshot.select("chain-for-reuse", chain=ox.NamedNode(chain_iri))
    found: dict[str, set[tuple[str, Object]]] = defaultdict(set)
    for row in rows:
        subject, obj = row.get("s"), row.get("o")
        if isinstance(subject, ox.NamedNode) and isinstance(obj, ox.NamedNode | ox.Literal):
            found[subject.value].add((row["p"].value, obj))
    return {s: sorted(pairs, key=lambda pair: (pair[0], str(pair[1])))
            for s, pairs in found.items()}


def _read_producers(snapshot: Snapshot, chain_iri: str) -> dict[str, _Producer]:
    producers: dict[str, _Producer] = {}
    rows = snapshot.select("reuse-producers", chain=ox.NamedNode(chain_iri))
    for row in rows:
        iri = row["producer"].value
        producer = producers.setdefault(iri, _Producer(iri))
        if "producerType" in row:
            producer.types.add(row["producerType"].value)
        label = row.get("label")
        if isinstance(label, ox.Literal):
            producer.labels.setdefault(label.language or "", label.value)
        if "parent" in row:
            producer.parents.add(row["parent"].value)
    return producers


def _check_unique(new_iris: Mapping[str, str]) -> None:
    seen: dict[str, str] = {}
    for old, new in sorted(new_iris.items()):
        if new in seen:
            raise ReuseError(
                f"<{seen[new]}> and <{old}> would both become <{new}>; the source chain names "
                "two of its parts alike. Rename one of them in the source first.",
                f"<{seen[new]}> ja <{old}> saisivat saman uuden osoitteen <{new}>; lähdeketjun "
                "kahdella osalla on sama tunniste. Nimeä toinen niistä lähteessä uudelleen.")
        seen[new] = old


# ---------------------------------------------------------------------------------------------
# New statements
# ---------------------------------------------------------------------------------------------


def _placeholder_triples(iri: str, source: _Producer, organiser: str,
                         illustrative: bool) -> list[tuple[str, str, Object]]:
    region = _region_of(source.iri) or ""
    labels = {
        "fi": f"TÄYDENNÄ: tuottaja – vastaa lähteen ({region}) tuottajaa «{source.label('fi')}»",
        "sv": f"KOMPLETTERA: producent – motsvarar källans ({region}) producent "
              f"«{source.label('sv')}»",
        "en": f"TO BE COMPLETED: producer matching «{source.label('en')}» of {region}",
    }
    notes = {
        "fi": "Paikkamerkki, jonka `ketju reuse` loi johdettua palveluketjua varten. Korvaa se "
              "alueen omalla tuottajalla (tai johda ketju uudelleen valitsimella --producers) tai "
              "täydennä sen nimi ja kuvaus. Tuottajatyyppi on kopioitu lähteen tuottajalta "
              f"<{source.iri}>.",
        "en": "Placeholder made by `ketju reuse` for a derived service chain. Replace it with "
              "one of the region's own producers (or derive the chain again with --producers), "
              "or complete its name and description. The producer type is copied from the "
              f"source producer <{source.iri}>.",
    }
    triples: list[tuple[str, str, Object]] = [
        (iri, RDF_TYPE, ox.NamedNode(K + "Producer")),
        (iri, DERIVED_FROM, ox.NamedNode(source.iri)),
    ]
    triples += [(iri, PREF_LABEL, ox.Literal(text, language=lang)) for lang, text in labels.items()]
    triples += [(iri, EDITORIAL_NOTE, ox.Literal(text, language=lang))
                for lang, text in notes.items()]
    triples += [(iri, K + "producerType", ox.NamedNode(t)) for t in sorted(source.types)]
    if ns.organiser_iri(region) in source.parents:
        # The source's own unit: the placeholder stands for one of the target's own units.
        triples.append((iri, ORG + "subOrganizationOf", ox.NamedNode(organiser)))
    if illustrative:
        triples.append((iri, K + "illustrative", ox.Literal(True)))
    return triples


def _chain_notes(chain: str, source: str, source_region: str, version: str,
                 placeholders: list[str], kept: list[str],
                 dropped: list[str]) -> list[tuple[str, str, Object]]:
    """Status, provenance and the editorial notes that tell the region what to do next."""
    of_version = f" (versio {version})" if version else ""
    of_version_en = f" (version {version})" if version else ""
    notes = [(
        f"Luonnos, joka on johdettu alueen {source_region} palveluketjusta <{source}>{of_version} "
        "komennolla `ketju reuse`. Nimet, kuvaukset, tavoitteet ja mittarit on kopioitu "
        "lähteestä: muokkaa ne alueen omiksi ja vaihda tila, kun kuvaus on hyväksytty.",
        f"Draft derived from the service chain <{source}>{of_version_en} of {source_region} with "
        "`ketju reuse`. Names, descriptions, goals and indicators are copied from the source: "
        "make them the region's own and change the status once the description is approved.",
    )]
    if placeholders:
        listing = ", ".join(f"<{p}>" for p in placeholders)
        notes.append((
            "Nämä tuottajat ovat paikkamerkkejä (TÄYDENNÄ), jotka vastaavat lähteen tuottajia: "
            f"{listing}.",
            "These producers are placeholders (TO BE COMPLETED) standing for the source's "
            f"producers: {listing}.",
        ))
    if kept:
        listing = ", ".join(f"<{k}>" for k in kept)
        notes.append((
            f"Nämä viittaukset osoittavat yhä lähdealueen ({source_region}) kuvauksiin; korvaa "
            f"ne alueen omilla, kun ne on kuvattu: {listing}.",
            f"These references still point to the source region's ({source_region}) "
            f"descriptions; replace them with the region's own once described: {listing}.",
        ))
    if dropped:
        listing = ", ".join(f"<{d}>" for d in dropped)
        notes.append((
            "Näitä lähteen alueellisia kytköksiä (ohjaustoimenpiteet, yhdyspinnat, "
            f"palvelukokonaisuus, ketjun ulkopuoliset tavoitteet) ei kopioitu: {listing}.",
            "These regional links of the source (steering measures, interfaces, package, goals "
            f"outside the chain) were not copied: {listing}.",
        ))
    triples: list[tuple[str, str, Object]] = [
        (chain, ADMS + "status", ox.NamedNode(DRAFT)),
        (chain, DCT + "source", ox.Literal(
            f"Johdettu komennolla ketju reuse palveluketjusta <{source}>{of_version}.",
            language="fi")),
        (chain, DCT + "source", ox.Literal(
            f"Derived with ketju reuse from the service chain <{source}>{of_version_en}.",
            language="en")),
    ]
    for fi, en in notes:
        triples.append((chain, EDITORIAL_NOTE, ox.Literal(fi, language="fi")))
        triples.append((chain, EDITORIAL_NOTE, ox.Literal(en, language="en")))
    return triples


def _header(target: str, source_region: str, source: str, label: str, version: str,
            modified: str, placeholders: int, kept: list[str], dropped: list[str]) -> list[str]:
    label = " ".join(label.split())
    stamp = ", ".join(part for part in (f"version {version}" if version else "",
                                        f"modified {modified}" if modified else "") if part)
    lines = [
        f"{target}: service chain derived from {source_region}'s «{label}».",
        "",
        f"Written by `ketju reuse` from <{source}>" + (f" ({stamp})." if stamp else "."),
        "A draft (adms:status UnderDevelopment) for the region to edit: names, descriptions,",
        "goals and indicators are copied from the source, and every new node says",
        "prov:wasDerivedFrom the node it was copied from.",
    ]
    if placeholders:
        lines.append(f"{placeholders} producer(s) are placeholders marked TÄYDENNÄ / TO BE "
                     "COMPLETED (end of file):")
        lines.append("replace them with the region's own producers, or derive again with "
                     "--producers MAPFILE.")
    if kept:
        lines.append(f"{len(kept)} reference(s) still point to other regions' descriptions "
                     "(listed in the chain's skos:editorialNote).")
    if dropped:
        lines.append(f"{len(dropped)} regional link(s) of the source were left out "
                     "(listed in the chain's skos:editorialNote).")
    return lines


# ---------------------------------------------------------------------------------------------
# Writing Turtle
# ---------------------------------------------------------------------------------------------

_FIXED_PREFIXES = {
    "ketju": ns.ONTOLOGY,
    "rdf": ns.PREFIXES["rdf"],
    "rdfs": ns.PREFIXES["rdfs"],
    "xsd": XSD,
    "skos": SKOS,
    "dct": DCT,
    "prov": PROV,
    "adms": ADMS,
    "dcat": DCAT,
    "org": ORG,
    "cv": ns.PREFIXES["cv"],
    "foaf": ns.PREFIXES["foaf"],
    "status": STATUS,
    "freq": ns.EU_AUTHORITY + "frequency/",
    "jhs": ns.JHS183_CODES,
    "ptvtg": ns.PTV_TARGET_GROUPS,
    "ptvle": ns.PTV_LIFE_EVENTS,
}
_FIRST_PREDICATES = [
    RDF_TYPE, PREF_LABEL, SKOS + "altLabel", DCT + "description", K + "position",
    K + "fromStep", K + "toStep", K + "service", K + "transitionKind", K + "responsibleProducer",
    K + "responsibleRole", K + "producerType",
]
_LAST_PREDICATES = [
    DCT + "source", EDITORIAL_NOTE, K + "illustrative", ADMS + "status", DERIVED_FROM,
]
_LANGUAGE_ORDER = {lang: i for i, lang in enumerate(LANGUAGES)}
_WIDTH = 100


class _TurtleWriter:
    """Readable, deterministic Turtle: prefixes for the namespaces used, sorted statements."""

    def __init__(self, target: str, source_chain: str, new_chain: str, order: list[str]) -> None:
        self.target = target
        self.fixed = dict(_FIXED_PREFIXES)
        self.fixed.update({
            "step": f"{new_chain}/step/",
            "transition": f"{new_chain}/transition/",
            "source-step": f"{source_chain}/step/",
            "source-transition": f"{source_chain}/transition/",
        })
        self.names: dict[str, str] = {}  # prefix name -> namespace, as used
        self.order = {iri: i for i, iri in enumerate(order)}

    def document(self, header: list[str], sections: list[tuple[str, list[str]]],
                 triples: Iterable[tuple[str, str, Object]]) -> str:
        by_subject: dict[str, list[tuple[str, Object]]] = defaultdict(list)
        for s, p, o in triples:
            by_subject[s].append((p, o))
        body: list[str] = []
        for title, subjects in sections:
            if not subjects:
                continue
            body += ["", "# " + "-" * 93, f"# {title}", "# " + "-" * 93]
            for subject in subjects:
                body += ["", *self.block(subject, by_subject[subject])]
        lines = [f"# {line}".rstrip() for line in header] + [""]
        lines += prefix_lines(self.prefixes())
        return "\n".join(lines + body) + "\n"

    def prefixes(self) -> list[tuple[str, str]]:
        fixed = [(n, self.names[n]) for n in self.fixed if n in self.names]
        others = sorted((n, v) for n, v in self.names.items() if n not in self.fixed)
        return fixed + others

    def block(self, subject: str, pairs: list[tuple[str, Object]]) -> list[str]:
        by_predicate: dict[str, list[Object]] = defaultdict(list)
        for predicate, obj in pairs:
            by_predicate[predicate].append(obj)
        predicates = sorted(by_predicate, key=self.predicate_key)
        lines = []
        for n, predicate in enumerate(predicates):
            verb = "a" if predicate == RDF_TYPE else self.iri(predicate)
            lead = f"{self.iri(subject)} {verb} " if n == 0 else f"    {verb} "
            end = " ." if n == len(predicates) - 1 else " ;"
            objects = [self.term(o) for o in sorted(by_predicate[predicate],
                                                     key=self.object_key)]
            one_line = lead + ", ".join(objects) + end
            literal = any(isinstance(o, ox.Literal) for o in by_predicate[predicate])
            if len(objects) == 1 or (not literal and len(one_line) <= _WIDTH):
                lines.append(one_line)
            else:
                lines.append(lead + objects[0] + ",")
                lines += [f"        {o}," for o in objects[1:-1]]
                lines.append(f"        {objects[-1]}{end}")
        return lines

    def predicate_key(self, predicate: str) -> tuple[int, int, str]:
        if predicate in _FIRST_PREDICATES:
            return (0, _FIRST_PREDICATES.index(predicate), "")
        if predicate in _LAST_PREDICATES:
            return (2, _LAST_PREDICATES.index(predicate), "")
        return (1, 0, self.iri(predicate))

    def object_key(self, obj: Object) -> tuple[int, int, str]:
        """IRIs in document order, then by name; literals by language (fi, sv, en, others).

        The sort is stable, so literals of one language keep the order they were made in.
        """
        if isinstance(obj, ox.NamedNode):
            return (0, self.order.get(obj.value, len(self.order)), self.iri(obj.value))
        language = obj.language or ""
        return (1, _LANGUAGE_ORDER.get(language, len(_LANGUAGE_ORDER)), language)

    def term(self, obj: Object) -> str:
        if isinstance(obj, ox.NamedNode):
            return self.iri(obj.value)
        text = string_literal(obj.value)
        if obj.language:
            return f"{text}@{obj.language}"
        datatype = obj.datatype.value
        if datatype == XSD + "string":
            return text
        if datatype == XSD + "integer" and re.fullmatch(r"[+-]?[0-9]+", obj.value):
            return obj.value
        if datatype == XSD + "boolean" and obj.value in ("true", "false"):
            return obj.value
        return f"{text}^^{self.iri(datatype)}"

    def iri(self, iri: str) -> str:
        """A prefixed name when the namespace has (or can get) a prefix, else <iri>."""
        for name, namespace in self.fixed.items():
            local = iri.removeprefix(namespace)
            if iri.startswith(namespace) and _LOCAL_NAME.fullmatch(local):
                return self.use(name, namespace, local) or f"<{iri}>"
        guess = self.guess(iri)
        if guess is not None:
            name, namespace = guess
            used = self.use(name, namespace, iri.removeprefix(namespace))
            if used:
                return used
        return f"<{iri}>"

    def guess(self, iri: str) -> tuple[str, str] | None:
        """A prefix for a vocabulary scheme ({scheme}:) or a regional kind ({region}-{kind}:)."""
        if iri.startswith(ns.VOCAB):
            scheme, _, local = iri.removeprefix(ns.VOCAB).partition("/")
            if local and "/" not in local:
                return scheme, f"{ns.VOCAB}{scheme}/"
        parts = ns.parse_data_iri(iri)
        if parts is not None and "subkind" not in parts:
            region, kind = parts["region"], parts["kind"]
            name = kind if region == self.target else f"{region}-{kind}"
            return name, f"{ns.ID}{region}/{kind}/"
        return None

    def use(self, name: str, namespace: str, local: str) -> str | None:
        if not (_PREFIX_NAME.fullmatch(name) and _LOCAL_NAME.fullmatch(local)):
            return None
        if self.names.setdefault(name, namespace) != namespace:
            return None
        return f"{name}:{local}"


def _check_parses(turtle: str) -> None:
    try:
        list(ox.parse(turtle.encode("utf-8"), format=ox.RdfFormat.TURTLE))
    except SyntaxError as error:  # pragma: no cover - the writer above only writes valid terms
        raise AssertionError(f"ketju reuse wrote invalid Turtle: {error}") from error


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


def _region_of(iri: str) -> str | None:
    """The region of a regional data IRI (…/id/{region}/…), or None for other IRIs."""
    if not iri.startswith(ns.ID):
        return None
    return iri.removeprefix(ns.ID).split("/", 1)[0] or None


def _slug_of(iri: str) -> str:
    """The last segment of an IRI as a slug (made into one when the source broke the rules)."""
    last = iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    if _SLUG.fullmatch(last):
        return last
    plain = unicodedata.normalize("NFKD", last).encode("ascii", "ignore").decode().lower()
    return "-".join(re.findall(r"[a-z0-9]+", plain)) or "x"


def _text(pairs: Iterable[tuple[str, Object]], predicate: str, language: str) -> str:
    """The first literal of a predicate in a language ("" for a plain literal)."""
    values = sorted(o.value for p, o in pairs if p == predicate and isinstance(o, ox.Literal)
                    and (o.language or "") == language)
    return values[0] if values else ""


def _position(triples: Collection[tuple[str, str, Object]], step: str) -> int:
    for s, p, o in triples:
        if s == step and p == K + "position" and isinstance(o, ox.Literal):
            try:
                return int(o.value)
            except ValueError:
                return 0
    return 0


def _transition_order(triples: Collection[tuple[str, str, Object]],
                      transitions: list[str]) -> list[str]:
    """Transitions in the order of the steps they join, then by IRI."""
    ends: dict[tuple[str, str], str] = {}
    for s, p, o in triples:
        if s in transitions and p in (K + "fromStep", K + "toStep"):
            ends[(s, p)] = o.value
    positions = {s: _position(triples, s) for s in set(ends.values())}

    def key(transition: str) -> tuple[int, int, str]:
        start = positions.get(ends.get((transition, K + "fromStep"), ""), 0)
        end = positions.get(ends.get((transition, K + "toStep"), ""), 0)
        return (start, end, transition)

    return sorted(transitions, key=key)
