"""Indicator observations (mittarihavainnot) as the catalogue serves them.

`observations(snapshot, filters)` runs the named query `observations` (queries/observations.rq:
indicator, national indicator, region, period range) and keeps the answer in the snapshot's
cache; each `Observation` can give its row of a contribution file (`row`), in the columns the
CSV on the Web metadata document declares (`ketju.infra.observations.contribution_columns`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ketju.core.namespaces import ID, ONTOLOGY, SDMX_CODE
from ketju.infra.snapshot import Snapshot

#: The value of a breakdown that is not made (RDF Data Cube IC-11).
TOTAL = ONTOLOGY + "total"
#: Observation status codes and their names in a contribution file.
STATUS = {SDMX_CODE + "obsStatus-A": "final", SDMX_CODE + "obsStatus-P": "preliminary"}


@dataclass(frozen=True)
class Observation:
    """One observation as the store holds it (IRIs, the period's lexical form and datatype,
    the value's lexical form); breakdowns not made are ketju:total."""

    iri: str
    dataset: str | None
    indicator: str
    national: str | None
    area: str
    period: str
    period_type: str
    value: str
    unit: str | None
    status: str | None
    sex: str
    age_group: str
    from_level: str
    to_level: str
    transition: str

    @property
    def region(self) -> str:
        """The region's folder name: the first segment of the indicator's IRI."""
        return self.indicator.removeprefix(ID).split("/", 1)[0]

    def row(self) -> dict[str, str]:
        """The row of a contribution file (and `region`, the metadata document's virtual
        column)."""
        chain = transition = ""
        if self.transition != TOTAL:
            # …/{region}/chain/{chain}/transition/{transition}
            parts = self.transition.removeprefix(ID).split("/")
            if len(parts) == 5 and parts[1] == "chain" and parts[3] == "transition":
                chain, transition = parts[2], parts[4]
        return {
            "indicator": self.indicator.rsplit("/", 1)[-1], "period": self.period,
            "value": self.value, "unit": code(self.unit),
            "status": STATUS.get(self.status or "", ""), "sex": code(self.sex, "sex-"),
            "age_group": code(self.age_group), "from_level": code(self.from_level),
            "to_level": code(self.to_level), "chain": chain, "transition": transition,
            "region": self.region}


def code(iri: str | None, prefix: str = "") -> str:
    """The code of a code-list IRI (its last segment, without `prefix`); "" for the total."""
    if not iri or iri == TOTAL:
        return ""
    return iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1].removeprefix(prefix)


def observations(snapshot: Snapshot, raw: Mapping[str, str]) -> list[Observation]:
    """The observations of the named query `observations` for the filters in `raw` (text
    values, checked by the query's declared types: a wrong one raises ParameterError), kept
    in the snapshot's cache."""
    query = snapshot.queries["observations"]
    bindings = query.bindings(dict(raw))
    key = ("observations", repr(sorted((k, str(v)) for k, v in bindings.items())))
    if (kept := snapshot.cache.get(key)) is not None:
        return kept  # type: ignore[no-any-return]
    found = []
    for r in snapshot.data.select(query.body, bindings):
        def iri(name: str, row: Mapping[str, Any] = r) -> str | None:
            return row[name].value if name in row else None
        period = r["period"]
        found.append(Observation(
            iri=r["observation"].value, dataset=iri("dataset"), indicator=r["indicator"].value,
            national=iri("national"), area=r["region"].value, period=period.value,
            period_type=period.datatype.value, value=r["value"].value, unit=iri("unit"),
            status=iri("status"), sex=iri("sex") or TOTAL, age_group=iri("ageGroup") or TOTAL,
            from_level=iri("fromLevel") or TOTAL, to_level=iri("toLevel") or TOTAL,
            transition=iri("transition") or TOTAL))
    snapshot.cache.put(key, found, size=400 * len(found))
    return found
