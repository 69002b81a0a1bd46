"""Serve every real-world feed document of ``../shared/realworld/feeds/`` (feedparser's own test suite:
2,106 well-formed and broken RSS/Atom/RDF/CDF documents) through the newsroom simulator and run the
real producer (``Producer.poll_feed``) on each, over HTTP on loopback. Prints a table of outcomes.

    /work/venv/bin/python bench/realworld_feeds.py [FEEDS_DIR] [--json]

Each document is served byte for byte with the HTTP headers its fixture declares (``Header:`` lines
in its leading comment, e.g. a Content-Type with a charset). ``run_realworld`` is also what
``tests/test_realworld_feeds.py`` runs.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from cashwatch.config import FeedConfig, HttpConfig, Settings
from cashwatch.newsroom.server import Newsroom
from cashwatch.producers.rss import Producer
from cashwatch.producers.state import ProducerState

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "realworld" / "feeds"
_HEADER = re.compile(rb"^Header:\s*([A-Za-z-]+):[ \t]*(.*?)\s*$", re.M)
# What a plain-text field must never contain: a tag or a comment that a browser would parse.
MARKUP = re.compile(r"</?[A-Za-z!?][^<>]*>|<!--|<\?|<script|<style", re.I)


class PerDocumentState(ProducerState):
    """Producer state whose in-flight set is per feed: many fixtures share links such as
    ``http://example.com/``, and the real cross-feed dedup would hide their items from the checks."""

    def claim_many(self, items, feed_id=None):
        taken = []
        with self._lock:
            for item in items:
                key = (item.feed_id, item.url)
                if key not in self._in_flight:
                    self._in_flight.add(key)
                    taken.append(item)
        return taken, not taken


@dataclass
class FeedResult:
    name: str
    outcome: str  # ok | empty | error
    error_code: str | None
    items: int
    entries: int = 0
    dropped: int = 0
    texts: list[tuple[str, str]] = field(default_factory=list)  # (title, summary) of each item
    markup: list[str] = field(default_factory=list)  # fields that still held markup (must stay empty)


def fixture_headers(body: bytes) -> dict[str, str]:
    """The HTTP headers a feedparser fixture asks to be served with (from its leading comment)."""
    head = body[:2000]
    end = head.find(b"-->")
    comment = head[: end if end >= 0 else 0]
    out: dict[str, str] = {}
    for name, value in _HEADER.findall(comment):
        try:
            out[name.decode("ascii")] = value.decode("latin-1")
        except UnicodeDecodeError:
            continue
    return out


async def run_realworld(feeds_dir: Path, *, concurrency: int = 24, limit: int | None = None) -> list[FeedResult]:
    """Poll every ``*.xml`` under ``feeds_dir`` once through the simulator; one result per document."""
    files = sorted(feeds_dir.rglob("*.xml"))
    if limit:
        files = files[:limit]
    room = Newsroom([])
    await room.start()
    tmp = tempfile.TemporaryDirectory()
    http = HttpConfig(allow_hosts=["127.0.0.1"], per_host_concurrency=concurrency, max_concurrency=concurrency,
                      connect_timeout_s=5, read_timeout_s=10, respect_robots_txt=False)
    feeds = []
    names = {}
    for i, path in enumerate(files):
        body = path.read_bytes()
        headers = fixture_headers(body)
        ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "application/xml")
        extra = {k: v for k, v in headers.items() if k.lower() not in ("content-type", "content-length")}
        name = str(path.relative_to(feeds_dir))
        url = room.add_raw_feed(name, body, ctype or "application/xml", headers=extra)
        fid = f"rw-{i:04d}"
        names[fid] = name
        feeds.append(FeedConfig(id=fid, url=url, poll_interval_s=3600))
    settings = Settings(feeds=feeds, http=http, store_path=str(Path(tmp.name) / "rw.db"))
    state = PerDocumentState(settings.store_path)
    producer = Producer(settings, state)
    results: list[FeedResult] = []
    try:
        async def one(feed: FeedConfig) -> None:
            items = await producer.poll_feed(feed)
            st = state.feed_state(feed.id)
            markup = [f"{it.article_id}.{f}: {getattr(it, f)[:80]!r}" for it in items for f in ("title", "summary")
                      if MARKUP.search(getattr(it, f))]
            stats = producer.last_poll.get(feed.id)
            results.append(FeedResult(names[feed.id], st.last_outcome or "none",
                                      st.last_error_code if st.last_outcome == "error" else None, len(items),
                                      stats.entries if stats else 0, stats.dropped if stats else 0,
                                      [(it.title, it.summary) for it in items], markup))
        await asyncio.gather(*(one(f) for f in feeds))
    finally:
        await producer.aclose()
        state.close()
        await room.stop()
        tmp.cleanup()
    return sorted(results, key=lambda r: r.name)


