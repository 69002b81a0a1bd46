#!/usr/bin/env python3
"""Linking speed: one mention against a year of incidents (about 2,000 in the UK), 10x and 100x that.

For each size N the linker is loaded with N synthetic incidents spread over one year (every force,
all four types, a few hundred towns per force, one report each; 10x and 100x the incidents in the
same year, so the candidate buckets are 10x and 100x as crowded: the worst case), then links 2,000
new articles of one mention each: half re-report a known incident (another outlet, same town and
day), half are new attacks. Prints the time per mention (mean, median, p99) and how many linked.

    /work/venv/bin/python bench/bench_link.py [--sizes 2000 20000 200000] [--probes 2000]
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time

from cashwatch.models import INCIDENT_TYPES, Analysis, Incident, IncidentMention, Report
from cashwatch.places_table import FORCES, region_of
from cashwatch.processors.link import Linker, LinkerConfig
from cashwatch.processors.linking_score import big_cities

START = dt.date(2025, 1, 1)
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
TOWNS_PER_FORCE = 300


def synthetic_incidents(n: int, rng: random.Random) -> list[Incident]:
    forces = sorted(FORCES)
    out = []
    for k in range(n):
        force = rng.choice(forces)
        town = f"{force} town {rng.randrange(TOWNS_PER_FORCE)}"
        itype = rng.choice(INCIDENT_TYPES)
        day = START + dt.timedelta(days=rng.randrange(365))
        iid = f"i-bench{k:010d}"
        report = Report(article_id=f"a-bench{k:09d}", url=f"https://news.example/{k}", source="news.example",
                        published=day, type=itype, town=town, force=force, country="GB", date=day)
        out.append(Incident(incident_id=iid, type=itype, town=town, force=force, region=region_of(force),
                            country="GB", date=day, first_seen=NOW, last_seen=NOW, reports=[report]))
    return out


def probes(known: list[Incident], count: int, rng: random.Random) -> list[Analysis]:
    forces = sorted(FORCES)
    out = []
    for k in range(count):
        if k % 2 == 0:
            inc = rng.choice(known)
            m = IncidentMention(type=inc.type, town=inc.town, force=inc.force, country="GB", date=inc.date)
            published = inc.date
        else:
            force = rng.choice(forces)
            day = START + dt.timedelta(days=rng.randrange(365))
            m = IncidentMention(type=rng.choice(INCIDENT_TYPES), force=force, country="GB", date=day,
                                town=f"{force} new place {k}")
            published = day
        out.append(Analysis(article_id=f"a-probe{k:09d}", url=f"https://other.example/{k}", source="other.example",
                            published=published, kind="incident", incidents=[m]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[2_000, 20_000, 200_000])
    ap.add_argument("--probes", type=int, default=2_000)
    args = ap.parse_args()
    big_cities()  # loaded once per process on first use (about 0.4 s): not part of a link
    print(f"{'incidents':>10} {'load s':>8} {'mean us':>9} {'median us':>10} {'p99 us':>8} {'linked':>8}")
    for n in args.sizes:
        rng = random.Random(n)
        incidents = synthetic_incidents(n, rng)
        linker = Linker(config=LinkerConfig(max_incidents=max(n * 2, 10_000)))
        t0 = time.perf_counter()
        linker.load(incidents)
        load_s = time.perf_counter() - t0
        timings, linked = [], 0
        for a in probes(incidents, args.probes, rng):
            t0 = time.perf_counter()
            out, events = linker.link(a, now=NOW)
            timings.append(time.perf_counter() - t0)
            linked += events[0].event == "updated"
        timings.sort()
        us = [t * 1e6 for t in timings]
        print(f"{n:>10} {load_s:>8.2f} {statistics.fmean(us):>9.0f} {statistics.median(us):>10.0f} "
              f"{us[int(len(us) * 0.99)]:>8.0f} {linked:>8}")


if __name__ == "__main__":
    main()
