"""Benchmark of the distributed runtime on this machine: real Kafka, Elasticsearch, faust workers.

    /work/venv/bin/python bench/bench_distributed.py [--incidents 60] [--latency-items 12]

Starts a local Kafka and Elasticsearch with deploy/local (or uses ``--kafka`` / ``--es``), then runs
the whole pipeline as real processes (tests/distributed/stack.py: newsroom simulator -> ``cashwatch
kafka produce`` -> Kafka -> two ``cashwatch process`` faust workers -> ``cashwatch kafka sink`` ->
Elasticsearch + webhook receiver) and prints:

* throughput: a backlog of articles made visible at once, articles/s from release until every
  article is analysed and indexed;
* latency: items released one by one; from an item appearing in its feed to (a) its incident being
  searchable in Elasticsearch and (b) its ``created`` webhook being received; p50 / p95 / max.
  This includes the producer's feed poll interval (1 s here), as a real deployment would.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.distributed.corpus import make_corpus  # noqa: E402
from tests.distributed.stack import Stack, corpus_id  # noqa: E402


def start_service(script: str, run_dir: Path) -> str:
    env = dict(os.environ, DEPLOY_LOCAL_RUN=str(run_dir))
    out = subprocess.run([str(ROOT / "deploy/local" / script), "start"], env=env, check=True,
                         capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1].split("=", 1)[1]


def stop_service(script: str, run_dir: Path) -> None:
    subprocess.run([str(ROOT / "deploy/local" / script), "stop"], env=dict(os.environ, DEPLOY_LOCAL_RUN=str(run_dir)),
                   capture_output=True)


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))]


def incidents_by_first_report(stack: Stack) -> dict[str, str]:
    """{corpus id of an incident's first report: incident id} of what is searchable now."""
    out = {}
    for inc in stack.incidents():
        for r in inc["reports"]:
            out.setdefault(corpus_id(r["url"]), inc["incident_id"])
    return out


def throughput(kafka: str, es: str, n_incidents: int, work: Path) -> tuple[int, float]:
    corpus, _ = make_corpus(n_incidents, second_report_every=3, others=max(2, n_incidents // 10), tag="t")
    stack = Stack(corpus, kafka=kafka, es_url=es, workdir=work, base_feed_items=0, subscribe=False)
    stack.start()
    try:
        time.sleep(15)  # let both workers join the group and settle, so the figure is steady-state work
        t0 = time.monotonic()
        stack.newsroom.release(10_000)
        stack.wait(lambda: len(stack.articles()) >= len(corpus), 600, "the backlog", every_s=0.5)
        return len(corpus), time.monotonic() - t0
    finally:
        stack.stop()


def latency(kafka: str, es: str, n_items: int, work: Path, gap_s: float) -> tuple[list[float], list[float]]:
    corpus, truth = make_corpus(n_items, second_report_every=0, others=0, tag="l")
    stack = Stack(corpus, kafka=kafka, es_url=es, workdir=work, base_feed_items=0)
    stack.start()
    searchable: list[float] = []
    hooked: list[float] = []
    try:
        time.sleep(15)
        released: dict[str, float] = {}
        order = sorted(corpus, key=lambda a: a["published"])
        for art in order:
            source = art["source"]
            stack.newsroom.release(1, source)
            released[stack.newsroom.by_source[source][stack.newsroom.visible[source] - 1]["id"]] = time.time()
            deadline = time.monotonic() + 60
            cid = list(released)[-1]
            while cid not in incidents_by_first_report(stack):
                stack.check_alive()
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{cid} not searchable after 60 s")
                time.sleep(0.05)
            searchable.append(time.time() - released[cid])
            time.sleep(gap_s)
        stack.receiver.wait_for(lambda rx: len(rx.requests) >= len(released), timeout=60)
        first = incidents_by_first_report(stack)
        by_incident = {iid: cid for cid, iid in first.items()}
        for req in stack.receiver.requests:
            body = req.json()
            cid = by_incident.get(body["incident"]["id"])
            if body["event"] == "created" and cid in released:
                hooked.append(req.received_at - released[cid])
        return searchable, hooked
    finally:
        stack.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kafka", help="bootstrap address of a running Kafka (default: start one)")
    ap.add_argument("--es", help="URL of a running Elasticsearch (default: start one)")
    ap.add_argument("--incidents", type=int, default=60, help="incidents in the throughput backlog")
    ap.add_argument("--latency-items", type=int, default=12, help="items released one by one for latency")
    ap.add_argument("--gap-s", type=float, default=0.5, help="pause between latency items")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="cashwatch-bench-") as tmp:
        run = Path(tmp) / "services"
        started = []
        try:
            kafka = args.kafka or (started.append("kafka.sh") or start_service("kafka.sh", run))
            es = args.es or (started.append("elasticsearch.sh") or start_service("elasticsearch.sh", run))
            (Path(tmp) / "tp").mkdir()
            (Path(tmp) / "lat").mkdir()
            n, secs = throughput(kafka, es, args.incidents, Path(tmp) / "tp")
            print(f"throughput: {n} articles in {secs:.1f} s = {n / secs:.1f} articles/s "
                  f"(feeds -> Kafka -> 2 faust workers -> Elasticsearch, {os.cpu_count()} cores)")
            searchable, hooked = latency(kafka, es, args.latency_items, Path(tmp) / "lat", args.gap_s)
            for what, xs in (("item in feed -> incident searchable", searchable),
                             ("item in feed -> webhook received", hooked)):
                print(f"latency {what}: p50 {statistics.median(xs):.2f} s, p95 {pct(xs, 95):.2f} s, "
                      f"max {max(xs):.2f} s (n={len(xs)})")
        finally:
            for script in started:
                stop_service(script, run)


if __name__ == "__main__":
    main()
