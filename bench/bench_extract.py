#!/usr/bin/env python3
"""Extraction figures: real pages (the public benchmark) and the newsroom simulator's own pages.

    python bench/bench_extract.py            # both parts
    python bench/bench_extract.py --real     # real pages only
    python bench/bench_extract.py --sim      # simulator pages only

Real pages: the 181 pages of ../shared/realworld/extraction with the benchmark's own metric (the
scorer's ``score`` function: 4-token shingles, per-page precision and recall averaged), for
cashwatch's :func:`extract` and for plain ``trafilatura.extract`` with default options, with the CPU
time per page of each in this process (the scorer's ``--run`` figure also counts process start-up).

Simulator pages: every article of ../shared/eval/dev.jsonl (or ``--corpus``) is rendered with
:func:`cashwatch.newsroom.pages.render_article_page` (the other articles feed its READ MORE and
related links) with each page template, extracted, and compared with the original: mean
token-overlap F1 of body vs text, the share of bodies recovered nearly exactly (F1 >= 0.98), the
number whose body carries another article's headline as a line or a READ MORE (boilerplate leaking
through), title and date agreement.
"""
from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from cashwatch.newsroom.pages import TEMPLATES, render_article_page
from cashwatch.processors.extract import extract

SHARED = Path(__file__).resolve().parents[2] / "shared"
TOKEN = re.compile(r"\w+", re.UNICODE)


def token_f1(truth: str, pred: str) -> float:
    t, p = Counter(TOKEN.findall(truth.lower())), Counter(TOKEN.findall(pred.lower()))
    if not t and not p:
        return 1.0
    tp = sum((t & p).values())
    if tp == 0:
        return 0.0
    prec, rec = tp / sum(p.values()), tp / sum(t.values())
    return 2 * prec * rec / (prec + rec)


def _scorer():
    path = SHARED / "eval" / "extraction_score.py"
    spec = importlib.util.spec_from_file_location("extraction_score", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def real_pages() -> None:
    data = SHARED / "realworld" / "extraction"
    if not data.exists():
        print(f"real pages: skipped, {data} not found")
        return
    import trafilatura

    scorer = _scorer()
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    pages = {}
    for key in sorted(truth):
        with gzip.open(data / "html" / f"{key}.html.gz", "rt", encoding="utf-8") as fh:
            pages[key] = fh.read()
    runs = {
        "cashwatch extract": lambda html, url: extract(html, url).body,
        "plain trafilatura 2.3.1": lambda html, url: trafilatura.extract(html, url=url) or "",
    }
    print(f"real pages: {len(pages)} from {data}")
    for name, fn in runs.items():
        started = time.process_time()
        results = {k: {"body": fn(pages[k], truth[k].get("url"))} for k in pages}
        cpu_ms = 1000 * (time.process_time() - started) / len(pages)
        m = scorer.score(truth, results)
        print(f"  {name:26s} precision {m['precision']:.3f}  recall {m['recall']:.3f}  f1 {m['f1']:.3f}"
              f"  {cpu_ms:.1f} ms/page CPU")
    print("  published table: AutoExtract 0.970, trafilatura 2.0.0 0.958, newspaper4k 0.949, readability-lxml 0.922")


def simulator_pages(corpus: Path) -> None:
    if not corpus.exists():
        print(f"simulator pages: skipped, {corpus} not found")
        return
    articles = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    import trafilatura

    n = len(articles)
    print(f"simulator pages: {n} articles of {corpus}, each rendered with every template")
    for template in TEMPLATES:
        f1s, titles, dates, leaks = [], [], [], 0
        started = time.process_time()
        for i, art in enumerate(articles):
            others = [a for a in articles[max(0, i - 6):i + 7] if a is not art]
            page = render_article_page(art, art.get("source") or "news.example", others, template=template)
            ex = extract(page, art.get("url"))
            f1s.append(token_f1(art["text"], ex.body))
            if art.get("title"):
                titles.append(ex.title == " ".join(art["title"].split()))
            dates.append((ex.published.isoformat() if ex.published else None) == (art.get("published") or None))
            headlines = {" ".join(o["title"].split()) for o in others if o.get("title")}
            if any(line.strip() in headlines for line in ex.body.split("\n")) or "READ MORE" in ex.body:
                leaks += 1
        cpu_ms = 1000 * (time.process_time() - started) / max(1, n)
        plain = [token_f1(art["text"], trafilatura.extract(
            render_article_page(art, art.get("source") or "news.example",
                                [a for a in articles[max(0, i - 6):i + 7] if a is not art], template=template)) or "")
            for i, art in enumerate(articles)]
        print(f"  {template:12s} plain trafilatura body F1 mean {statistics.mean(plain):.4f}")
        print(f"  {template:12s} cashwatch extract body F1 mean {statistics.mean(f1s):.4f}  min {min(f1s):.3f}"
              f"  near-exact (>= 0.98) {sum(f >= 0.98 for f in f1s) / n:.1%}  headline/READ MORE leaks {leaks}"
              f"  title exact {sum(titles) / max(1, len(titles)):.1%}  date agrees {sum(dates) / n:.1%}"
              f"  {cpu_ms:.1f} ms/page CPU")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--real", action="store_true", help="real pages only")
    ap.add_argument("--sim", action="store_true", help="simulator pages only")
    ap.add_argument("--corpus", type=Path, default=SHARED / "eval" / "dev.jsonl")
    args = ap.parse_args()
    both = not (args.real or args.sim)
    if args.real or both:
        real_pages()
    if args.sim or both:
        simulator_pages(args.corpus)


if __name__ == "__main__":
    sys.exit(main())
