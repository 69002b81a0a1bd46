"""Throughput of the whole embedded pipeline over real HTTP on loopback.

The project's demo corpus is multiplied into N distinct articles over F simulated feeds; the monitor
polls, fetches, extracts, analyses, links and stores them all (and queues webhooks for one
subscription). Prints articles/s and the time to the first and last stored article.

    python bench/bench_pipeline.py [--copies 40] [--feeds 20]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from cashwatch.config import Settings
from cashwatch.newsroom.receiver import WebhookReceiver
from cashwatch.newsroom.server import Newsroom
from cashwatch.runtime.embedded import EmbeddedMonitor

DEMO = Path(__file__).resolve().parents[1] / "cashwatch/newsroom/corpus/demo.jsonl"


def corpus(copies: int, feeds: int) -> list[dict]:
    base = [json.loads(line) for line in DEMO.read_text().splitlines() if line.strip()]
    out = []
    for c in range(copies):
        for a in base:
            out.append({**a, "id": f"{a['id']}-{c}", "source": f"paper-{(c * len(base) + len(out)) % feeds}.example",
                        "title": f"{a['title']} ({c})"})
    return out


async def main(copies: int, feeds: int) -> None:
    from cashwatch.logs import configure

    configure("console", "warning")
    records = corpus(copies, feeds)
    async with Newsroom(records) as newsroom, WebhookReceiver() as receiver:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings.model_validate({
                "store_path": str(Path(tmp) / "bench.db"),
                "feeds": [{"id": f"f{i}", "url": u, "poll_interval_s": 3600} for i, u in enumerate(newsroom.feed_urls().values())],
                "subscriptions": [{"name": "all", "url": receiver.url}],
                "http": {"allow_hosts": ["127.0.0.1"], "jitter_fraction": 0.0, "per_host_concurrency": 8},
                "ops": {"metrics_port": 0},
            })
            stored_at: list[float] = []
            monitor = EmbeddedMonitor(settings, on_stored=lambda *a: stored_at.append(time.perf_counter()))
            stop = asyncio.Event()
            started = time.perf_counter()
            task = asyncio.create_task(monitor.run(stop))
            while len(stored_at) < len(records) and not task.done():
                await asyncio.sleep(0.05)
            elapsed = stored_at[-1] - started
            stop.set()
            await task
    gaps = [b - a for a, b in zip(stored_at, stored_at[1:])]
    print(f"articles: {len(records)} in {feeds} feeds, whole embedded pipeline over loopback HTTP")
    print(f"first stored after {stored_at[0] - started:.2f} s, all stored after {elapsed:.2f} s")
    print(f"throughput: {len(records) / elapsed:.1f} articles/s   (median gap {statistics.median(gaps) * 1000:.1f} ms)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=40)
    ap.add_argument("--feeds", type=int, default=20)
    args = ap.parse_args()
    asyncio.run(main(args.copies, args.feeds))
