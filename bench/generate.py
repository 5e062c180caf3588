"""Generate a synthetic national ketju catalogue in Turtle for benchmarks and tests.

The catalogue covers all 23 organisers (wellbeing services counties, Helsinki and HUS). It is
sized by one parameter, the target number of triples (about 10k, 100k, 1M or 5M), and is fully
determined by the seed: the same seed gives byte-identical files.

Usage::

    python bench/generate.py --size 1m --out /tmp/bench1m [--seed 20261123]

The output folder becomes a project tree: symlinks to the repository's ``ontology``, ``shapes``,
``queries`` and ``standards`` folders and a generated ``data`` folder, so that
``KETJU_HOME=/tmp/bench1m ketju validate`` and ``ketju build`` work on it.

Chains are derived from a national pool of chain templates (one per customer segment) and
mutated per region, so that comparing chains across regions finds real overlap.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SEED = 20261123
ID = "https://w3id.org/ketju/id/"
VOCAB = "https://w3id.org/ketju/vocab/"
LINKED_FOLDERS = ("ontology", "shapes", "queries", "standards")

# --------------------------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------------------------

REGIONS: dict[str, tuple[str, str, str]] = {
    "ita-uusimaa": ("Itä-Uusimaa", "Östra Nyland", "Eastern Uusimaa"),
    "keski-uusimaa": ("Keski-Uusimaa", "Mellersta Nyland", "Central Uusimaa"),
    "lansi-uusimaa": ("Länsi-Uusimaa", "Västra Nyland", "Western Uusimaa"),
    "vantaa-kerava": ("Vantaa ja Kerava", "Vanda och Kervo", "Vantaa and Kerava"),
    "varsinais-suomi": ("Varsinais-Suomi", "Egentliga Finland", "Southwest Finland"),
    "satakunta": ("Satakunta", "Satakunta", "Satakunta"),
    "kanta-hame": ("Kanta-Häme", "Egentliga Tavastland", "Kanta-Häme"),
    "pirkanmaa": ("Pirkanmaa", "Birkaland", "Pirkanmaa"),
    "paijat-hame": ("Päijät-Häme", "Päijänne-Tavastland", "Päijät-Häme"),
    "kymenlaakso": ("Kymenlaakso", "Kymmenedalen", "Kymenlaakso"),
    "etela-karjala": ("Etelä-Karjala", "Södra Karelen", "South Karelia"),
    "etela-savo": ("Etelä-Savo", "Södra Savolax", "South Savo"),
    "pohjois-savo": ("Pohjois-Savo", "Norra Savolax", "North Savo"),
    "pohjois-karjala": ("Pohjois-Karjala", "Norra Karelen", "North Karelia"),
    "keski-suomi": ("Keski-Suomi", "Mellersta Finland", "Central Finland"),
    "etela-pohjanmaa": ("Etelä-Pohjanmaa", "Södra Österbotten", "South Ostrobothnia"),
    "pohjanmaa": ("Pohjanmaa", "Österbotten", "Ostrobothnia"),
    "keski-pohjanmaa": ("Keski-Pohjanmaa", "Mellersta Österbotten", "Central Ostrobothnia"),
    "pohjois-pohjanmaa": ("Pohjois-Pohjanmaa", "Norra Österbotten", "North Ostrobothnia"),
    "kainuu": ("Kainuu", "Kajanaland", "Kainuu"),
    "lappi": ("Lappi", "Lappland", "Lapland"),
    "helsinki": ("Helsinki", "Helsingfors", "Helsinki"),
    "hus": ("HUS", "HUS", "HUS"),
}

# JHS 183 service classes: (fi, sv, en).
JHS: dict[str, tuple[str, str, str]] = {
    "P3.6": ("lapsiperheiden sosiaalipalvelut", "socialservice för barnfamiljer",
             "social services for families with children"),
    "P3.7": ("kasvatus- ja perheneuvonta", "uppfostrings- och familjerådgivning",
             "child guidance and family counselling"),
    "P3.8": ("lastensuojelu", "barnskydd", "child welfare"),
    "P4.1": ("asumispalvelut", "boendeservice", "housing services"),
    "P4.2": ("vanhusten palvelut", "äldreomsorg", "services for older people"),
    "P4.3": ("kotihoito", "hemvård", "home care"),
    "P4.4": ("vammaispalvelut", "handikappservice", "disability services"),
    "P4.5": ("henkilökohtainen apu", "personlig assistans", "personal assistance"),
    "P4.6": ("perhehoito", "familjevård", "family care"),
    "P4.7": ("kehitysvammahuolto", "specialomsorger", "intellectual disability services"),
    "P4.8": ("työllistymisen tuki", "stöd för sysselsättning", "employment support"),
    "P4.9": ("opiskeluhuollon sosiaalipalvelut", "elevvårdens sociala tjänster",
             "student welfare social services"),
    "P4.10": ("toimeentulotuki", "utkomststöd", "social assistance"),
    "P4.12": ("vertaistoiminta", "kamratstöd", "peer support"),
    "P4.13": ("sosiaalineuvonta", "social rådgivning", "social guidance"),
    "P4.14": ("tukipalvelut", "stödtjänster", "support services"),
    "P5.1": ("perusterveydenhuolto", "primärvård", "primary health care"),
    "P5.2": ("neuvola", "rådgivning", "maternity and child health clinic"),
    "P5.3": ("rokotukset", "vaccinationer", "vaccinations"),
    "P5.4": ("laboratorio ja kuvantaminen", "laboratorium och bilddiagnostik",
             "laboratory and imaging"),
    "P5.5": ("päivystys", "jour", "emergency care"),
    "P5.6": ("erikoissairaanhoito", "specialiserad sjukvård", "specialised medical care"),
    "P5.7": ("mielenterveys- ja päihdepalvelut", "mentalvårds- och missbrukartjänster",
             "mental health and substance abuse services"),
    "P5.8": ("terveystarkastukset", "hälsokontroller", "health checks"),
    "P5.9": ("kouluterveydenhuolto", "skolhälsovård", "school health care"),
    "P5.10": ("suun terveydenhuolto", "munhälsovård", "oral health care"),
    "P5.11": ("omahoito", "egenvård", "self-care"),
    "P5.13": ("kuntoutus", "rehabilitering", "rehabilitation"),
    "P5.14": ("kotisairaanhoito", "hemsjukvård", "home nursing"),
    "P5.16": ("terveyden vertaistoiminta", "kamratstöd inom hälsa", "health peer support"),
    "P5.17": ("terveysneuvonta", "hälsorådgivning", "health counselling"),
    "P10.4": ("työkyky ja ammatillinen kuntoutus", "arbetsförmåga och yrkesinriktad rehabilitering",
              "work ability and vocational rehabilitation"),
    "P15.1": ("talous- ja velkaneuvonta", "ekonomi- och skuldrådgivning",
              "financial and debt counselling"),
    "P28.1": ("avoin nuorisotyö", "öppet ungdomsarbete", "open youth work"),
    "P28.4": ("etsivä nuorisotyö", "uppsökande ungdomsarbete", "outreach youth work"),
    "P28.5": ("Ohjaamo", "Navigatorn", "Ohjaamo one-stop guidance centre"),
}

LEVELS = ("hyte", "basic", "extended-basic", "specialised", "most-demanding")
LEVEL_NAMES = {
    "hyte": ("hyvinvoinnin edistäminen", "främjande av välfärd", "wellbeing promotion"),
    "basic": ("perustaso", "basnivå", "basic level"),
    "extended-basic": ("laaja perustaso", "utvidgad basnivå", "extended basic level"),
    "specialised": ("erityistaso", "specialnivå", "specialised level"),
    "most-demanding": ("vaativin taso", "mest krävande nivå", "most demanding level"),
}
HYTE_CLASSES = {"P4.12", "P5.16", "P5.17", "P28.1", "P28.4", "P5.11"}
CLASS_LEVELS: dict[str, tuple[str, ...]] = {
    "P5.6": ("specialised", "most-demanding"),
    "P5.5": ("extended-basic", "specialised"),
    "P3.8": ("extended-basic", "specialised"),
    "P4.7": ("extended-basic", "specialised"),
    "P5.7": ("basic", "extended-basic", "specialised"),
    "P5.13": ("basic", "extended-basic", "specialised"),
}
for _code in JHS:
    CLASS_LEVELS.setdefault(_code, ("hyte", "basic") if _code in HYTE_CLASSES
                            else ("basic", "extended-basic"))

PRODUCER_TYPES: dict[str, tuple[str, str, str]] = {
    "own-production": ("Oma tuotanto", "Egen produktion", "Own production"),
    "municipal": ("Kunnan palvelu", "Kommunal tjänst", "Municipal service"),
    "other-public": ("Muu julkinen tuottaja", "Annan offentlig producent", "Other public producer"),
    "private-direct-choice": ("Suoran valinnan palveluntuottaja", "Direktvalsproducent",
                              "Direct-choice provider"),
    "private-voucher": ("Palvelusetelituottaja", "Servicesedelproducent", "Voucher provider"),
    "private-contracted": ("Ostopalvelutuottaja", "Köpt tjänsteproducent", "Contracted provider"),
    "ngo": ("Järjestö", "Organisation", "Non-governmental organisation"),
    "parish": ("Seurakunta", "Församling", "Parish"),
    "state": ("Valtion toimija", "Statlig aktör", "State actor"),
}

THEMES: dict[str, tuple[str, ...]] = {
    "elderly": ("P4.2", "P4.3", "P5.14", "P4.1", "P5.1", "P5.13", "P4.14", "P4.6", "P5.4",
                "P5.5", "P5.6", "P4.13"),
    "family": ("P3.6", "P3.7", "P3.8", "P5.2", "P5.9", "P4.13", "P5.1", "P4.6", "P5.7", "P5.8",
               "P5.3"),
    "youth": ("P28.1", "P28.4", "P28.5", "P5.9", "P4.9", "P5.7", "P4.8", "P10.4", "P4.13",
              "P5.17"),
    "mental": ("P5.7", "P5.1", "P5.5", "P5.6", "P4.1", "P4.12", "P5.16", "P4.13", "P4.8",
               "P4.10"),
    "disability": ("P4.4", "P4.5", "P4.7", "P4.1", "P4.6", "P5.13", "P4.14", "P4.8", "P4.12"),
    "chronic": ("P5.1", "P5.4", "P5.6", "P5.11", "P5.17", "P5.13", "P5.16", "P5.14", "P5.8"),
    "acute": ("P5.5", "P5.4", "P5.6", "P5.13", "P5.14", "P4.3", "P5.1"),
    "employment": ("P4.8", "P10.4", "P4.13", "P4.10", "P15.1", "P5.8", "P28.5", "P5.7"),
    "social": ("P4.13", "P4.10", "P15.1", "P4.1", "P5.7", "P4.12", "P4.14", "P3.6"),
    "health": ("P5.17", "P5.1", "P5.10", "P5.3", "P5.8", "P5.11", "P5.4"),
}

# Customer segments, one chain template each: slug, fi, sv, en, theme, segment kind.
SEGMENTS: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("lonkkamurtuma", "Lonkkamurtumapotilaat", "Patienter med höftfraktur",
     "Hip fracture patients", "acute", "changing"),
    ("muistisairaat", "Muistisairaat", "Personer med minnessjukdom", "Memory patients",
     "elderly", "permanent"),
    ("nuoret-paihteiden-kayttajat", "Päihteitä käyttävät nuoret", "Unga som använder rusmedel",
     "Young substance users", "youth", "changing"),
    ("kotona-asuvat-ikaantyneet", "Kotona asuvat ikääntyneet", "Äldre som bor hemma",
     "Older people living at home", "elderly", "permanent"),
    ("vauvaperheet", "Vauvaperheet", "Babyfamiljer", "Families with babies", "family",
     "changing"),
    ("lastensuojelun-asiakkaat", "Lastensuojelun asiakkaat", "Barnskyddets klienter",
     "Child welfare clients", "family", "changing"),
    ("pitkaaikaistyottomat", "Pitkäaikaistyöttömät", "Långtidsarbetslösa",
     "Long-term unemployed", "employment", "changing"),
    ("diabeetikot", "Diabeetikot", "Diabetiker", "People with diabetes", "chronic",
     "permanent"),
    ("sydanpotilaat", "Sydänpotilaat", "Hjärtpatienter", "Cardiac patients", "chronic",
     "permanent"),
    ("aivoverenkiertohairio", "Aivoverenkiertohäiriöpotilaat", "Strokepatienter",
     "Stroke patients", "acute", "changing"),
    ("masentuneet", "Masennusta sairastavat", "Personer med depression",
     "People with depression", "mental", "changing"),
    ("kehitysvammaiset", "Kehitysvammaiset", "Personer med intellektuell funktionsnedsättning",
     "People with intellectual disabilities", "disability", "permanent"),
    ("liikuntarajoitteiset", "Liikuntarajoitteiset", "Rörelsehindrade",
     "People with reduced mobility", "disability", "permanent"),
    ("omaishoitajat", "Omaishoitajat", "Närståendevårdare", "Family carers", "elderly",
     "changing"),
    ("maahanmuuttajat", "Maahanmuuttajat", "Invandrare", "Immigrants", "employment",
     "changing"),
    ("asunnottomat", "Asunnottomat", "Bostadslösa", "Homeless people", "social", "changing"),
    ("velkaantuneet", "Velkaantuneet", "Skuldsatta", "Over-indebted people", "social",
     "changing"),
    ("koululaiset", "Koululaiset", "Skolelever", "School pupils", "youth", "changing"),
    ("opiskelijat", "Opiskelijat", "Studerande", "Students", "youth", "changing"),
    ("raskaana-olevat", "Raskaana olevat", "Gravida", "Pregnant women", "family", "changing"),
    ("syopapotilaat", "Syöpäpotilaat", "Cancerpatienter", "Cancer patients", "chronic",
     "changing"),
    ("saattohoito", "Saattohoidon asiakkaat", "Klienter i vård i livets slutskede",
     "End-of-life care clients", "elderly", "changing"),
    ("kipupotilaat", "Pitkäaikaista kipua sairastavat", "Personer med långvarig smärta",
     "Chronic pain patients", "chronic", "permanent"),
    ("tuki-ja-liikuntaelinsairaat", "Tuki- ja liikuntaelinsairaat",
     "Personer med sjukdomar i stöd- och rörelseorganen", "People with musculoskeletal disorders",
     "acute", "changing"),
    ("astma-ja-copd", "Astma- ja COPD-potilaat", "Astma- och KOL-patienter",
     "Asthma and COPD patients", "chronic", "permanent"),
    ("monisairaat", "Monisairaat", "Multisjuka", "Multimorbid patients", "chronic",
     "permanent"),
    ("neuropsykiatriset", "Neuropsykiatrisesti oireilevat", "Personer med neuropsykiatriska "
     "symtom", "People with neuropsychiatric symptoms", "youth", "permanent"),
    ("syrjaytymisvaarassa-olevat-nuoret", "Syrjäytymisvaarassa olevat nuoret",
     "Unga i risk för utanförskap", "Young people at risk of exclusion", "youth", "changing"),
    ("lahisuhdevakivalta", "Lähisuhdeväkivaltaa kokeneet", "Personer som utsatts för våld i "
     "nära relationer", "Victims of domestic violence", "social", "changing"),
    ("paihdekuntoutujat", "Päihdekuntoutujat", "Personer i missbruksrehabilitering",
     "Substance abuse rehabilitation clients", "mental", "changing"),
    ("psykoosipotilaat", "Psykoosia sairastavat", "Personer med psykos",
     "People with psychosis", "mental", "permanent"),
    ("aistivammaiset", "Aistivammaiset", "Sinnesskadade", "People with sensory impairments",
     "disability", "permanent"),
    ("kaatumisriskissa-olevat", "Kaatumisriskissä olevat", "Personer med fallrisk",
     "People at risk of falling", "elderly", "changing"),
    ("erityistarpeiset-lapset", "Erityistä tukea tarvitsevat lapset", "Barn med särskilda "
     "behov", "Children with special needs", "family", "permanent"),
    ("eroperheet", "Eroperheet", "Familjer i skilsmässa", "Separating families", "family",
     "changing"),
    ("ylipainoiset", "Ylipainoiset", "Personer med övervikt", "People with obesity", "chronic",
     "changing"),
    ("suun-terveyden-riskiryhma", "Suun terveyden riskiryhmä", "Riskgrupp för munhälsa",
     "Oral health risk group", "health", "changing"),
    ("tyokyvyttomyysuhka", "Työkyvyttömyysuhan alaiset", "Personer med risk för "
     "arbetsoförmåga", "People at risk of work disability", "employment", "changing"),
    ("akillisessa-kriisissa", "Äkillisessä kriisissä olevat", "Personer i akut kris",
     "People in acute crisis", "mental", "changing"),
    ("rokotettavat", "Rokotusohjelman kohderyhmät", "Målgrupper för vaccinationsprogrammet",
     "Vaccination programme target groups", "health", "changing"),
)

NATIONAL_DATA_SOURCES: tuple[tuple[str, str, str, str, str], ...] = (
    ("thl-tilastot", "THL:n tilastot", "THL:s statistik", "THL statistics",
     "national-statistics"),
    ("kanta-palvelut", "Kanta-palvelut", "Kanta-tjänsterna", "Kanta services", "register"),
    ("hoitoilmoitusrekisteri", "Hoitoilmoitusrekisteri", "Vårdanmälningsregistret",
     "Care register", "register"),
    ("fingsote", "FinSote-kysely", "FinSote-enkäten", "FinSote survey", "survey"),
    ("kouluterveyskysely", "Kouluterveyskysely", "Hälsoenkäten för skolelever",
     "School health survey", "survey"),
)
REGIONAL_DATA_SOURCES: tuple[tuple[str, str, str, str, str], ...] = (
    ("asiakas-ja-potilastiedot", "Asiakas- ja potilastietojärjestelmä",
     "Klient- och patientdatasystem", "Client and patient record system",
     "client-patient-record"),
    ("asiakaspalaute", "Asiakaspalaute", "Kundrespons", "Customer feedback",
     "customer-feedback"),
    ("palvelurekisteri", "Palvelurekisteri", "Tjänsteregister", "Service register", "register"),
    ("asiakaskysely", "Asiakaskysely", "Kundenkät", "Customer survey", "survey"),
)

GOAL_PHRASES: tuple[tuple[str, str, str], ...] = (
    ("toimintakyky säilyy", "funktionsförmågan bevaras", "functional capacity is maintained"),
    ("palvelu on oikea-aikaista", "tjänsten är rättidig", "the service is timely"),
    ("asiakas kokee tulleensa kuulluksi", "klienten upplever sig hörd",
     "the customer feels heard"),
    ("päällekkäiset käynnit vähenevät", "överlappande besök minskar",
     "overlapping visits decrease"),
    ("kotona asuminen jatkuu", "boendet hemma fortsätter", "living at home continues"),
    ("tieto kulkee palvelujen välillä", "informationen följer med mellan tjänsterna",
     "information flows between services"),
    ("kustannukset pysyvät kohtuullisina", "kostnaderna hålls skäliga",
     "costs remain reasonable"),
    ("osallisuus vahvistuu", "delaktigheten stärks", "participation is strengthened"),
)
INDICATOR_PHRASES: tuple[tuple[str, str, str], ...] = (
    ("odotusaika päivinä", "väntetid i dagar", "waiting time in days"),
    ("asiakastyytyväisyys", "kundnöjdhet", "customer satisfaction"),
    ("uusintakäyntien osuus", "andel återbesök", "share of repeat visits"),
    ("toimintakykymittarin muutos", "förändring i funktionsförmågemätaren",
     "change in functional capacity score"),
    ("kustannukset asiakasta kohden", "kostnader per klient", "costs per customer"),
    ("palvelusuunnitelman osuus", "andel med serviceplan", "share with a service plan"),
    ("sairaalapäivät", "sjukhusdagar", "hospital days"),
    ("hoitoon pääsy hoitotakuussa", "tillgång till vård inom vårdgarantin",
     "access within the care guarantee"),
)
TRIGGERS = (
    "Asiakkaan tilanne on arvioitu ja jatkotarve todettu.",
    "Hoitojakso päättyy ja asiakas tarvitsee jatkopalvelua.",
    "Asiakas tai omainen pyytää palvelua.",
    "Ammattilainen tunnistaa tuen tarpeen.",
)
INFORMATION = (
    "Palvelutarpeen arvio ja hoitosuunnitelma.",
    "Lähete, esitiedot ja lääkitys.",
    "Toimintakykyarvio ja asiakkaan omat tavoitteet.",
    "Yhteenveto hoitojaksosta ja jatkohoito-ohjeet.",
)
CRITERIA = (
    "Asiakkaalla on todettu tuen tarve.",
    "Lääkärin tai hoitajan arvio puoltaa palvelua.",
    "Asiakas on antanut suostumuksensa tietojen luovutukseen.",
    "Palvelutarpeen arvio on tehty.",
)
STEERING = (
    ("norm", "Palvelukriteerit", "Tjänstekriterier", "Service criteria"),
    ("information", "Vertailutieto tuottajille", "Jämförelsedata för producenter",
     "Benchmark data for producers"),
    ("resource", "Resurssien kohdentaminen", "Resursfördelning", "Resource allocation"),
    ("dialogue", "Tuottajadialogi", "Producentdialog", "Producer dialogue"),
    ("contract", "Palvelusopimus", "Tjänsteavtal", "Service contract"),
    ("owner-strategic", "Omistajaohjaus", "Ägarstyrning", "Owner steering"),
    ("finance-results", "Tulosperusteinen rahoitus", "Resultatbaserad finansiering",
     "Results-based financing"),
)
INTERFACE_SECTORS = ("education", "youth-work", "sports", "libraries", "employment-growth",
                     "social-security", "ngo-parish")
TRANSITION_KINDS = ("referral", "consultation", "direct-booking", "information-transfer")
FREQUENCIES = ("ANNUAL", "ANNUAL_3", "QUARTERLY")
DURATIONS = ("P3D", "P7D", "P14D", "P30D", "P90D")

PREFIXES = """\
@prefix ketju: <https://w3id.org/ketju/ontology#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix adms: <http://www.w3.org/ns/adms#> .
@prefix jhs: <http://uri.suomi.fi/codelist/ptv/ptvserclass2/code/> .
@prefix freq: <http://publications.europa.eu/resource/authority/frequency/> .
@prefix admsstatus: <http://purl.org/adms/status/> .
@prefix lvl: <https://w3id.org/ketju/vocab/service-level/> .
@prefix sector: <https://w3id.org/ketju/vocab/service-sector/> .
@prefix ptype: <https://w3id.org/ketju/vocab/producer-type/> .
@prefix tkind: <https://w3id.org/ketju/vocab/transition-kind/> .
@prefix glevel: <https://w3id.org/ketju/vocab/goal-level/> .
@prefix gpersp: <https://w3id.org/ketju/vocab/goal-perspective/> .
@prefix ikind: <https://w3id.org/ketju/vocab/indicator-kind/> .
@prefix reporter: <https://w3id.org/ketju/vocab/reporter/> .
@prefix dskind: <https://w3id.org/ketju/vocab/data-source-kind/> .
@prefix segkind: <https://w3id.org/ketju/vocab/segment-kind/> .
@prefix role: <https://w3id.org/ketju/vocab/role/> .
@prefix idir: <https://w3id.org/ketju/vocab/integration-direction/> .
@prefix smeans: <https://w3id.org/ketju/vocab/steering-means/> .
@prefix isector: <https://w3id.org/ketju/vocab/interface-sector/> .
@prefix nseg: <https://w3id.org/ketju/id/national/segment/> .
@prefix nds: <https://w3id.org/ketju/id/national/data-source/> .
@prefix sdmx-attribute: <http://purl.org/linked-data/sdmx/2009/attribute#> .
@prefix unit: <https://w3id.org/ketju/vocab/unit/> .
@prefix rchannel: <https://w3id.org/ketju/vocab/reporting-channel/> .
"""

REGION_KINDS = {
    "orgn": "organiser", "svc": "service", "pkg": "package", "chain": "chain",
    "prod": "producer", "goal": "goal", "ind": "indicator", "ds": "data-source",
    "stm": "steering-measure", "itf": "interface", "forum": "forum",
}


def region_prefixes(region: str) -> str:
    return "".join(f"@prefix {p}: <{ID}{region}/{kind}/> .\n" for p, kind in REGION_KINDS.items())


# --------------------------------------------------------------------------------------------
# Turtle writing
# --------------------------------------------------------------------------------------------

_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def lit(text: str, lang: str | None = None) -> str:
    """A Turtle string literal, escaped, with an optional language tag."""
    quoted = '"' + text.translate(_ESCAPES) + '"'
    return f"{quoted}@{lang}" if lang else quoted


def labels(fi: str, sv: str, en: str) -> tuple[str, list[str]]:
    return ("skos:prefLabel", [lit(fi, "fi"), lit(sv, "sv"), lit(en, "en")])


def jhs_name(code: str) -> str:
    return "jhs:" + code


class Doc:
    """One Turtle file being written: its text parts and the number of triples in it."""

    def __init__(self, header: str, comment: str) -> None:
        intro = f"# {comment}\n# Synthetic benchmark data (bench/generate.py).\n\n"
        self.parts: list[str] = [intro, header, "\n"]
        self.triples = 0

    def entity(self, subject: str, rdf_type: str,
               props: list[tuple[str, list[str]]]) -> None:
        lines = [f"{subject} a {rdf_type}"]
        self.triples += 1
        for predicate, objects in props:
            if not objects:
                continue
            self.triples += len(objects)
            lines.append(f"    {predicate} {', '.join(objects)}")
        self.parts.append(" ;\n".join(lines) + " .\n\n")

    def text(self) -> str:
        return "".join(self.parts).rstrip("\n") + "\n"


# --------------------------------------------------------------------------------------------
# Plan
# --------------------------------------------------------------------------------------------


@dataclass
class Producer:
    slug: str
    ptype: str
    index: int


@dataclass
class Service:
    slug: str
    classes: list[str]
    level: str
    sector: str
    producers: list[str]
    segment: str | None
    index: int


@dataclass
class Step:
    slug: str
    code: str
    level: str
    service: str
    producer: str
    group: int
    relation: str | None = None  # "parallel" or "alternative" to the group's first step
    optional: bool = False


@dataclass
class Chain:
    slug: str
    segment: int
    steps: list[Step]
    package: str | None = None
    derived_from: tuple[str, str] | None = None


@dataclass
class Package:
    slug: str
    segments: list[int]
    services: list[str]


@dataclass
class RegionPlan:
    region: str
    producers: list[Producer] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    chains: list[Chain] = field(default_factory=list)
    packages: list[Package] = field(default_factory=list)
    data_sources: int = 2
    steering: int = 1
    interfaces: int = 1
    #: The indicators' slugs, as render_region wrote them.
    indicators: list[str] = field(default_factory=list)


def make_templates(rng: random.Random) -> list[list[tuple[str, str]]]:
    """One national chain template per segment: a sequence of (JHS class, service level)."""
    templates = []
    for segment in SEGMENTS:
        pool = THEMES[segment[4]]
        length = rng.randint(8, 17)
        entry = rng.choice(("P4.13", "P5.17", "P5.1", pool[0]))
        codes = [entry] + [rng.choice(pool) for _ in range(length - 1)]
        templates.append([(c, rng.choice(CLASS_LEVELS[c])) for c in codes])
    return templates


def mutate(rng: random.Random, template: list[tuple[str, str]],
           pool: tuple[str, ...]) -> list[tuple[str, str]]:
    """A regional variant of a template: steps dropped, inserted, swapped or re-levelled."""
    steps = list(template)
    for _ in range(rng.randint(0, 3)):
        roll = rng.random()
        if roll < 0.3 and len(steps) > 5:
            del steps[rng.randrange(1, len(steps))]
        elif roll < 0.6:
            code = rng.choice(pool)
            steps.insert(rng.randint(1, len(steps)), (code, rng.choice(CLASS_LEVELS[code])))
        elif roll < 0.8:
            i = rng.randrange(1, len(steps) - 1)
            steps[i], steps[i + 1] = steps[i + 1], steps[i]
        else:
            i = rng.randrange(len(steps))
            steps[i] = (steps[i][0], rng.choice(CLASS_LEVELS[steps[i][0]]))
    while len(steps) < 5:
        code = rng.choice(pool)
        steps.append((code, rng.choice(CLASS_LEVELS[code])))
    return steps[:20]


def sector_of(code: str, level: str, rng: random.Random) -> str:
    if code.startswith("P28"):
        return "education-culture"
    if code == "P10.4":
        return "state"
    if code in ("P4.12", "P5.16") and rng.random() < 0.5:
        return "private-third-sector"
    if level == "hyte":
        return "hyte"
    return "health" if code.startswith("P5") else "social"


def frac_count(rng: random.Random, x: float, minimum: int = 0) -> int:
    """Round x up or down at random in proportion to its fraction (smooth scaling)."""
    whole = int(x)
    return max(minimum, whole + (1 if rng.random() < x - whole else 0))


@dataclass(frozen=True)
class Sizes:
    chains: float
    services: float
    packages: float
    producers: int
    data_sources: int
    max_steps: int


def sizes_for(target: int) -> Sizes:
    """Per-region counts for a target triple count (tuned against measured output)."""
    national = 40 * 5 + len(NATIONAL_DATA_SOURCES) * 5
    per_region = max(0.0, (target - national) / len(REGIONS))
    # Producers, data sources, organiser and the monitoring forum.
    fixed = 9 * 6.5 + 2 * 6 + 8 + 10
    # Less per chain and package since each indicator says who reports it, to whom, how
    # and where it is discussed (issue 13).
    variable = 0.94 * max(0.0, per_region - fixed)
    return Sizes(
        chains=0.74 * variable / 330,
        services=0.17 * variable / 12.5,
        packages=0.085 * variable / 100,
        producers=max(9, min(30, round(per_region / 2000))),
        data_sources=2 if per_region < 5000 else 4,
        max_steps=10 if per_region < 1000 else 20,
    )


def plan_region(region: str, seed: int, sizes: Sizes,
                templates: list[list[tuple[str, str]]]) -> RegionPlan:
    rng = random.Random(f"{seed}:{region}")
    plan = RegionPlan(region)
    types = list(PRODUCER_TYPES)
    weights = [6, 2, 1, 2, 2, 2, 1, 1, 1]
    for i in range(sizes.producers):
        ptype = types[i] if i < len(types) else rng.choices(types, weights)[0]
        plan.producers.append(Producer(f"{ptype}-{i + 1}", ptype, i + 1))
    own = [p.slug for p in plan.producers if p.ptype == "own-production"]
    all_producers = [p.slug for p in plan.producers]

    by_class: dict[tuple[str, str], list[Service]] = {}

    def new_service(code: str, level: str, segment: str | None) -> Service:
        index = len(plan.services) + 1
        producers = {rng.choice(own) if rng.random() < 0.6 else rng.choice(all_producers)}
        if rng.random() < 0.35:
            producers.add(rng.choice(all_producers))
        classes = [code]
        if rng.random() < 0.1:
            classes.append(rng.choice(list(JHS)))
        service = Service(f"{code.lower().replace('.', '-')}-{index}", sorted(set(classes)),
                          level, sector_of(code, level, rng), sorted(producers), segment, index)
        plan.services.append(service)
        by_class.setdefault((code, level), []).append(service)
        return service

    n_chains = frac_count(rng, sizes.chains, 1)
    # Every region gets a package from the 100k size up; at tiny sizes only some do.
    n_packages = frac_count(rng, sizes.packages, 1 if region == next(iter(REGIONS)) else 0)
    # The first segments are common to all regions (small catalogues still overlap).
    core, rest = list(range(12)), list(range(12, len(SEGMENTS)))
    rng.shuffle(core)
    rng.shuffle(rest)
    order = core + rest
    used: dict[str, int] = {}
    for c in range(n_chains):
        seg = order[c % len(order)]
        seg_slug, theme = SEGMENTS[seg][0], SEGMENTS[seg][4]
        used[seg_slug] = used.get(seg_slug, 0) + 1
        slug = seg_slug if used[seg_slug] == 1 else f"{seg_slug}-{used[seg_slug]}"
        codes = mutate(rng, templates[seg], THEMES[theme])[: sizes.max_steps]
        steps: list[Step] = []
        group = 0
        for pos, (code, level) in enumerate(codes, start=1):
            candidates = by_class.get((code, level))
            if candidates and rng.random() < 0.8:
                service = rng.choice(candidates)
            else:
                service = new_service(code, level, seg_slug if rng.random() < 0.3 else None)
            relation = None
            if pos > 2 and steps[-1].relation is None and rng.random() < 0.14:
                relation = "parallel" if rng.random() < 0.6 else "alternative"
            else:
                group += 1
            steps.append(Step(f"s{pos:02d}-{code.lower().replace('.', '-')}", code, level,
                              service.slug, rng.choice(service.producers), group, relation,
                              optional=pos > 1 and rng.random() < 0.1))
        plan.chains.append(Chain(slug, seg, steps))

    # Fill up to the planned number of services with more services of the region.
    n_services = frac_count(rng, sizes.services)
    codes = list(JHS)
    while len(plan.services) < n_services:
        code = rng.choice(codes)
        new_service(code, rng.choice(CLASS_LEVELS[code]), None)

    chain_segments = sorted({c.segment for c in plan.chains})
    for p in range(n_packages):
        first = chain_segments[p % len(chain_segments)] if p < len(chain_segments) \
            else rng.randrange(len(SEGMENTS))
        segs = {first}
        if rng.random() < 0.4:
            segs.add(rng.randrange(len(SEGMENTS)))
        pool = {c for s in segs for c in THEMES[SEGMENTS[s][4]]}
        fitting = [s.slug for s in plan.services if s.classes[0] in pool] or \
            [plan.services[0].slug]
        k = min(len(fitting), rng.randint(3, 20))
        slug = f"{SEGMENTS[first][0]}-kokonaisuus-{p + 1}"
        plan.packages.append(Package(slug, sorted(segs), sorted(rng.sample(fitting, k))))
    for chain in plan.chains:
        fitting_pkgs = [p.slug for p in plan.packages if chain.segment in p.segments]
        if fitting_pkgs and rng.random() < 0.8:
            chain.package = rng.choice(fitting_pkgs)
    plan.data_sources = sizes.data_sources
    plan.steering = 1 + len(plan.packages) // 2
    plan.interfaces = 1 + len(plan.chains) // 25
    return plan


def link_derivations(plans: list[RegionPlan], seed: int) -> None:
    """About one chain in ten is derived from a chain of the same template in an earlier region."""
    rng = random.Random(f"{seed}:derivations")
    seen: dict[int, list[tuple[str, str]]] = {}
    candidates: list[Chain] = []
    for plan in plans:
        for chain in plan.chains:
            earlier = seen.get(chain.segment)
            if earlier:
                candidates.append(chain)
                if rng.random() < 0.1:
                    chain.derived_from = rng.choice(earlier)
        for chain in plan.chains:
            seen.setdefault(chain.segment, []).append((plan.region, chain.slug))
    if candidates and not any(c.derived_from for c in candidates):
        candidates[0].derived_from = seen[candidates[0].segment][0]


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


def v(scheme: str, code: str) -> str:
    return f"<{VOCAB}{scheme}/{code}>"


def render_national() -> dict[str, Doc]:
    seg_doc = Doc(PREFIXES, "Customer segments shared by the benchmark catalogue.")
    for slug, fi, sv, en, _theme, kind in SEGMENTS:
        seg_doc.entity(f"nseg:{slug}", "ketju:CustomerSegment", [
            labels(fi, sv, en), ("ketju:segmentKind", [f"segkind:{kind}"])])
    ds_doc = Doc(PREFIXES, "National data sources of the benchmark catalogue.")
    for slug, fi, sv, en, kind in NATIONAL_DATA_SOURCES:
        ds_doc.entity(f"nds:bench-{slug}", "ketju:DataSource", [
            labels(fi, sv, en), ("ketju:dataSourceKind", [f"dskind:{kind}"])])
    return {"data/national/bench-segments.ttl": seg_doc,
            "data/national/bench-data-sources.ttl": ds_doc}


class GoalWriter:
    """Goals and indicators of one region, written to its goals.ttl."""

    def __init__(self, doc: Doc, rng: random.Random, data_sources: list[str],
                 reporting: tuple[str, str, str] = ("", "", ""), small: bool = False) -> None:
        self.doc = doc
        #: One indicator per goal in a tiny catalogue (each indicator is 13 triples or more).
        self.small = small
        self.rng = rng
        self.data_sources = data_sources
        #: Who reports each indicator, to whom and where it is discussed (issue 13: required
        #: for the indicators of approved packages and chains); no draw of `rng`, so the rest
        #: of the catalogue is what it was.
        self.producer, self.organiser, self.forum = reporting
        self.goals = 0
        self.indicators = 0
        #: The slugs of the indicators written, in order (the observations are theirs).
        self.slugs: list[str] = []

    def indicator(self, slug: str, name: tuple[str, str, str]) -> str:
        rng = self.rng
        fi, sv, en = rng.choice(INDICATOR_PHRASES)
        kinds = sorted({rng.choice(("input", "output", "quantitative", "qualitative")),
                        rng.choice(("lagging", "leading"))})
        sources = sorted(set(rng.sample(self.data_sources, rng.randint(1, 2))))
        self.doc.entity(f"ind:{slug}", "ketju:Indicator", [
            labels(f"{name[0]}: {fi}", f"{name[1]}: {sv}", f"{name[2]}: {en}"),
            ("ketju:dataSource", sources),
            ("ketju:indicatorKind", [f"ikind:{k}" for k in kinds]),
            ("ketju:reportedBy", [f"reporter:{rng.choice(GOAL_REPORTERS)}"]),
            ("dct:accrualPeriodicity", [f"freq:{rng.choice(FREQUENCIES)}"]),
            ("sdmx-attribute:unitMeasure", [f"unit:{OBSERVATION_UNIT}"]),
            ("ketju:reportingProducer", [self.producer] if self.producer else []),
            ("ketju:reportsTo", [self.organiser] if self.organiser else []),
            ("ketju:reportingChannel",
             [f"rchannel:{REPORTING_CHANNELS[self.indicators % len(REPORTING_CHANNELS)]}"]),
            ("ketju:discussedIn", [self.forum] if self.forum else []),
        ])
        self.indicators += 1
        self.slugs.append(slug)
        return f"ind:{slug}"

    def goal(self, slug: str, name: tuple[str, str, str], level: str,
             parent: str | None) -> str:
        rng = self.rng
        fi, sv, en = rng.choice(GOAL_PHRASES)
        perspectives = sorted({"customer" if level == "main" else rng.choice(GOAL_PERSPECTIVES),
                               rng.choice(GOAL_PERSPECTIVES)})
        indicators = [self.indicator(f"{slug}-{i}", (f"{name[0]}, {fi}", f"{name[1]}, {sv}",
                                                     f"{name[2]}, {en}"))
                      for i in range(1, (1 if self.small else rng.randint(1, 2)) + 1)]
        self.doc.entity(f"goal:{slug}", "ketju:Goal", [
            labels(f"{name[0]}: {fi}", f"{name[1]}: {sv}", f"{name[2]}: {en}"),
            ("ketju:goalLevel", [f"glevel:{level}"]),
            ("ketju:goalPerspective", [f"gpersp:{p}" for p in perspectives]),
            ("ketju:measuredBy", indicators),
            ("ketju:contributesTo", [parent] if parent else []),
        ])
        self.goals += 1
        return f"goal:{slug}"

    def goal_tree(self, slug: str, name: tuple[str, str, str],
                  intermediate: int) -> tuple[str, list[str]]:
        main = self.goal(f"{slug}-main", name, "main", None)
        others = [self.goal(f"{slug}-sub-{i}", name,
                            "intermediate" if i > 1 or self.rng.random() < 0.8
                            else "producer-specific", main)
                  for i in range(1, intermediate + 1)]
        return main, others


GOAL_PERSPECTIVES = ("customer", "organiser", "producer", "national")
REPORTING_CHANNELS = ("national-register", "data-warehouse", "dashboard", "report")
GOAL_REPORTERS = ("customer", "professional", "producer", "organiser", "national")


def seg_iri(index: int) -> str:
    return f"nseg:{SEGMENTS[index][0]}"


def render_region(plan: RegionPlan, seed: int, small: bool) -> tuple[dict[str, Doc], dict[str,
                                                                                          int]]:
    region = plan.region
    rng = random.Random(f"{seed}:{region}:render")
    rname = REGIONS[region]
    header = PREFIXES + region_prefixes(region)
    organiser = f"orgn:{region}"
    docs: dict[str, Doc] = {}
    stats = {"steps": 0, "transitions": 0, "steering_measures": plan.steering,
             "interfaces": plan.interfaces}

    # Producers and interfaces.
    doc = Doc(header, f"{rname[0]}: producers and interfaces.")
    for p in plan.producers:
        fi, sv, en = PRODUCER_TYPES[p.ptype]
        doc.entity(f"prod:{p.slug}", "ketju:Producer", [
            labels(f"{fi} {p.index}, {rname[0]}", f"{sv} {p.index}, {rname[1]}",
                   f"{en} {p.index}, {rname[2]}"),
            ("ketju:producerType", [f"ptype:{p.ptype}"]),
            ("org:subOrganizationOf", [organiser] if p.ptype == "own-production" else []),
        ])
    for i in range(1, plan.interfaces + 1):
        sector = INTERFACE_SECTORS[(i - 1 + len(plan.chains)) % len(INTERFACE_SECTORS)]
        parties = sorted({f"prod:{rng.choice(plan.producers).slug}" for _ in range(2)})
        doc.entity(f"itf:yhdyspinta-{i}", "ketju:Interface", [
            labels(f"Yhdyspinta {i}, {rname[0]}", f"Gränsyta {i}, {rname[1]}",
                   f"Interface {i}, {rname[2]}"),
            ("ketju:party", parties),
            ("ketju:interfaceSector", [f"isector:{sector}"]),
        ])
    docs[f"data/{region}/producers.ttl"] = doc

    # Services.
    doc = Doc(header, f"{rname[0]}: services.")
    for s in plan.services:
        fi, sv, en = JHS[s.classes[0]]
        lfi, lsv, len_ = LEVEL_NAMES[s.level]
        doc.entity(f"svc:{s.slug}", "ketju:Service", [
            labels(f"{fi.capitalize()} ({lfi}) {s.index}, {rname[0]}",
                   f"{sv.capitalize()} ({lsv}) {s.index}, {rname[1]}",
                   f"{en.capitalize()} ({len_}) {s.index}, {rname[2]}"),
            ("dct:description", [lit(
                f"{fi.capitalize()} alueella {rname[0]}, palvelutaso {lfi}. "
                f"Palvelua tuottaa {len(s.producers)} tuottajaa, ja siihen ohjaudutaan "
                "palvelutarpeen arvion perusteella.", "fi")]),
            ("ketju:serviceClass", [jhs_name(c) for c in s.classes]),
            ("ketju:serviceLevel", [f"lvl:{s.level}"]),
            ("ketju:sector", [f"sector:{s.sector}"]),
            ("ketju:organiser", [organiser]),
            ("ketju:producedBy", [f"prod:{p}" for p in s.producers]),
            ("ketju:targetSegment", [f"nseg:{s.segment}"] if s.segment else []),
        ])
    docs[f"data/{region}/services.ttl"] = doc

    # Goals, indicators, data sources and steering measures.
    goals_doc = Doc(header, f"{rname[0]}: goals, indicators, data sources and steering.")
    sources = [f"nds:bench-{d[0]}" for d in NATIONAL_DATA_SOURCES]
    for slug, fi, sv, en, kind in REGIONAL_DATA_SOURCES[: plan.data_sources]:
        goals_doc.entity(f"ds:{slug}", "ketju:DataSource", [
            labels(f"{fi}, {rname[0]}", f"{sv}, {rname[1]}", f"{en}, {rname[2]}"),
            ("ketju:dataSourceKind", [f"dskind:{kind}"]),
        ])
        sources.append(f"ds:{slug}")
    sources.sort()
    steering = []
    for i in range(1, plan.steering + 1):
        means, fi, sv, en = STEERING[(i - 1) % len(STEERING)]
        target = rng.choice(list(PRODUCER_TYPES)) if rng.random() < 0.5 else None
        goals_doc.entity(f"stm:ohjaus-{i}", "ketju:SteeringMeasure", [
            labels(f"{fi} {i}, {rname[0]}", f"{sv} {i}, {rname[1]}", f"{en} {i}, {rname[2]}"),
            ("dct:description", [lit(f"{fi}: järjestäjän ohjauskeino alueella {rname[0]}. "
                                     "Ohjaus kohdistuu palvelukokonaisuuksien tuottajiin.",
                                     "fi")]),
            ("ketju:steeringMeans", [f"smeans:{means}"]),
            ("ketju:targetProducerType", [f"ptype:{target}"] if target else []),
            ("dct:accrualPeriodicity", [f"freq:{rng.choice(FREQUENCIES)}"]),
        ])
        steering.append(f"stm:ohjaus-{i}")
    own = next(p.slug for p in plan.producers if p.ptype == "own-production")
    goals_doc.entity("forum:seurantafoorumi", "ketju:Forum", [
        labels(f"Seurantafoorumi, {rname[0]}", f"Uppföljningsforum, {rname[1]}",
               f"Monitoring forum, {rname[2]}"),
        ("dct:description", [lit("Järjestäjä ja tuottajat käyvät seurantatiedon läpi.", "fi"),
                             lit("Anordnaren och producenterna går igenom uppföljningsdata.",
                                 "sv"),
                             lit("The organiser and the producers review the monitoring data.",
                                 "en")]),
        ("dct:accrualPeriodicity", ["freq:ANNUAL_2"]),
        ("ketju:participant", [organiser, f"prod:{own}"]),
    ])
    # The body and the decision that approve the region's descriptions (their life cycle:
    # an approved description names its decision and the day it is valid from).
    board = f"<{ID}{region}/organisation/aluehallitus>"
    decision = f"<{ID}{region}/decision/hyvaksynta>"
    goals_doc.entity(board, "org:Organization", [
        labels(f"Aluehallitus, {rname[0]}", f"Välfärdsområdesstyrelsen, {rname[1]}",
               f"Regional executive board, {rname[2]}"),
    ])
    goals_doc.entity(decision, "ketju:Decision", [
        labels(f"Kuvausten hyväksyminen, {rname[0]}", f"Godkännande av beskrivningarna, {rname[1]}",
               f"Approval of the descriptions, {rname[2]}"),
        ("prov:wasAssociatedWith", [board]),
        ("dct:date", ['"2024-12-16"^^xsd:date']),
        ("dct:identifier", [lit("Aluehallitus 16.12.2024 § 250")]),
    ])
    approved = [("adms:status", ["admsstatus:Completed"]), ("ketju:approvedBy", [decision]),
                ("ketju:validFrom", ['"2025-01-01"^^xsd:date'])]
    goals = GoalWriter(goals_doc, rng, sources,
                       (f"prod:{own}", organiser, "forum:seurantafoorumi"), small)

    # Packages.
    for pkg in plan.packages:
        seg = SEGMENTS[pkg.segments[0]]
        name = (f"{seg[1]}: palvelukokonaisuus, {rname[0]}",
                f"{seg[2]}: tjänstehelhet, {rname[1]}",
                f"{seg[3]}: service package, {rname[2]}")
        main, others = goals.goal_tree(f"pkg-{pkg.slug}", name,
                                       1 if small else rng.randint(1, 3))
        doc = Doc(header, f"{rname[0]}: service package {pkg.slug}.")
        doc.entity(f"pkg:{pkg.slug}", "ketju:ServicePackage", [
            labels(*name),
            ("dct:description", [lit(
                f"Palvelukokonaisuus kokoaa ryhmän {seg[1].lower()} palvelut alueella "
                f"{rname[0]}. Kokonaisuudella on yhteiset tavoitteet ja vastuuhenkilö.", "fi")]),
            ("ketju:targetSegment", [seg_iri(s) for s in pkg.segments]),
            ("ketju:organiser", [organiser]),
            ("ketju:hasMainGoal", [main]),
            ("ketju:hasGoal", others),
            ("ketju:responsibleRole", ["role:package-head"]),
            ("ketju:includesService", [f"svc:{s}" for s in pkg.services]),
            ("ketju:hasSteeringMeasure", [rng.choice(steering)] if rng.random() < 0.6 else []),
            ("ketju:illustrative", ["true"]),
            *approved,
        ])
        docs[f"data/{region}/package-{pkg.slug}.ttl"] = doc

    # Chains.
    for chain in plan.chains:
        seg = SEGMENTS[chain.segment]
        name = (f"{seg[1]}: palveluketju {chain.slug}, {rname[0]}",
                f"{seg[2]}: servicekedja {chain.slug}, {rname[1]}",
                f"{seg[3]}: service chain {chain.slug}, {rname[2]}")
        main, _others = goals.goal_tree(f"chain-{chain.slug}", name,
                                        1 if small else rng.randint(1, 3))
        doc = Doc(header + f"@prefix st: <{ID}{region}/chain/{chain.slug}/step/> .\n"
                  f"@prefix tr: <{ID}{region}/chain/{chain.slug}/transition/> .\n",
                  f"{rname[0]}: service chain {chain.slug}.")
        groups: dict[int, list[Step]] = {}
        for step in chain.steps:
            groups.setdefault(step.group, []).append(step)
        order = sorted(groups)
        transitions: list[str] = []
        step_blocks: list[tuple[str, list[tuple[str, list[str]]]]] = []
        for gi, g in enumerate(order):
            nxt = groups[order[gi + 1]] if gi + 1 < len(order) else []
            for member in groups[g]:
                pos = chain.steps.index(member) + 1
                fi, sv, en = JHS[member.code]
                first = groups[g][0]
                props: list[tuple[str, list[str]]] = [
                    labels(f"{pos}. {fi}", f"{pos}. {sv}", f"{pos}. {en}"),
                    ("ketju:position", [str(pos)]),
                    ("ketju:service", [f"svc:{member.service}"]),
                    ("ketju:responsibleProducer", [f"prod:{member.producer}"]),
                    ("ketju:serviceLevel", [f"lvl:{member.level}"] if rng.random() < 0.5
                     else []),
                    ("ketju:optional", ["true"] if member.optional else []),
                    ("ketju:followedBy", [f"st:{n.slug}" for n in nxt]),
                    ("ketju:parallelWith", [f"st:{first.slug}"]
                     if member.relation == "parallel" else []),
                    ("ketju:alternativeTo", [f"st:{first.slug}"]
                     if member.relation == "alternative" else []),
                    ("ketju:maximumDuration", [f'"{rng.choice(DURATIONS)}"^^xsd:duration']
                     if rng.random() < 0.3 else []),
                    ("ketju:entryCriterion", [lit(rng.choice(CRITERIA), "fi")]
                     if rng.random() < 0.3 else []),
                ]
                step_blocks.append((f"st:{member.slug}", props))
                for n in nxt:
                    if rng.random() >= 0.85:
                        continue
                    slug = f"t{pos:02d}-{chain.steps.index(n) + 1:02d}"
                    kind = TRANSITION_KINDS[(len(transitions) + rng.randrange(2)) % 4] \
                        if rng.random() < 0.5 else rng.choice(TRANSITION_KINDS)
                    responsible = ("ketju:responsibleRole", ["role:customer-manager"]) \
                        if rng.random() < 0.2 else \
                        ("ketju:responsibleProducer", [f"prod:{member.producer}"])
                    doc_props: list[tuple[str, list[str]]] = [
                        labels(f"Siirtymä {fi} → {JHS[n.code][0]}",
                               f"Övergång {sv} → {JHS[n.code][1]}",
                               f"Transition {en} → {JHS[n.code][2]}"),
                        ("ketju:fromStep", [f"st:{member.slug}"]),
                        ("ketju:toStep", [f"st:{n.slug}"]),
                        ("ketju:transitionKind", [f"tkind:{kind}"]),
                        responsible,
                        ("ketju:maximumWait", [f'"{rng.choice(DURATIONS[:3])}"^^xsd:duration']
                         if rng.random() < 0.4 else []),
                        ("ketju:trigger", [lit(rng.choice(TRIGGERS), "fi")]
                         if rng.random() < 0.4 else []),
                        ("ketju:transferredInformation", [lit(rng.choice(INFORMATION), "fi")]
                         if rng.random() < 0.5 else []),
                    ]
                    step_blocks.append((f"tr:{slug}", doc_props))
                    transitions.append(f"tr:{slug}")
        stats["steps"] += len(chain.steps)
        stats["transitions"] += len(transitions)
        derived = []
        if chain.derived_from:
            derived = [f"<{ID}{chain.derived_from[0]}/chain/{chain.derived_from[1]}>"]
        doc.entity(f"chain:{chain.slug}", "ketju:ServiceChain", [
            labels(*name),
            ("dct:description", [lit(
                f"Palveluketju kuvaa ryhmän {seg[1].lower()} asiakkaan etenemisen palvelusta "
                f"toiseen alueella {rname[0]}. Ketjussa on {len(chain.steps)} vaihetta.",
                "fi")]),
            ("ketju:targetSegment", [seg_iri(chain.segment)]),
            ("ketju:organiser", [organiser]),
            ("ketju:hasMainGoal", [main]),
            ("ketju:responsibleRole", sorted({"role:chain-owner",
                                              rng.choice(("role:chain-owner",
                                                          "role:unit-manager"))})),
            ("ketju:hasStep", [f"st:{s.slug}" for s in chain.steps]),
            ("ketju:hasTransition", transitions),
            ("ketju:partOfPackage", [f"pkg:{chain.package}"] if chain.package else []),
            ("ketju:integrationDirection", [f"idir:{rng.choice(('vertical', 'horizontal'))}"]
             if rng.random() < 0.5 else []),
            ("prov:wasDerivedFrom", derived),
            *approved,
        ])
        for subject, props in step_blocks:
            doc.entity(subject, "ketju:Transition" if subject.startswith("tr:")
                       else "ketju:ChainStep", props)
        docs[f"data/{region}/chain-{chain.slug}.ttl"] = doc
    docs[f"data/{region}/goals.ttl"] = goals_doc
    stats["goals"] = goals.goals
    stats["indicators"] = goals.indicators
    plan.indicators = list(goals.slugs)
    return docs, stats


# --------------------------------------------------------------------------------------------
# Observations (mittarihavainnot): CSV contributions in the columns of the shared contract
# --------------------------------------------------------------------------------------------

OBSERVATION_COLUMNS = ("indicator", "period", "value", "unit", "status", "sex", "age_group",
                       "from_level", "to_level", "chain", "transition")
OBSERVATION_UNIT = "percent"
#: Ten years quarterly.
QUARTERS = tuple(f"{year}-Q{q}" for year in range(2015, 2025) for q in range(1, 5))
#: Observation rows per triple of the catalogue: 0.3 gives 300 000 rows on top of 1M triples.
OBSERVATIONS_PER_TRIPLE = 0.3
#: Rows per file: the validation benchmark changes one file of this many rows.
ROWS_PER_FILE = 10_000


def observation_rows(region: str, indicators: list[str], rows: int,
                     seed: int) -> list[str]:
    """About `rows` CSV lines for the region: the first indicators, each ten years quarterly,
    every third also by sex; values a random walk in per cent, the last quarter preliminary."""
    rng = random.Random(f"{seed}:{region}:observations")
    per_indicator = len(QUARTERS) * (1 + 2 / 3)
    chosen = indicators[: max(1, min(len(indicators), round(rows / per_indicator)))]
    lines = []
    for index, slug in enumerate(chosen):
        breakdowns = ("", "M", "F") if index % 3 == 0 else ("",)
        level = {sex: rng.uniform(30, 80) for sex in breakdowns}
        for period in QUARTERS:
            status = "preliminary" if period == QUARTERS[-1] else ""
            for sex in breakdowns:
                level[sex] = min(100.0, max(0.0, level[sex] + rng.uniform(-2.5, 2.5)))
                lines.append(f"{slug},{period},{level[sex]:.1f},{OBSERVATION_UNIT},{status},"
                             f"{sex},,,,,")
    return lines


def write_observations(out: Path, plans: list[RegionPlan], target_triples: int,
                       seed: int) -> tuple[int, int]:
    """Each region's observations as `data/{region}/observations/indicators-{n}.csv` of at
    most ROWS_PER_FILE rows; returns (rows, files)."""
    per_region = OBSERVATIONS_PER_TRIPLE * target_triples / len(plans)
    rows = files = 0
    for plan in plans:
        lines = observation_rows(plan.region, plan.indicators, round(per_region), seed)
        folder = out / "data" / plan.region / "observations"
        folder.mkdir(parents=True, exist_ok=True)
        for number, start in enumerate(range(0, len(lines), ROWS_PER_FILE), start=1):
            chunk = lines[start:start + ROWS_PER_FILE]
            (folder / f"indicators-{number}.csv").write_text(
                ",".join(OBSERVATION_COLUMNS) + "\n" + "\n".join(chunk) + "\n",
                encoding="utf-8", newline="\n")
            files += 1
        rows += len(lines)
    return rows, files


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def parse_size(text: str) -> int:
    """'10k', '100k', '0.1m', '1m', '5m' or an integer: the target number of triples."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kKmM]?)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}")
    factor = {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2).lower()]
    return round(float(match.group(1)) * factor)