def summarise(results: list[FeedResult]) -> dict:
    by_outcome = Counter(r.outcome for r in results)
    by_error = Counter(r.error_code for r in results if r.outcome == "error")
    by_dir: dict[str, Counter] = {}
    for r in results:
        top = r.name.split("/", 1)[0] if "/" in r.name else "."
        by_dir.setdefault(top, Counter())[r.outcome] += 1
    return {
        "documents": len(results),
        "items": sum(r.items for r in results),
        "with_items": sum(1 for r in results if r.items),
        "entries": sum(r.entries for r in results),
        "entries_dropped_empty": sum(r.dropped for r in results),
        "only_empty_entries": sum(1 for r in results if r.outcome == "ok" and not r.items and r.dropped),
        "outcomes": dict(by_outcome),
        "errors_by_reason": dict(by_error.most_common()),
        "by_folder": {k: dict(v) for k, v in sorted(by_dir.items())},
        "fields_with_markup": sum(len(r.markup) for r in results),
    }


def print_table(summary: dict, seconds: float) -> None:
    print(f"real-world feeds: {summary['documents']} documents polled in {seconds:.1f} s")
    print(f"  entries parsed:               {summary['entries']}")
    print(f"  items emitted:                {summary['items']}")
    print(f"  entries dropped (no title, summary or link; counted as empty_item): {summary['entries_dropped_empty']}")
    print(f"  documents with items:         {summary['with_items']}")
    print(f"  documents whose entries were all empty: {summary['only_empty_entries']}")
    print(f"  valid feeds without entries:  {summary['outcomes'].get('empty', 0)}")
    print(f"  documents with an error:      {summary['outcomes'].get('error', 0)}")
    for code, n in summary["errors_by_reason"].items():
        print(f"      {code:<26}{n}")
    print(f"  title/summary fields with markup: {summary['fields_with_markup']}")
    print()
    print(f"  {'folder':<14}{'ok':>7}{'empty':>7}{'error':>7}")
    for folder, c in summary["by_folder"].items():
        print(f"  {folder:<14}{c.get('ok', 0):>7}{c.get('empty', 0):>7}{c.get('error', 0):>7}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("feeds_dir", nargs="?", default=str(DEFAULT_DIR))
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--errors", action="store_true", help="list every document that ended in an error")
    args = parser.parse_args(argv)
    feeds_dir = Path(args.feeds_dir)
    if not feeds_dir.is_dir():
        print(f"{feeds_dir} is absent (the real-world feed suite lives in ../shared)", file=sys.stderr)
        return 2
    import logging
    logging.disable(logging.WARNING)  # per-feed warnings would drown the table
    from cashwatch.logs import configure
    configure("console", "error")
    started = time.perf_counter()
    results = asyncio.run(run_realworld(feeds_dir))
    seconds = time.perf_counter() - started
    summary = summarise(results)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print_table(summary, seconds)
    if args.errors:
        for r in results:
            if r.outcome == "error":
                print(f"{r.error_code:<20} {r.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
