"""The home page shows the content (issue 14): ways in by region, customer segment and kind,
the chains that several regions describe with a one-click comparison, the recent changes of
the change stream and the search box; in fi, sv and en, from the build's kept answers."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from ketju.core.project import Project
from ketju.domain.home import home_overview, recent_changes
from ketju.infra.snapshot import SnapshotSource
from tests.servers import InProcessServer

ID = "https://w3id.org/ketju/id/"
HIP_FRACTURE = ID + "national/segment/lonkkamurtumapotilaat"
#: The regions that describe a hip-fracture chain (Lappi's is a draft copied with reuse).
HIP_FRACTURE_REGIONS = {"keski-suomi", "lappi", "pohjois-pohjanmaa", "pohjois-savo",
                        "varsinais-suomi"}


class Links(HTMLParser):
    """The links of a page (href and text), and its sections by heading id."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href") or ""
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join("".join(self._text).split())))
            self._href = None


def links_of(html: str) -> list[tuple[str, str]]:
    parser = Links()
    parser.feed(html)
    return parser.links


def section(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    return html[start:html.index("</section>", start)]


@pytest.fixture(scope="module")
def server(app_server: InProcessServer) -> InProcessServer:
    return app_server


@pytest.fixture(scope="module")
def overview(built_project: Project):  # type: ignore[no-untyped-def]
    return home_overview(SnapshotSource.embedded(built_project).current())


def test_chains_in_several_regions_are_grouped_by_segment(overview) -> None:  # type: ignore[no-untyped-def]
    shared = {group.segment.iri: group for group in overview.shared}
    hip = shared[HIP_FRACTURE]
    assert set(hip.regions) == HIP_FRACTURE_REGIONS
    assert overview.shared[0] is hip, "the segment most regions describe comes first"
    drafts = {chain.region for chain in hip.chains if chain.draft}
    assert drafts == {"lappi"}, "the chain copied with `ketju reuse` is a draft"
    # One click compares them: finished descriptions first, at most six chains.
    chains = parse_qs(urlsplit(hip.compare_path).query)["chains"][0].split(",")
    assert len(chains) == 5 and chains[-1].startswith("lappi/")
    assert "varsinais-suomi/lonkkamurtuma" in chains
    for group in overview.shared:
        assert len(set(group.regions)) == len(group.regions) >= 2
        assert 2 <= len(group.compared) <= 6
        assert {e.node.iri for e in group.compared} <= {e.node.iri for e in group.chains}


def test_recent_changes_come_from_the_change_stream(built_project: Project) -> None:
    snapshot = SnapshotSource.embedded(built_project).current()
    recent = recent_changes(snapshot)
    assert 1 <= len(recent) <= 8
    assert [c.issued for c in recent] == sorted((c.issued for c in recent), reverse=True)
    assert len({c.node.iri for c in recent}) == len(recent), "one line per entity"
    assert all(c.kind in {"ServicePackage", "ServiceChain", "Service", "Producer"}
               for c in recent)


@pytest.mark.parametrize(("lang", "shared_title", "compare"), [
    ("fi", "Sama ketju usealla alueella", "Vertaa 5 aluetta"),
    ("sv", "Samma kedja i flera områden", "Jämför 5 områden"),
    ("en", "The same chain in several regions", "Compare 5 regions"),
])
def test_home_page_shows_the_ways_in(server: InProcessServer, overview, lang: str,  # type: ignore[no-untyped-def]
                                     shared_title: str, compare: str) -> None:
    html = server.get(server.base + "/", params={"lang": lang}).text
    assert shared_title in html
    links = links_of(html)
    hrefs = {href for href, _ in links}
    # The hip-fracture chains: each region's chain and one comparison of all of them.
    shared = section(html, "shared-title")
    compares = [(href, text) for href, text in links_of(shared) if href.startswith("/compare")]
    href, text = compares[0]
    assert href == overview.shared[0].compare_path and text.startswith(compare)
    for region in HIP_FRACTURE_REGIONS:
        assert any(href.startswith(f"/id/{region}/chain/") for href, _ in links_of(shared))
    # By region: each region with data links to its organiser, with counts beside it.
    regions = section(html, "holdings-title")
    assert "/id/varsinais-suomi/organiser/varsinais-suomi" in {h for h, _ in links_of(regions)}
    assert 'href="/regions"' in regions
    # By customer segment: the segments' own pages.
    segments = {h for h, _ in links_of(section(html, "by-segment-title"))}
    assert "/id/national/segment/lonkkamurtumapotilaat" in segments
    assert len(segments) >= 10
    # By kind: packages and chains, and a search narrowed to each kind.
    kinds = section(html, "by-kind-title")
    assert 'name="kind" value="ServiceChain"' in kinds
    assert 'name="kind" value="ServicePackage"' in kinds
    assert "/id/keski-suomi/package/nuorten-palvelukokonaisuus" in hrefs
    # Recently changed: the newest versions of the change stream, and the stream itself.
    recent = section(html, "recent-title")
    newest = overview.recent[0]
    assert newest.node.iri.removeprefix("https://w3id.org/ketju") in recent
    assert 'href="/feeds/ldes"' in recent
    # The search box, and the counts as a compact summary.
    assert 'id="home-search"' in html and 'action="/search"' in html
    assert "<table" not in html, "counts are a summary, not a table wider than a phone"


def test_home_page_is_a_kept_answer(server: InProcessServer) -> None:
    first = server.get(server.base + "/?lang=en")
    again = server.get(server.base + "/", headers={"Accept-Language": "en",
                                                   "If-None-Match": first.headers["etag"]})
    assert first.status_code == 200 and again.status_code == 304
    assert server.get(server.base + "/?lang=sv").text != first.text
