#!/usr/bin/env python3
"""Linking quality alone: the dev set's hand labels turned into mentions, linked, scored.

Reads ``../shared/eval/dev.jsonl``, builds one :class:`Analysis` per article from its *labels* (kind,
and per incident type/attempted/town/force/country/date/role), feeds them to the :class:`Linker` in
the scorer's publication order, and scores the incident ids with ``shared/eval/score.py``'s own
metric (link precision/recall/F1 over article pairs, ``incidents_split``). Analysis errors are
thereby kept out of the figure: this measures the linker only.

Options: ``--no-text`` drops the MinHash text signatures; ``--geo`` adds coordinates for labelled
towns from ``processors/data/gazetteer.tsv.gz`` (as the place resolver would); ``-v`` lists every
wrongly linked or split pair.

    /work/venv/bin/python bench/bench_link_dev.py [--geo] [--no-text] [-v]
"""
from __future__ import annotations

import argparse
import datetime as dt
import gzip
import importlib.util
import itertools
import json
from pathlib import Path

from cashwatch.models import Analysis, IncidentMention
from cashwatch.processors.link import Linker
from cashwatch.processors.linking_text import text_signature

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def _scorer():
    spec = importlib.util.spec_from_file_location("cashwatch_eval_score", SHARED / "eval" / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _gazetteer() -> dict[tuple[str, str], tuple[float, float]]:
    places: dict[tuple[str, str], tuple[float, float, int]] = {}
    path = ROOT / "processors" / "data" / "gazetteer.tsv.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            name, _country, lat, lon, pop, force, *_ = line.rstrip("\n").split("\t")
            key = (name.lower(), force)
            if key not in places or int(pop or 0) > places[key][2]:
                places[key] = (float(lat), float(lon), int(pop or 0))
    return {k: (v[0], v[1]) for k, v in places.items()}


def analysis_from_labels(rec: dict, use_text: bool, geo: dict | None) -> Analysis:
    mentions = []
    for inc in rec["label"]["incidents"]:
        lat = lon = None
        if geo is not None and inc.get("town"):
            lat, lon = geo.get((inc["town"].lower(), inc.get("force") or ""), (None, None))
        mentions.append(IncidentMention(
            type=inc["type"], attempted=bool(inc.get("attempted")), town=inc.get("town"),
            force=inc.get("force"), country=inc.get("country"), lat=lat, lon=lon,
            date=dt.date.fromisoformat(inc["date"]) if inc.get("date") else None,
            role=inc.get("role") or "primary"))
    return Analysis(
        article_id=rec["id"], url=rec.get("url") or "", source=rec.get("source") or "",
        published=dt.date.fromisoformat(rec["published"]) if rec.get("published") else None,
        title=rec.get("title") or "", kind=rec["label"]["kind"], incidents=mentions,
        text_signature=text_signature(f"{rec.get('title') or ''}\n{rec.get('text') or ''}") if use_text else None)


def unique_ids(corpus: list) -> list:
    """The corpus without articles whose id another article also has: the scorer keys results by id, so
    two articles under one id would be scored against one result (dev.jsonl has 9 such pairs)."""
    counts: dict = {}
    for rec in corpus:
        counts[rec["id"]] = counts.get(rec["id"], 0) + 1
    return [rec for rec in corpus if counts[rec["id"]] == 1]


def evaluate(corpus_path, use_text: bool = True, geo: bool = False, linker: Linker | None = None,
             results: list | None = None, shuffle: int | None = None) -> dict:
    """Link the labelled corpus (articles with a unique id) in streaming order, or shuffled with seed
    ``shuffle``, and return score.py's metrics (plus ``incidents``). Incident ids are the final ones: an
    incident merged into another since reports the survivor's id."""
    import random

    scorer = _scorer()
    corpus = unique_ids(scorer.load_jsonl(corpus_path))
    places = _gazetteer() if geo else None
    linker = linker or Linker()
    results = [] if results is None else results
    order = scorer.streaming_order(corpus)
    if shuffle is not None:
        random.Random(shuffle).shuffle(order)
    for rec in order:
        linked, _events = linker.link(analysis_from_labels(rec, use_text, places))
        results.append({"id": rec["id"], "kind": linked.kind,
                        "incidents": [m.model_dump(mode="json") for m in linked.incidents]})
    for r in results:
        for m in r["incidents"]:
            if m.get("incident_id"):
                m["incident_id"] = linker.resolve(m["incident_id"])
    m, _, _ = scorer.score(corpus, results)
    m["incidents"] = len(linker.incidents)
    return m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=str(SHARED / "eval" / "dev.jsonl"))
    ap.add_argument("--no-text", action="store_true")
    ap.add_argument("--geo", action="store_true")
    ap.add_argument("--shuffle", type=int, default=None, help="link in a shuffled order (this seed)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    results: list = []
    m = evaluate(args.corpus, not args.no_text, args.geo, results=results, shuffle=args.shuffle)
    corpus = unique_ids(_scorer().load_jsonl(args.corpus))
    print(f"linking on dev labels ({len(corpus)} articles, text={'off' if args.no_text else 'on'}, "
          f"geo={'on' if args.geo else 'off'}): link precision {m['link_precision']:.3f}  "
          f"recall {m['link_recall']:.3f}  f1 {m['link_f1']:.3f}  gold linked pairs {m['gold_linked_pairs']}  "
          f"incidents_split {m['incidents_split']}  incidents {m['incidents']}")
    if args.verbose:
        by_id = {r["id"]: r for r in results}
        gold = {c["id"]: {i["cluster"] for i in c["label"]["incidents"] if i.get("role") != "reference"}
                for c in corpus}
        pred = {r["id"]: {i["incident_id"] for i in r["incidents"] if i.get("role") != "reference"}
                for r in results}
        for a, b in itertools.combinations(sorted(gold), 2):
            g, p = bool(gold[a] & gold[b]), bool(pred[a] & pred[b])
            if g != p:
                print(("FALSE LINK " if p else "MISSED     ") + f"{a} {b}  gold {sorted(gold[a] & gold[b])} "
                      f" {a}: {[(i['town'], i['date'], i['type']) for i in by_id[a]['incidents']]}"
                      f" {b}: {[(i['town'], i['date'], i['type']) for i in by_id[b]['incidents']]}")


if __name__ == "__main__":
    main()
