"""The layout of a planner's workbook, declared once: its sheets, their columns, each column's
property, the kind of value it holds (a text in one language, a date, a code from a vocabulary,
a reference to another row...), whether it is required and whether it holds several values.

The writer (`write`) and the reader (`read`) both follow this table and nothing else; a statement
no column holds is kept on the sheet `OTHERS` ("Muut tiedot"), so the round trip is lossless.
The `{kind}` segments come from the registry of kinds (`ketju.core.kinds`) where it has them.

>>> [sheet.name for sheet in SHEETS][:3]
['Palvelukokonaisuus', 'Palveluketju', 'Vaiheet']
>>> by_header(sheet_named("Vaiheet"), "Järjestys").prop
'https://w3id.org/ketju/ontology#position'
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from ketju.core.kinds import by_segment
from ketju.core.namespaces import (
    ADMS,
    CV,
    DCAT,
    DCT,
    FOAF,
    JHS183_SCHEME,
    ONTOLOGY,
    ORG,
    PROV,
    RDF,
    SDMX_ATTRIBUTE,
    SKOS,
    VOCAB,
)

K: Final = ONTOLOGY

#: The sheet of statements no column holds: subject, property, value in Turtle term syntax.
OTHERS: Final = "Muut tiedot"
#: The instructions sheet, the hidden code lists and the hidden facts about the file.
INSTRUCTIONS: Final = "Ohjeet"
CODE_LISTS: Final = "Koodistot"
META: Final = "_ketju"
#: Rows 1 and 2 are headers (Finnish; "svenska / English"); data starts on row 3.
FIRST_ROW: Final = 3
#: Several values in one cell are separated by this character.
SEPARATOR: Final = ";"


class Value(StrEnum):
    """What a cell holds and how it becomes an RDF term."""

    TEXT = "text"          # a literal in the column's language
    STRING = "string"      # a plain xsd:string literal
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATE = "date"
    DURATION = "duration"  # ISO 8601, e.g. P3D, PT48H
    PERIOD = "period"      # 2025, 2025-12 or 2025-Q4
    CODE = "code"          # a concept of a vocabulary (drop-down)
    REF = "ref"            # another entity: its slug, region/kind/slug, or its IRI
    IRI = "iri"            # any IRI, written out
    CLASS = "class"        # an extra class of the ontology, by its local name


@dataclass(frozen=True)
class Column:
    key: str
    fi: str
    sv_en: str
    prop: str
    value: Value
    lang: str | None = None
    #: CODE: the concept scheme; REF: the `{kind}` segment ("step"/"transition": of the chain).
    target: str | None = None
    required: bool = False
    many: bool = False
    #: The statement is (value, prop, row) instead of (row, prop, value).
    inverse: bool = False
    #: The value is on the entity the column `via` (on the same sheet) points at.
    via: str | None = None
    width: int = 18


@dataclass(frozen=True)
class Sheet:
    name: str
    sv_en: str
    cls: str
    segment: str
    columns: tuple[Column, ...]
    #: The column naming the chain (steps and transitions live under their chain's IRI).
    chain_column: str | None = None

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


def _class(segment: str) -> str:
    """The class of the kind whose data IRIs have the `{kind}` segment `segment`."""
    return by_segment(segment).iri


def _id(example: str) -> Column:
    return Column("id", "Tunniste", "Identifierare / Identifier", "", Value.REF, width=28,
                  target=example)


def _names(required: bool = True) -> tuple[Column, ...]:
    return (
        Column("name_fi", "Nimi (suomi)", "Namn (finska) / Name (Finnish)", SKOS + "prefLabel",
               Value.TEXT, "fi", required=required, width=40),
        Column("name_sv", "Nimi (ruotsi)", "Namn (svenska) / Name (Swedish)", SKOS + "prefLabel",
               Value.TEXT, "sv", width=32),
        Column("name_en", "Nimi (englanti)", "Namn (engelska) / Name (English)",
               SKOS + "prefLabel", Value.TEXT, "en", width=32),
    )


def _texts(key: str, fi: str, sv: str, en: str, prop: str,
           langs: tuple[str, ...] = ("fi", "sv", "en")) -> tuple[Column, ...]:
    words = {"fi": ("suomi", "finska", "Finnish"), "sv": ("ruotsi", "svenska", "Swedish"),
             "en": ("englanti", "engelska", "English")}
    return tuple(Column(f"{key}_{lang}", f"{fi} ({words[lang][0]})",
                        f"{sv} ({words[lang][1]}) / {en} ({words[lang][2]})", prop, Value.TEXT,
                        lang, width=48) for lang in langs)


def _common() -> tuple[Column, ...]:
    return (
        Column("illustrative", "Esimerkki", "Exempel / Illustrative", K + "illustrative",
               Value.BOOLEAN, width=11),
        Column("source", "Lähde", "Källa / Source", DCT + "source", Value.STRING, many=False,
               width=40),
    )


def _v(scheme: str) -> str:
    return VOCAB + scheme


STATUS_SCHEME: Final = "http://purl.org/adms/status/"
MODEL_STATE_SCHEME: Final = _v("model-state")


def _life_cycle(segment: str) -> tuple[Column, ...]:
    """The life-cycle columns of a description (package or chain): /work/notes contract."""
    return (
        Column("status", "Tila", "Status / Status", ADMS + "status", Value.CODE,
               target=STATUS_SCHEME, width=16),
        Column("version", "Versio", "Version / Version", DCAT + "version", Value.STRING,
               width=9),
        Column("valid_from", "Voimassa alkaen", "Gäller från / Valid from", K + "validFrom",
               Value.DATE, width=14),
        Column("valid_until", "Voimassa asti", "Gäller till / Valid until", K + "validUntil",
               Value.DATE, width=14),
        Column("model_state", "Nykytila vai tavoitetila", "Nuläge eller målläge / "
               "Current state or target model", K + "modelState", Value.CODE,
               target=MODEL_STATE_SCHEME, width=16),
        Column("target_model_of", "Tavoitetila nykytilalle", "Målläge för nuläget / "
               "Target model of", K + "targetModelOf", Value.REF, target=segment, width=24),
        Column("replaces", "Korvaa kuvauksen", "Ersätter / Replaces", DCT + "replaces",
               Value.REF, target=segment, width=24),
        Column("replaced_by", "Korvattu kuvauksella", "Ersatt av / Replaced by",
               DCT + "isReplacedBy", Value.REF, target=segment, width=24),
        Column("decision", "Hyväksymispäätös", "Beslut / Approving decision", K + "approvedBy",
               Value.REF, target="decision", width=24),
        Column("decision_title", "Päätöksen nimi", "Beslutets namn / Title of the decision",
               SKOS + "prefLabel", Value.TEXT, "fi", via="decision", width=32),
        Column("decision_title_sv", "Päätöksen nimi (ruotsi)", "Beslutets namn (svenska) / "
               "Title of the decision (Swedish)", SKOS + "prefLabel", Value.TEXT, "sv",
               via="decision", width=32),
        Column("decision_title_en", "Päätöksen nimi (englanti)", "Beslutets namn (engelska) / "
               "Title of the decision (English)", SKOS + "prefLabel", Value.TEXT, "en",
               via="decision", width=32),
        Column("decision_body", "Päättäjä", "Beslutande organ / Deciding body",
               PROV + "wasAssociatedWith", Value.REF, target="organisation", via="decision",
               width=24),
        Column("decision_date", "Päätöspäivä", "Beslutsdatum / Date of the decision",
               DCT + "date", Value.DATE, via="decision", width=14),
        Column("decision_reference", "Päätöksen viite", "Hänvisning / Reference",
               DCT + "identifier", Value.STRING, via="decision", width=26),
        Column("decision_link", "Päätöksen verkko-osoite", "Länk till beslutet / "
               "Link to the decision", FOAF + "page", Value.IRI, via="decision", width=32),
    )


_PACKAGE, _CHAIN, _SERVICE, _PRODUCER = "package", "chain", "service", "producer"
_GOAL, _INDICATOR, _TARGET = "goal", "indicator", "target"


def _description_columns(segment: str) -> tuple[Column, ...]:
    return (
        Column("organiser", "Järjestäjä", "Anordnare / Organiser", K + "organiser", Value.REF,
               target="organiser", required=True, many=True, width=22),
        Column("segment", "Asiakassegmentti", "Kundsegment / Customer segment",
               K + "targetSegment", Value.REF, target="segment", required=True, many=True,
               width=30),
        Column("main_goal", "Päätavoite", "Huvudmål / Main goal", K + "hasMainGoal",
               Value.REF, target=_GOAL, required=True, many=True, width=30),
        Column("goals", "Muut tavoitteet", "Övriga mål / Other goals", K + "hasGoal",
               Value.REF, target=_GOAL, many=True, width=30),
        Column("role", "Vastuurooli", "Ansvarig roll / Responsible role", K + "responsibleRole",
               Value.CODE, target=_v("role"), required=True, many=True, width=22),
        Column("integration_form", "Integraation muoto", "Integrationsform / Integration form",
               K + "integrationForm", Value.CODE, target=_v("integration-form"), many=True,
               width=20),
        Column("steering", "Ohjauskeinot", "Styrningsåtgärder / Steering measures",
               K + "hasSteeringMeasure", Value.REF, target="steering-measure", many=True,
               width=26),
        Column("interfaces", "Yhdyspinnat", "Gränsytor / Interfaces", K + "hasInterface",
               Value.REF, target="interface", many=True, width=24),
        Column("plan_template", "Asiakassuunnitelman pohja", "Kundplan / Customer plan template",
               K + "customerPlanTemplate", Value.REF, target="plan-template", many=True,
               width=24),
    )


SHEETS: Final[tuple[Sheet, ...]] = (
    Sheet("Palvelukokonaisuus", "Servicehelhet / Service package", _class(_PACKAGE),
          _PACKAGE, (
              _id(_PACKAGE), *_names(),
              *_texts("description", "Kuvaus", "Beskrivning", "Description",
                      DCT + "description"),
              *_description_columns(_PACKAGE),
              Column("co_organiser", "Muu järjestäjä", "Annan anordnare / Co-organiser",
                     K + "coOrganiser", Value.REF, target="organiser", many=True, width=22),
              Column("services", "Palvelut", "Tjänster / Services", K + "includesService",
                     Value.REF, target=_SERVICE, required=True, many=True, width=40),
              Column("sub_packages", "Osakokonaisuudet", "Delhelheter / Sub-packages",
                     K + "hasSubPackage", Value.REF, target=_PACKAGE, many=True, width=24),
              Column("related", "Liittyvät kokonaisuudet", "Relaterade helheter / Related "
                     "packages", K + "relatedPackage", Value.REF, target=_PACKAGE, many=True,
                     width=24),
              *_life_cycle(_PACKAGE), *_common())),
    Sheet("Palveluketju", "Servicekedja / Service chain", _class(_CHAIN), _CHAIN, (
        _id(_CHAIN), *_names(),
        Column("chain_kind", "Ketjun laji", "Kedjans typ / Kind of chain", "", Value.CLASS,
               many=True, width=28),
        *_texts("description", "Kuvaus", "Beskrivning", "Description", DCT + "description"),
        *_description_columns(_CHAIN),
        Column("direction", "Integraation suunta", "Integrationsriktning / Integration "
               "direction", K + "integrationDirection", Value.CODE,
               target=_v("integration-direction"), width=18),
        Column("package", "Osa kokonaisuutta", "Del av helhet / Part of package",
               K + "partOfPackage", Value.REF, target=_PACKAGE, many=True, width=24),
        *_life_cycle(_CHAIN), *_common())),
    Sheet("Vaiheet", "Steg / Steps", K + "ChainStep", "step", (
        _id("step"),
        Column("chain", "Ketju", "Kedja / Chain", K + "hasStep", Value.REF, target=_CHAIN,
               required=True, inverse=True, width=22),
        Column("position", "Järjestys", "Ordning / Position", K + "position", Value.INTEGER,
               required=True, width=10),
        *_names(),
        Column("service", "Palvelu", "Tjänst / Service", K + "service", Value.REF,
               target=_SERVICE, required=True, width=28),
        Column("producer", "Tuottaja", "Producent / Producer", K + "responsibleProducer",
               Value.REF, target=_PRODUCER, required=True, width=24),
        Column("level", "Palvelutaso", "Servicenivå / Service level", K + "serviceLevel",
               Value.CODE, target=_v("service-level"), width=22),
        Column("role", "Vastuurooli", "Ansvarig roll / Responsible role", K + "responsibleRole",
               Value.CODE, target=_v("role"), many=True, width=22),
        Column("max_duration", "Enimmäiskesto", "Högsta längd / Maximum duration "
               "(P3D, PT48H)", K + "maximumDuration", Value.DURATION, width=14),
        Column("followed_by", "Seuraavat vaiheet", "Följande steg / Followed by",
               K + "followedBy", Value.REF, target="step", many=True, width=30),
        Column("parallel", "Rinnakkain", "Parallellt med / Parallel with", K + "parallelWith",
               Value.REF, target="step", many=True, width=22),
        Column("alternative", "Vaihtoehto vaiheelle", "Alternativ till / Alternative to",
               K + "alternativeTo", Value.REF, target="step", many=True, width=22),
        Column("optional", "Valinnainen", "Valfri / Optional", K + "optional", Value.BOOLEAN,
               width=11),
        *_texts("entry", "Aloitusehto", "Startvillkor", "Entry criterion",
                K + "entryCriterion", ("fi", "en")),
        *_texts("exit", "Päättymisehto", "Slutvillkor", "Exit criterion", K + "exitCriterion",
                ("fi", "en")),
        Column("channel", "Asiointikanava", "Kanal / Channel", K + "channel", Value.REF,
               target="channel", many=True, width=20),
        *_common()), chain_column="chain"),
    Sheet("Siirtymät", "Övergångar / Transitions", K + "Transition", "transition", (
        _id("transition"),
        Column("chain", "Ketju", "Kedja / Chain", K + "hasTransition", Value.REF,
               target=_CHAIN, required=True, inverse=True, width=22),
        *_names(),
        Column("from", "Mistä vaiheesta", "Från steg / From step", K + "fromStep", Value.REF,
               target="step", required=True, width=22),
        Column("to", "Mihin vaiheeseen", "Till steg / To step", K + "toStep", Value.REF,
               target="step", required=True, width=22),
        Column("kind", "Siirtymän laji", "Typ av övergång / Kind of hand-over",
               K + "transitionKind", Value.CODE, target=_v("transition-kind"), required=True,
               width=20),
        Column("producer", "Vastuutuottaja", "Ansvarig producent / Responsible producer",
               K + "responsibleProducer", Value.REF, target=_PRODUCER, width=24),
        Column("role", "Vastuurooli", "Ansvarig roll / Responsible role", K + "responsibleRole",
               Value.CODE, target=_v("role"), many=True, width=22),
        Column("max_wait", "Enimmäisodotus", "Högsta väntetid / Maximum wait (P2D)",
               K + "maximumWait", Value.DURATION, width=14),
        *_texts("trigger", "Käynnistäjä", "Utlösare", "Trigger", K + "trigger"),
        *_texts("information", "Siirtyvä tieto", "Information som överförs",
                "Information passed on", K + "transferredInformation"),
        *_common()), chain_column="chain"),
    Sheet("Palvelut", "Tjänster / Services", _class(_SERVICE), _SERVICE, (
        _id(_SERVICE), *_names(),
        *_texts("description", "Kuvaus", "Beskrivning", "Description", DCT + "description"),
        Column("class", "Palveluluokka (JHS 183)", "Serviceklass / Service class (JHS 183)",
               K + "serviceClass", Value.CODE, target=JHS183_SCHEME, required=True, many=True,
               width=34),
        Column("level", "Palvelutaso", "Servicenivå / Service level", K + "serviceLevel",
               Value.CODE, target=_v("service-level"), required=True, width=22),
        Column("sector", "Toimiala", "Sektor / Sector", K + "sector", Value.CODE,
               target=_v("service-sector"), required=True, width=18),
        Column("organiser", "Järjestäjä", "Anordnare / Organiser", K + "organiser", Value.REF,
               target="organiser", required=True, width=22),
        Column("producers", "Tuottajat", "Producenter / Producers", K + "producedBy",
               Value.REF, target=_PRODUCER, required=True, many=True, width=28),
        Column("task", "Palvelutehtävä", "Serviceuppgift / Service task", K + "serviceTask",
               Value.REF, target="service-task", many=True, width=28),
        Column("segment", "Asiakassegmentti", "Kundsegment / Customer segment",
               K + "targetSegment", Value.REF, target="segment", many=True, width=28),
        Column("channel", "Asiointikanava", "Kanal / Channel", CV + "hasChannel", Value.REF,
               target="channel", many=True, width=20),
        *_common())),
    Sheet("Tuottajat", "Producenter / Producers", _class(_PRODUCER), _PRODUCER, (
        _id(_PRODUCER), *_names(),
        *_texts("description", "Kuvaus", "Beskrivning", "Description", DCT + "description"),
        Column("type", "Tuottajan tyyppi", "Typ av producent / Producer type",
               K + "producerType", Value.CODE, target=_v("producer-type"), required=True,
               width=22),
        Column("parent", "Osa organisaatiota", "Del av / Part of", ORG + "subOrganizationOf",
               Value.REF, target="organiser", many=True, width=22),
        *_common())),
    Sheet("Tavoitteet", "Mål / Goals", _class(_GOAL), _GOAL, (
        _id(_GOAL), *_names(),
        Column("level", "Tavoitetaso", "Målnivå / Goal level", K + "goalLevel", Value.CODE,
               target=_v("goal-level"), required=True, width=18),
        Column("perspective", "Näkökulma", "Perspektiv / Perspective", K + "goalPerspective",
               Value.CODE, target=_v("goal-perspective"), required=True, many=True, width=22),
        Column("indicators", "Mittarit", "Indikatorer / Indicators", K + "measuredBy",
               Value.REF, target=_INDICATOR, required=True, many=True, width=34),
        Column("contributes", "Edistää tavoitetta", "Bidrar till / Contributes to",
               K + "contributesTo", Value.REF, target=_GOAL, many=True, width=26),
        Column("producers", "Tuottajat", "Producenter / Producers", K + "goalProducer",
               Value.REF, target=_PRODUCER, many=True, width=22),
        *_common())),
    Sheet("Mittarit", "Indikatorer / Indicators", _class(_INDICATOR), _INDICATOR, (
        _id(_INDICATOR), *_names(),
        Column("data_source", "Tietolähde", "Datakälla / Data source", K + "dataSource",
               Value.REF, target="data-source", required=True, many=True, width=26),
        Column("unit", "Yksikkö", "Enhet / Unit", SDMX_ATTRIBUTE + "unitMeasure", Value.CODE,
               target=_v("unit"), width=14),
        Column("kind", "Mittarin laji", "Typ av indikator / Kind of indicator",
               K + "indicatorKind", Value.CODE, target=_v("indicator-kind"), many=True,
               width=22),
        Column("polarity", "Suunta", "Riktning / Polarity", K + "polarity", Value.CODE,
               target=_v("polarity"), width=14),
        Column("national", "Kansallinen mittari", "Nationell indikator / National indicator",
               K + "nationalIndicator", Value.REF, target=_INDICATOR, width=26),
        Column("reporting_producer", "Raportoiva tuottaja", "Rapporterande producent / "
               "Reporting producer", K + "reportingProducer", Value.REF, target=_PRODUCER,
               many=True, width=22),
        Column("reported_by", "Raportoija", "Rapportör / Reported by", K + "reportedBy",
               Value.CODE, target=_v("reporter"), many=True, width=16),
        Column("reports_to", "Raportoidaan", "Rapporteras till / Reports to", K + "reportsTo",
               Value.REF, target="organiser", many=True, width=22),
        Column("frequency", "Raportointiväli", "Frekvens / Frequency",
               DCT + "accrualPeriodicity", Value.CODE,
               target="http://publications.europa.eu/resource/authority/frequency", width=16),
        Column("channel", "Raportointikanava", "Rapporteringskanal / Reporting channel",
               K + "reportingChannel", Value.CODE, target=_v("reporting-channel"), many=True,
               width=20),
        Column("forum", "Käsitellään", "Behandlas i / Discussed in", K + "discussedIn",
               Value.REF, target="forum", many=True, width=22),
        *_common())),
    Sheet("Tavoitearvot", "Målvärden / Targets", _class(_TARGET), _TARGET, (
        _id("target"),
        Column("indicator", "Mittari", "Indikator / Indicator", K + "hasTarget", Value.REF,
               target=_INDICATOR, required=True, inverse=True, width=28),
        *_names(),
        Column("value", "Tavoitearvo", "Målvärde / Target value", RDF + "value",
               Value.DECIMAL, required=True, width=12),
        Column("unit", "Yksikkö", "Enhet / Unit", SDMX_ATTRIBUTE + "unitMeasure", Value.CODE,
               target=_v("unit"), required=True, width=14),
        Column("period", "Tavoitekausi", "Period / Period (2025, 2025-12, 2025-Q4)",
               K + "targetPeriod", Value.PERIOD, required=True, width=14),
        Column("warning", "Varoitusraja", "Varningsgräns / Warning threshold",
               K + "warningThreshold", Value.DECIMAL, width=12),
        *_texts("note", "Huomautus", "Anmärkning", "Note", SKOS + "note", ("fi",)),
        *_common())),
)


def sheet_named(name: str) -> Sheet:
    return next(s for s in SHEETS if s.name == name)


def header(column: Column) -> str:
    """The Finnish header of row 1 (a required column is marked with an asterisk)."""
    return column.fi + (" *" if column.required else "")


def by_header(sheet: Sheet, text: str) -> Column | None:
    wanted = text.strip().rstrip("*").strip().casefold()
    return next((c for c in sheet.columns if c.fi.casefold() == wanted), None)
