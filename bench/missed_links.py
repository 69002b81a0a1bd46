#!/usr/bin/env python3
"""Which reports of one incident the full pipeline failed to link (or linked wrongly), and why.

Runs the real pipeline (analyser + linker, as ``cashwatch analyse``) over ``../shared/eval/dev.jsonl``
in the scorer's publication order, then groups the labelled primary incidents by ``cluster`` and, for
every cluster whose reports did not all get one incident id (or every pair wrongly given one), prints
what each article was labelled with and what the analyser predicted (kind, type, town, force, date,
role, incident id). Prints labels and predictions only, never article text.

    /work/venv/bin/python bench/missed_links.py [--all] [--corpus PATH]
"""
from __future__ import annotations

import argparse
import itertools
from collections import defaultdict

from bench_link_dev import SHARED, _scorer  # same folder: the dev-set paths and score.py loader

from cashwatch.cli.core import article_from_record
from cashwatch.processors.pipeline import AnalysisPipeline, analysis_to_result


def _pred(inc: dict) -> str:
    return (f"{inc['type']:<13} town={inc.get('town')!s:<18} force={inc.get('force')!s:<20} "
            f"date={inc.get('date')!s:<10} {inc.get('role'):<9} {inc.get('incident_id')}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=str(SHARED / "eval" / "dev.jsonl"))
    ap.add_argument("--all", action="store_true", help="print every multi-report cluster, not only the missed")
    args = ap.parse_args()

    scorer = _scorer()
    corpus = scorer.load_jsonl(args.corpus)
    pipeline = AnalysisPipeline()
    results = {}
    for rec in scorer.streaming_order(corpus):
        analysis, _ = pipeline.process(article_from_record(rec))
        results[rec["id"]] = analysis_to_result(rec["id"], analysis)
    by_id = {r["id"]: r for r in corpus}

    clusters: dict[str, list[str]] = defaultdict(list)
    for rec in corpus:
        for inc in rec["label"]["incidents"]:
            if inc.get("role") != "reference" and rec["id"] not in clusters[inc["cluster"]]:
                clusters[inc["cluster"]].append(rec["id"])
    pred_ids = {aid: {i["incident_id"] for i in r["incidents"] if i.get("role") != "reference" and i.get("incident_id")}
                for aid, r in results.items()}

    missed = 0
    for cluster, ids in sorted(clusters.items()):
        if len(ids) < 2:
            continue
        pairs = list(itertools.combinations(ids, 2))
        bad = [(a, b) for a, b in pairs if not pred_ids[a] & pred_ids[b]]
        missed += len(bad)
        if not bad and not args.all:
            continue
        print(f"== cluster {cluster}: {len(ids)} reports, {len(bad)}/{len(pairs)} pairs missed")
        for aid in ids:
            rec = by_id[aid]
            gold = [i for i in rec["label"]["incidents"] if i["cluster"] == cluster]
            g = gold[0]
            print(f"  {aid} pub={rec.get('published')} kind={rec['label']['kind']}->{results[aid]['kind']} "
                  f"src={rec.get('source')}")
            print(f"     gold {g['type']:<13} town={g.get('town')!s:<18} force={g.get('force')!s:<20} date={g.get('date')}")
            for inc in results[aid]["incidents"]:
                print(f"     pred {_pred(inc)}")
    # pairs linked that should not be
    false = 0
    gold_sets = {aid: {i["cluster"] for i in by_id[aid]["label"]["incidents"] if i.get("role") != "reference"}
                 for aid in by_id}
    for a, b in itertools.combinations(sorted(by_id), 2):
        if pred_ids[a] & pred_ids[b] and not gold_sets[a] & gold_sets[b]:
            false += 1
            print(f"!! FALSE LINK {a} {b}: {sorted(pred_ids[a] & pred_ids[b])}")
            for aid in (a, b):
                for inc in results[aid]["incidents"]:
                    print(f"     {aid} {_pred(inc)}")
    print(f"missed gold pairs {missed}, false linked pairs {false}")


if __name__ == "__main__":
    main()
