"""The police forces of the UK and their regions (regional organised crime unit areas).

Loaded from ``cashwatch/data/police_forces.csv`` (plain facts, the project's own copy).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources


UK = "GB"  # ISO 3166-1 alpha-2 of the United Kingdom: the ``country`` of every UK incident everywhere
NATIONS: tuple[str, ...] = ("england", "wales", "scotland", "northern-ireland")


@dataclass(frozen=True)
class Force:
    id: str
    name: str
    region: str
    nation: str  # england, wales, scotland, northern-ireland (the CSV's "country" column)
    country: str = UK  # ISO 3166-1 alpha-2


def _load() -> dict[str, Force]:
    text = resources.files("cashwatch").joinpath("data/police_forces.csv").read_text(encoding="utf-8")
    return {row["force"]: Force(row["force"], row["name"], row["region"], row["country"])
            for row in csv.DictReader(text.splitlines())}


FORCES: dict[str, Force] = _load()
REGIONS: frozenset[str] = frozenset(f.region for f in FORCES.values())
# Names people write for the UK, and its nations, that mean the ISO code GB.
_UK_NAMES = frozenset({"gb", "uk", "united kingdom", "great britain", *NATIONS, "northern ireland"})


def country_code(country: str | None, force: str | None = None) -> str | None:
    """The ISO 3166-1 alpha-2 code of an incident's country (``GB``, ``IE``, ...): its own, upper-cased
    (a UK nation or "UK" read as ``GB``), else its force's; None when neither is known."""
    if country and country.strip():
        c = country.strip()
        return UK if c.lower() in _UK_NAMES else c.upper()
    f = FORCES.get(force or "")
    return f.country if f else None


def nation_of(force: str | None) -> str | None:
    """The UK nation id of a force id (england, wales, scotland, northern-ireland), or None."""
    f = FORCES.get(force or "")
    return f.nation if f else None


def region_of(force: str | None) -> str | None:
    """The region id of a force id, or None."""
    f = FORCES.get(force or "")
    return f.region if f else None
