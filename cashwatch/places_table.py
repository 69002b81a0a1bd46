"""The police forces of the UK and their regions (regional organised crime unit areas).

Loaded from ``cashwatch/data/police_forces.csv`` (plain facts, the project's own copy).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class Force:
    id: str
    name: str
    region: str
    country: str  # england, wales, scotland, northern-ireland


def _load() -> dict[str, Force]:
    text = resources.files("cashwatch").joinpath("data/police_forces.csv").read_text(encoding="utf-8")
    return {row["force"]: Force(row["force"], row["name"], row["region"], row["country"])
            for row in csv.DictReader(text.splitlines())}


FORCES: dict[str, Force] = _load()
REGIONS: frozenset[str] = frozenset(f.region for f in FORCES.values())


def region_of(force: str | None) -> str | None:
    """The region id of a force id, or None."""
    f = FORCES.get(force or "")
    return f.region if f else None
