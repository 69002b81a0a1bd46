"""How long one polling cycle of N simulated feeds takes (issue 2, "Done when").

    /work/venv/bin/python bench/bench_poll.py [--feeds 500] [--items 20] [--concurrency 32]

The newsroom simulator runs in its own process (so its CPU does not share this process's GIL) and
serves ``--feeds`` RSS feeds of ``--items`` items each, all on 127.0.0.1; so ``--concurrency`` is both
the per-host and the total request limit of the producer. Three cycles, timed end to end:

1. every feed has ``--items`` new items: poll and parse all feeds (no page fetches);
2. the same from a fresh state, plus fetching every new item's page and handing it on
   (``Producer.poll_and_emit`` into a queue whose consumer marks each item done);
3. nothing changed: every feed answers 304.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import socket
import tempfile
import time
import urllib.request
from pathlib import Path

from cashwatch.config import FeedConfig, HttpConfig, Settings
from cashwatch.producers.rss import Producer
from cashwatch.producers.state import ProducerState

WORDS = ("council police village road shop van cash machine school bridge market night morning officers "
         "residents street town centre appeal witnesses plans meeting weather football club").split()


def make_corpus(feeds: int, items: int) -> list[dict]:
    """Synthetic articles (word salad from a fixed vocabulary; their content does not matter here)."""
    out = []
    for f in range(feeds):
        for i in range(items):
            words = [WORDS[(f * 7 + i * 3 + k) % len(WORDS)] for k in range(60)]
            out.append({"id": f"f{f:03d}-{i:02d}", "source": f"source-{f:03d}",
                        "published": f"2026-0{1 + i % 9}-{1 + i:02d}", "title": " ".join(words[:8]).capitalize(),
                        "text": " ".join(words).capitalize() + "."})
    return out


def _serve(corpus_path: str, port: int) -> None:
    from cashwatch.newsroom.server import main
    import contextlib, os
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        main([corpus_path, "--port", str(port)])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def cycle(producer: Producer, feeds: list[FeedConfig], *, pages: bool, state: ProducerState) -> tuple[float, int]:
    started = time.perf_counter()
    if not pages:
        results = await asyncio.gather(*(producer.poll_feed(f) for f in feeds))
        return time.perf_counter() - started, sum(len(r) for r in results)
    out: asyncio.Queue = asyncio.Queue(maxsize=256)
    done = 0

    async def consume() -> None:
        nonlocal done
        while True:
            page = await out.get()
            state.mark_done(page.item)
            done += 1 if page.html else 0
            out.task_done()

    consumer = asyncio.create_task(consume())
    await asyncio.gather(*(producer.poll_and_emit(f, out) for f in feeds))
    await out.join()
    consumer.cancel()
    return time.perf_counter() - started, done


async def run(base: str, n_feeds: int, concurrency: int, tmp: Path) -> dict:
    feeds = [FeedConfig(id=f"feed-{f:03d}", url=f"{base}/feeds/source-{f:03d}.xml", poll_interval_s=600)
             for f in range(n_feeds)]
    http = HttpConfig(allow_hosts=["127.0.0.1"], per_host_concurrency=concurrency, max_concurrency=concurrency,
                      respect_robots_txt=True)
    figures = {}
    s1 = Settings(feeds=feeds, http=http, store_path=str(tmp / "a.db"))
    st1 = ProducerState(s1.store_path)
    p1 = Producer(s1, st1)
    figures["new_poll_only"] = await cycle(p1, feeds, pages=False, state=st1)
    await p1.aclose()
    st1.close()
    s2 = Settings(feeds=feeds, http=http, store_path=str(tmp / "b.db"))
    st2 = ProducerState(s2.store_path)
    p2 = Producer(s2, st2)
    figures["new_with_pages"] = await cycle(p2, feeds, pages=True, state=st2)
    figures["all_304"] = await cycle(p2, feeds, pages=False, state=st2)
    not_modified = sum(s.not_modified for s in st2.all_feed_states())
    await p2.aclose()
    st2.close()
    figures["not_modified_answers"] = not_modified
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    import logging
    logging.disable(logging.WARNING)
    from cashwatch.logs import configure
    configure("console", "error")
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        corpus = tmp / "corpus.jsonl"
        corpus.write_text("\n".join(json.dumps(a) for a in make_corpus(args.feeds, args.items)) + "\n")
        port = _free_port()
        server = multiprocessing.get_context("spawn").Process(target=_serve, args=(str(corpus), port), daemon=True)
        server.start()
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/robots.txt", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        try:
            figures = asyncio.run(run(base, args.feeds, args.concurrency, tmp))
        finally:
            server.terminate()
            server.join(5)
    n = args.feeds
    if args.json:
        print(json.dumps({k: (v if isinstance(v, int) else {"seconds": v[0], "count": v[1]}) for k, v in figures.items()}))
        return 0
    print(f"polling cycle of {n} simulated feeds ({args.items} items each), {args.concurrency} concurrent requests, "
          f"newsroom in its own process on loopback")
    for key, label, unit in (("new_poll_only", "each has 20 new items: poll + parse", "new items"),
                             ("new_with_pages", "each has 20 new items: poll + parse + fetch every page", "pages"),
                             ("all_304", "nothing new: every feed answers 304", "new items")):
        seconds, count = figures[key]
        print(f"  {label:<58} {seconds:7.2f} s  ({count} {unit}, {1000 * seconds / n:6.2f} ms/feed)")
    print(f"  304 answers in the last cycle: {figures['not_modified_answers']} of {n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