def prepare_tree(out: Path) -> None:
    """Make `out` a project tree: links to the repository's folders and an empty data folder."""
    out.mkdir(parents=True, exist_ok=True)
    for name in LINKED_FOLDERS:
        link = out / name
        if link.is_symlink() or link.is_file():
            link.unlink()
        elif link.exists():
            shutil.rmtree(link)
        link.symlink_to(REPO / name, target_is_directory=True)
    if (out / "data").exists():
        shutil.rmtree(out / "data")


def count_triples(paths: list[Path]) -> int:
    import pyoxigraph

    return sum(sum(1 for _ in pyoxigraph.parse(path=str(p), format=pyoxigraph.RdfFormat.TURTLE))
               for p in paths)


def generate(out: Path, target_triples: int, seed: int = DEFAULT_SEED, *,
             measure: bool = True, observations: bool = True) -> dict[str, int]:
    """Write a synthetic catalogue of about `target_triples` triples into the tree `out`, and
    (`observations`) indicator observations as CSV contributions on top of it, about 0.3 rows
    per triple (OBSERVATIONS_PER_TRIPLE).

    Returns counts: files, triples (of the Turtle files: parsed back with pyoxigraph when
    `measure`, otherwise as written), chains, steps, transitions, services, packages,
    producers, goals, indicators..., observations (rows) and observation_files.
    """
    out = Path(out)
    sizes = sizes_for(target_triples)
    templates = make_templates(random.Random(f"{seed}:templates"))
    plans = [plan_region(region, seed, sizes, templates) for region in REGIONS]
    link_derivations(plans, seed)
    small = target_triples < 30_000

    prepare_tree(out)
    counts = {"files": 0, "triples": 0, "written_triples": 0, "regions": len(plans),
              "chains": 0, "steps": 0, "transitions": 0, "services": 0, "packages": 0,
              "producers": 0, "goals": 0, "indicators": 0, "segments": len(SEGMENTS),
              "steering_measures": 0, "interfaces": 0}
    written: list[Path] = []

    def write(docs: dict[str, Doc]) -> None:
        for relative in sorted(docs):
            path = out / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(docs[relative].text(), encoding="utf-8", newline="\n")
            counts["written_triples"] += docs[relative].triples
            written.append(path)

    write(render_national())
    for plan in plans:
        docs, stats = render_region(plan, seed, small)
        write(docs)
        counts["chains"] += len(plan.chains)
        counts["services"] += len(plan.services)
        counts["packages"] += len(plan.packages)
        counts["producers"] += len(plan.producers)
        for key, value in stats.items():
            counts[key] += value
    counts["files"] = len(written)
    counts["triples"] = count_triples(written) if measure else counts["written_triples"]
    counts["observations"], counts["observation_files"] = write_observations(
        out, plans, target_triples, seed) if observations else (0, 0)
    return counts


