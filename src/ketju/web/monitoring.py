"""The monitoring views (seuranta) of the pages: the indicator page, the national indicator
page, the goal page and the monitoring sections of the package, chain and compare pages.

Loaders are `(snapshot, iri, lang) -> dict | None` (the registry of kinds names them); they
call ketju.domain.monitoring and turn its series into charts (ketju.web.chart) with texts in
the page's language. The numbers of every chart are also in a table beside it.
"""

from __future__ import annotations

from typing import Any

from ketju.domain import monitoring as m
from ketju.domain.entities import names_of
from ketju.domain.texts import Node, Texts
from ketju.infra.snapshot import Snapshot
from ketju.web.chart import ChartModel, ChartSeries, responsive_chart
from ketju.web.i18n import translate

#: Most lines in one chart (the table beside it has every series).
MAX_LINES = 8


def _t(key: str, lang: str, **values: Any) -> str:
    text = translate(key, lang)
    return text.format(**values) if values else text


def with_unit(value: float | None, symbol: Texts, lang: str) -> str:
    """A value with its unit's symbol, as people read it ("73,5 %", "2,8 vrk").

    >>> with_unit(73.5, Texts({"fi": "%"}), "fi"), with_unit(None, Texts(), "en")
    ('73,5 %', '–')
    """
    if value is None:
        return "–"
    text = m.format_number(value, lang)
    unit = symbol.pick(lang)[0]
    return f"{text} {unit}" if unit else text


def series_label(series: m.Series, lang: str) -> str:
    """The name of a series: "all" for the total, else its breakdown's parts ("female,
    75+"; a flow between levels "basic → specialised")."""
    if not series.parts:
        return _t("mon_total", lang)
    text = ""
    for dimension, part in zip(series.dimensions, series.parts, strict=False):
        joiner = " → " if dimension == "toLevel" and text else ", " if text else ""
        text += joiner + part.label(lang)
    return text


def _chart(uid: str, title: str, periods: list[str], lines: list[tuple[str, m.Series]],
           symbol: Texts, target: m.Target | None, lang: str) -> str:
    """One chart of `lines` (label, series) over `periods`, with the target line."""
    shown = lines[:MAX_LINES]
    chart_series = tuple(ChartSeries(label, tuple(
        (o.value if (o := s.by_period().get(p)) else None) for p in periods))
        for label, s in shown)
    target_value = target.value if target else None
    latest = next((s.latest for _, s in shown if s.latest), None)
    if periods and latest is not None:
        description = _t("mon_chart_desc", lang, n=len(periods), first=periods[0],
                         last=periods[-1], latest=with_unit(latest.value, symbol, lang),
                         period=latest.period)
    else:
        description = _t("mon_no_observations", lang)
    if target_value is not None:
        description += " " + _t("mon_chart_target", lang,
                                value=with_unit(target_value, symbol, lang)) + "."
    if len(lines) > len(shown):
        description += " " + _t("mon_chart_more", lang, n=len(lines) - len(shown))
    return responsive_chart(ChartModel(
        uid=uid, title=title, description=description, periods=tuple(periods),
        series=chart_series, unit=symbol.pick(lang)[0], target=target_value,
        target_label=_t("mon_chart_target", lang, value=with_unit(target_value, symbol, lang))
        if target_value is not None else "",
        axis_label=symbol.pick(lang)[0], empty_text=_t("mon_status_no-data", lang)))


def indicator_chart(found: m.IndicatorMonitoring, lang: str, uid: str = "chart") -> str:
    """The indicator's chart: the total and its breakdowns, with the target line."""
    lines = [(series_label(s, lang), s) for s in (found.total, *found.breakdowns)
             if s.observations]
    title = _t("mon_chart_title", lang, name=found.indicator.label(lang))
    return _chart(uid, title, found.periods, lines, found.unit_symbol, found.target, lang)


def table_of(periods: list[str], series: list[m.Series | None]) -> list[tuple[str, list[
        m.Observation | None]]]:
    """Rows of a values table: each period with each series' observation (or None)."""
    maps = [s.by_period() if s else {} for s in series]
    return [(p, [found.get(p) for found in maps]) for p in periods]


def indicator_view(snapshot: Snapshot, iri: str, lang: str) -> dict[str, Any] | None:
    """An indicator's page: latest value and status, chart, table, how it is monitored."""
    found = m.indicator_monitoring(snapshot, iri)
    series = [s for s in (found.total, *found.breakdowns) if s.observations] or [found.total]
    return {"monitoring": found, "chart": indicator_chart(found, lang),
            "series_labels": [series_label(s, lang) for s in series],
            "rows": table_of(found.periods, list(series))}


def national_indicator_view(snapshot: Snapshot, iri: str, lang: str) -> dict[str, Any] | None:
    """A national indicator's page: every region that reports it in one chart and a table."""
    national = m.national_monitoring(snapshot, iri)
    own = national.national
    symbol = own.unit_symbol
    lines = [(r.region.label(lang), r.monitoring.total) for r in national.regions
             if r.monitoring.total.observations]
    chart = _chart("chart", _t("mon_chart_regions", lang, name=own.indicator.label(lang)),
                   national.periods, lines, symbol, None, lang)
    reporting = [r for r in national.regions if r.monitoring.total.observations]
    return {"monitoring": own, "national": national, "chart": chart,
            "reporting": len(reporting),
            "region_labels": [r.region.label(lang) for r in reporting],
            "rows": table_of(national.periods, [r.monitoring.total for r in reporting])}


def goals_section(snapshot: Snapshot, goals: list[Any]) -> dict[str, Any]:
    """The monitoring section of a package's or chain's page (its goal tree's summary)."""
    summary = m.goals_monitoring(snapshot, goals)
    return {"monitoring_summary": summary, "monitoring_counts": m.status_counts(summary)}


def goal_view(snapshot: Snapshot, iri: str, lang: str) -> dict[str, Any] | None:
    """A goal's page: the monitoring of its indicators and of the goals that contribute."""
    summary = m.goal_monitoring(snapshot, iri)
    return {"monitoring_summary": summary, "monitoring_counts": m.status_counts(summary)}


def waits_section(snapshot: Snapshot, chain: str) -> dict[str, Any]:
    """The measured waits at a chain's hand-overs, by transition IRI."""
    return {"waits": m.handover_waits(snapshot, chain)}


def compare_section(snapshot: Snapshot, chains: list[str], lang: str,
                    labels: list[str] | None = None) -> dict[str, Any]:
    """For the chains compared, the national indicators two or more of them measure: a
    chart (a line per chain) and a table of their values side by side; `labels` name the
    chains (the compare page names them by their regions)."""
    measures = m.shared_measures(snapshot, chains)
    if labels is None:
        names = names_of(snapshot, chains)
        # The region first: it tells the chains apart (their names are often the same).
        labels = [f"{m.region_of(c)}: {Node(c, names.get(c, Texts())).label(lang)}"
                  for c in chains]
    shown = []
    for index, measure in enumerate(measures):
        lines = [(labels[i], found.total) for i, found in enumerate(measure.by_chain)
                 if found is not None and found.total.observations]
        chart = _chart(f"compare-{index}", _t("mon_chart_title", lang,
                                              name=measure.national.label(lang)),
                       measure.periods, lines, measure.unit_symbol, None, lang)
        shown.append({"measure": measure, "chart": chart, "rows": table_of(
            measure.periods, [f.total if f else None for f in measure.by_chain])})
    return {"shared_measures": shown, "compare_labels": labels}
