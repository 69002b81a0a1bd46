"""Alert delivery figures: latency from enqueue to the receiver having the alert, and deliveries per second.

Everything is real: the WebhookSink with its SQLite outbox (WAL, synchronous=FULL) in a temporary
file, signed requests over loopback HTTP to the project's aiohttp receiver (which verifies every
signature). The receiver runs in a thread of the same process, so the two share one interpreter lock:
the figures are a conservative floor for a receiver on another machine.

    /work/venv/bin/python bench/bench_alerts.py [--latency-n 200] [--gap-ms 20] [--burst-n 2000] [--subs 1 4]

* latency: one new incident every ``--gap-ms``; time from just before ``enqueue`` (the incident has
  been stored) to the receiver's arrival of the alert; p50/p95/max.
* throughput: ``--burst-n`` incidents enqueued at once to ``S`` subscriptions (each delivers in order,
  one request at a time; subscriptions in parallel); deliveries/s from the first enqueue to the last
  arrival.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from cashwatch.config import Settings
from cashwatch.models import Incident, IncidentEvent, Report
from cashwatch.newsroom.receiver import ReceiverThread
from cashwatch.sinks.webhook import WebhookSink

SECRET = "bench-secret"


def event(n: int) -> IncidentEvent:
    now = dt.datetime.now(dt.timezone.utc)
    inc = Incident(incident_id=f"i-bench-{n:06d}", type="atm_theft", town="Preston", force="lancashire",
                   lat=53.76, lon=-2.70, date=now.date(), confidence=0.9, first_seen=now, last_seen=now,
                   reports=[Report(article_id=f"a-bench-{n:06d}", url=f"https://news.example/{n}",
                                   title="Cash machine taken in overnight raid", source="bench")])
    return IncidentEvent(event="created", incident=inc, article_id=f"a-bench-{n:06d}")


def settings(url: str, subs: int) -> Settings:
    return Settings.model_validate({
        "subscriptions": [{"name": f"sub{i}", "url": url, "secret": SECRET, "regions": ["north-west"]}
                          for i in range(subs)],
        "http": {"allow_hosts": ["127.0.0.1"]},
        "alerts": {"retry_initial_s": 0.05, "retry_max_s": 0.5, "poll_interval_s": 0.5},
    })


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def latency(n: int, gap_s: float, folder: Path) -> list[float]:
    arrivals: dict[str, float] = {}
    with ReceiverThread(secret=SECRET, on_request=lambda r: arrivals.setdefault(r.json()["incident"]["id"],
                                                                                  r.received_at)) as rt:
        sink = WebhookSink(settings(rt.url, 1), str(folder / "latency.db"))
        stop = asyncio.Event()
        task = asyncio.create_task(sink.run(stop))
        started: dict[str, float] = {}
        for i in range(n):
            ev = event(i)
            started[ev.incident.incident_id] = time.time()
            sink.enqueue([ev])
            await asyncio.sleep(gap_s)
        deadline = time.monotonic() + 30
        while len(arrivals) < n and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        stop.set()
        await task
        sink.close()
        bad = [r for r in rt.requests if r.signature != "valid"]
        assert not bad and len(arrivals) == n, f"{len(arrivals)}/{n} arrived, {len(bad)} bad signatures"
    return [arrivals[k] - started[k] for k in started]


async def throughput(n: int, subs: int, folder: Path) -> tuple[float, float]:
    with ReceiverThread(secret=SECRET) as rt:
        sink = WebhookSink(settings(rt.url, subs), str(folder / f"burst{subs}.db"))
        events = [event(i) for i in range(n)]
        stop = asyncio.Event()
        task = asyncio.create_task(sink.run(stop))
        t0 = time.perf_counter()
        sink.enqueue(events)
        t_enq = time.perf_counter() - t0
        total = n * subs
        deadline = time.monotonic() + 300
        while len(rt.processed) < total and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - t0
        stop.set()
        await task
        sink.close()
        assert len(rt.processed) == total and rt.receiver.duplicates == 0, "not every alert arrived once"
        assert all(r.signature == "valid" for r in rt.requests)
    return total / elapsed, t_enq


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latency-n", type=int, default=200)
    ap.add_argument("--gap-ms", type=float, default=20.0)
    ap.add_argument("--burst-n", type=int, default=2000)
    ap.add_argument("--subs", type=int, nargs="+", default=[1, 4])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        lat = [x * 1000 for x in await latency(args.latency_n, args.gap_ms / 1000, folder)]
        print(f"latency enqueue -> receiver ({args.latency_n} alerts, one every {args.gap_ms:g} ms): "
              f"p50 {statistics.median(lat):.1f} ms  p95 {pct(lat, 95):.1f} ms  max {max(lat):.1f} ms")
        for subs in args.subs:
            rate, t_enq = await throughput(args.burst_n, subs, folder)
            print(f"throughput: {args.burst_n} incidents x {subs} subscription(s) = {args.burst_n * subs} deliveries: "
                  f"{rate:.0f} deliveries/s  (enqueue of the burst: {t_enq * 1000:.0f} ms, "
                  f"{args.burst_n / t_enq:.0f} events/s)")


if __name__ == "__main__":
    asyncio.run(main())