# --------------------------------------------------------------------------------------------
# Seeded errors
# --------------------------------------------------------------------------------------------


def _blocks(text: str) -> list[str]:
    return text.split("\n\n")


def _edit_block(path: Path, start: str, edit: Callable[[str], str], pick: int = 0) -> str:
    """Apply `edit` (str -> str) to the pick-th block that starts with `start`; return subject."""
    blocks = _blocks(path.read_text(encoding="utf-8"))
    matching = [i for i, b in enumerate(blocks) if re.match(start, b)]
    index = matching[pick % len(matching)]
    blocks[index] = edit(blocks[index])
    path.write_text("\n\n".join(blocks), encoding="utf-8", newline="\n")
    return blocks[index].split(" ", 1)[0]


def _expand(path: Path, name: str) -> str:
    """The full IRI of a prefixed name, from the file's @prefix lines."""
    prefix, local = name.split(":", 1)
    text = path.read_text(encoding="utf-8")
    match = re.search(rf"@prefix {re.escape(prefix)}: <([^>]*)> \.", text)
    return (match.group(1) if match else prefix + ":") + local


def _one_step_chain(path: Path) -> str:
    """Keep only the first step of the chain in `path`; return the chain's prefixed name."""
    blocks = _blocks(path.read_text(encoding="utf-8"))
    kept: list[str] = []
    chain = ""
    first_step = True
    for block in blocks:
        if re.match(r"tr:\S+ a ketju:Transition", block):
            continue
        if re.match(r"st:\S+ a ketju:ChainStep", block):
            if not first_step:
                continue
            first_step = False
            block = re.sub(r" ;\n    ketju:(followedBy|parallelWith|alternativeTo) [^;.\n]+",
                           "", block)
        elif re.match(r"chain:\S+ a ketju:ServiceChain", block):
            chain = block.split(" ", 1)[0]
            block = re.sub(r"(ketju:hasStep st:[^,;\s]+)(, st:[^,;\s]+)+", r"\1", block)
            block = re.sub(r" ;\n    ketju:hasTransition [^;.\n]+", "", block)
        kept.append(block)
    path.write_text("\n\n".join(kept), encoding="utf-8", newline="\n")
    return chain


