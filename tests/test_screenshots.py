"""`make screenshots` (tools/screenshots.py) pictures every kind of page of issue 14 under
names that do not change from run to run; the pictures themselves are taken in the slow tier
(tests/test_pages_for_people.py opens the same pages)."""

from __future__ import annotations

import pytest
from tools.screenshots import PAGES, WIDTHS, file_name, main, page_url

KINDS = {"home", "region", "package", "chain", "goal", "producer", "service", "indicator",
         "segment", "compare", "search", "sparql", "api-docs"}


def test_every_kind_of_page_is_pictured_at_both_widths() -> None:
    assert set(PAGES) == KINDS
    assert {name: size for name, (size, _) in WIDTHS.items()} == {
        "desktop": (1366, 900), "phone": (390, 844)}
    names = {file_name(kind, width, "fi") for kind in PAGES for width in WIDTHS}
    assert len(names) == 2 * len(KINDS) and "chain-desktop.png" in names
    assert file_name("chain", "phone", "sv") == "chain-phone-sv.png"


def test_the_language_is_asked_of_the_page_itself() -> None:
    assert page_url("http://x", "/sparql", "sv") == "http://x/sparql?lang=sv"
    assert page_url("http://x", "/search?q=a", "en") == "http://x/search?q=a&lang=en"


def test_an_unknown_kind_is_refused_before_anything_runs(capsys: pytest.CaptureFixture[str],
                                                         ) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["chian"])
    assert stopped.value.code == 2 and "no such kind of page: chian" in capsys.readouterr().err
