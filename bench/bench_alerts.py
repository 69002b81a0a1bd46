"""Alert delivery figures: latency from enqueue to the receiver having the alert, and deliveries per second.

Everything is real: the WebhookSink with its SQLite outbox (WAL; enqueue commits with synchronous=FULL)
in a temporary file, signed requests over loopback HTTP to the project's aiohttp receiver
(``python -m cashwatch.newsroom.receiver --jsonl``) in its own process, which verifies every signature
and reports each arrival with its time.

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
import contextlib
import datetime as dt
import json
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

from cashwatch.config import Settings
from cashwatch.logs import configure
from cashwatch.models import Incident, IncidentEvent, Report
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


class Receiver:
    """The receiver in a child process; ``arrivals`` maps incident id -> arrival time (processed requests)."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.keys: dict[str, int] = {}
        self.bad_signatures = 0
        self.duplicates = 0

    @contextlib.asynccontextmanager
    async def running(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cashwatch.newsroom.receiver", "--port", str(port), "--secret", SECRET, "--jsonl",
            stdout=asyncio.subprocess.PIPE)
        first = json.loads(await proc.stdout.readline())
        self.url = first["listening"]
        reader = asyncio.create_task(self._read(proc.stdout))
        try:
            yield self
        finally:
            proc.terminate()
            await proc.wait()
            reader.cancel()

    async def _read(self, stream) -> None:
        while line := await stream.readline():
            rec = json.loads(line)
            self.bad_signatures += rec["signature"] != "valid"
            self.duplicates += rec["duplicate"]
            self.keys[rec["key"]] = self.keys.get(rec["key"], 0) + 1
            self.arrivals.setdefault(f"{rec['subscription']}/{rec['incident_id']}", rec["received_at"])

    async def wait(self, n: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(self.arrivals) < n and time.monotonic() < deadline:
            await asyncio.sleep(0.002)
        assert len(self.arrivals) == n, f"only {len(self.arrivals)}/{n} alerts arrived"
        assert self.bad_signatures == 0 and self.duplicates == 0


async def latency(n: int, gap_s: float, folder: Path) -> list[float]:
    async with Receiver().running() as rx:
        sink = WebhookSink(settings(rx.url, 1), str(folder / "latency.db"))
        stop = asyncio.Event()
        task = asyncio.create_task(sink.run(stop))
        started: dict[str, float] = {}
        for i in range(n):
            ev = event(i)
            started[f"sub0/{ev.incident.incident_id}"] = time.time()
            sink.enqueue([ev])
            await asyncio.sleep(gap_s)
        await rx.wait(n, 30)
        stop.set()
        await task
        sink.close()
        return [rx.arrivals[k] - started[k] for k in started]


async def throughput(n: int, subs: int, folder: Path) -> tuple[float, float]:
    async with Receiver().running() as rx:
        sink = WebhookSink(settings(rx.url, subs), str(folder / f"burst{subs}.db"))
        events = [event(i) for i in range(n)]
        stop = asyncio.Event()
        task = asyncio.create_task(sink.run(stop))
        t0 = time.time()
        sink.enqueue(events)
        t_enq = time.time() - t0
        await rx.wait(n * subs, 300)
        elapsed = max(rx.arrivals.values()) - t0
        stop.set()
        await task
        sink.close()
    return n * subs / elapsed, t_enq


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latency-n", type=int, default=200)
    ap.add_argument("--gap-ms", type=float, default=20.0)
    ap.add_argument("--burst-n", type=int, default=2000)
    ap.add_argument("--subs", type=int, nargs="+", default=[1, 4])
    args = ap.parse_args()
    configure("console", "warning")  # one log line per delivered alert would measure the terminal
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