def seed_errors(tree: Path, seed: int = 1) -> list[dict[str, str]]:
    """Inject a fixed set of different errors into files of a generated tree.

    Each error goes into a different file. Returns [{"file", "node", "error"}], with the file
    relative to the tree.
    """
    tree = Path(tree)
    rng = random.Random(seed)
    regions = sorted(p.name for p in (tree / "data").iterdir()
                     if p.is_dir() and p.name != "national")
    rng.shuffle(regions)
    chain_files = {r: sorted((tree / "data" / r).glob("chain-*.ttl")) for r in regions}
    injected: list[dict[str, str]] = []
    used: set[Path] = set()

    def region_file(i: int, name: str) -> Path:
        return tree / "data" / regions[i % len(regions)] / name

    def chain_file(i: int, need: str = "") -> Path:
        for k in range(len(regions)):
            for path in chain_files[regions[(i + k) % len(regions)]]:
                if path not in used and need in path.read_text(encoding="utf-8"):
                    return path
        raise RuntimeError("no chain file left to damage")

    def record(path: Path, node: str, error: str) -> None:
        used.add(path)
        injected.append({"file": path.relative_to(tree).as_posix(),
                         "node": _expand(path, node), "error": error})

    # 1. A service without its Finnish label.
    path = region_file(0, "services.ttl")
    node = _edit_block(path, r"svc:\S+ a ketju:Service", lambda b: re.sub(
        r'skos:prefLabel "(?:[^"\\]|\\.)*"@fi, ', "skos:prefLabel ", b, count=1))
    record(path, node, "missing-fi-label")

    # 2. A chain with only one step (the other steps and the transitions removed).
    path = chain_file(1)
    node = _one_step_chain(path)
    record(path, node, "one-step")

    # 3. Two steps with the same position.
    path = chain_file(2)
    _edit_block(path, r"st:\S+ a ketju:ChainStep", lambda b: re.sub(
        r"ketju:position \d+", "ketju:position 1", b), pick=1)
    node = _edit_block(path, r"chain:\S+ a ketju:ServiceChain", lambda b: b)
    record(path, node, "duplicate-position")

    # 4. A step without a responsible producer.
    path = chain_file(3)
    node = _edit_block(path, r"st:\S+ a ketju:ChainStep", lambda b: re.sub(
        r" ;\n    ketju:responsibleProducer [^;.\n]+", "", b), pick=2)
    record(path, node, "step-without-producer")

    # 5. A goal without measuredBy.
    path = region_file(4, "goals.ttl")
    node = _edit_block(path, r"goal:\S+ a ketju:Goal", lambda b: re.sub(
        r" ;\n    ketju:measuredBy [^;.\n]+", "", b))
    record(path, node, "goal-without-indicator")

    # 6. An indicator without a data source.
    path = region_file(5, "goals.ttl")
    node = _edit_block(path, r"ind:\S+ a ketju:Indicator", lambda b: re.sub(
        r" ;\n    ketju:dataSource [^;.\n]+", "", b))
    record(path, node, "indicator-without-data-source")

    # 7. A service class that is a vocabulary concept, not a JHS 183 class.
    path = region_file(6, "services.ttl")
    node = _edit_block(path, r"svc:\S+ a ketju:Service", lambda b: re.sub(
        r"ketju:serviceClass [^;\n]+", "ketju:serviceClass lvl:basic", b))
    record(path, node, "service-class-not-jhs")

    # 8. A maximum wait that is a plain string.
    path = chain_file(7, "ketju:maximumWait")
    node = _edit_block(path, r"tr:\S+ a ketju:Transition(?=[\s\S]*ketju:maximumWait)",
                       lambda b: re.sub(r'(ketju:maximumWait "[^"]*")\^\^xsd:duration',
                                        r"\1", b))
    record(path, node, "maximum-wait-plain-string")

    # 9. A reference to a producer that does not exist.
    path = chain_file(8)
    region = path.parent.name
    node = _edit_block(path, r"st:\S+ a ketju:ChainStep", lambda b: re.sub(
        r"ketju:responsibleProducer prod:\S+?(?= ;| \.|\n)",
        f"ketju:responsibleProducer <{ID}{region}/producer/does-not-exist>", b))
    record(path, node, "missing-target")
    return injected


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=parse_size, default=parse_size("10k"),
                        help="target triples: 10k, 100k, 0.1m, 1m, 5m or an integer")
    parser.add_argument("--out", type=Path, required=True, help="project tree to write")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--no-measure", action="store_true",
                        help="report written triples instead of parsing the files back")
    parser.add_argument("--no-observations", action="store_true",
                        help="leave out the indicator observations (CSV)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    counts = generate(args.out, args.size, args.seed, measure=not args.no_measure,
                      observations=not args.no_observations)
    elapsed = time.perf_counter() - started
    for key, value in counts.items():
        print(f"{key:>18}: {value}")
    print(f"{'target':>18}: {args.size}")
    print(f"{'seconds':>18}: {elapsed:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
