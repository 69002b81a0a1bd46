"""The embedded runtime end to end, over real HTTP on loopback: newsroom simulator → producer →
extraction → analysis → linking → SQLite store (→ webhook outbox), including a kill -9 restart."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from cashwatch.config import Settings
from cashwatch.newsroom.server import Newsroom, NewsroomThread
from cashwatch.runtime.embedded import EmbeddedMonitor
from cashwatch.sinks.sqlite import Store

CORPUS = [json.loads(line) for line in
          (Path(__file__).resolve().parents[1] / "cashwatch/newsroom/corpus/demo.jsonl").read_text().splitlines()]


def settings_for(newsroom_feeds: dict[str, str], store: Path, **extra) -> Settings:
    return Settings.model_validate({
        "store_path": str(store),
        "feeds": [{"id": f"sim-{i}", "url": u, "poll_interval_s": 2} for i, u in enumerate(newsroom_feeds.values())],
        "http": {"allow_hosts": ["127.0.0.1"], "jitter_fraction": 0.0, "backoff_initial_s": 1},
        "ops": {"metrics_port": 0},
        **extra,
    })


async def run_until(settings: Settings, n_articles: int, timeout_s: float = 60) -> EmbeddedMonitor:
    stop = asyncio.Event()
    monitor = EmbeddedMonitor(settings)
    task = asyncio.create_task(monitor.run(stop))
    deadline = time.monotonic() + timeout_s
    while monitor.processed < n_articles and time.monotonic() < deadline and not task.done():
        await asyncio.sleep(0.1)
    stop.set()
    await asyncio.wait_for(task, 30)
    return monitor


async def test_corpus_flows_through_and_a_restart_adds_nothing(tmp_path):
    async with Newsroom(CORPUS) as newsroom:
        settings = settings_for(newsroom.feed_urls(), tmp_path / "cw.db")
        monitor = await run_until(settings, len(CORPUS))
        assert monitor.processed == len(CORPUS)
        store = Store(settings.store_path)
        assert store.count("articles") == len(CORPUS)
        incidents = store.all_incidents()
        kinds = {a.kind for _, _, a in store.analyses()}
        assert "incident" in kinds
        # the two reports of one raid are one incident, and every incident is placed in a force area
        assert any(len(i.reports) >= 2 for i in incidents), [(i.town, len(i.reports)) for i in incidents]
        assert all(i.force for i in incidents if i.country == "GB")
        counts = (store.count("articles"), store.count("incidents"), store.count("incident_events"))
        store.close()

        # a second run over the same, unchanged newsroom finds nothing new and duplicates nothing
        page_hits = sum(newsroom.hits(newsroom.page_url(a["id"])) for a in CORPUS)
        monitor = await run_until(settings, 1, timeout_s=4)
        assert monitor.processed == 0
        assert sum(newsroom.hits(newsroom.page_url(a["id"])) for a in CORPUS) == page_hits
        store = Store(settings.store_path)
        assert (store.count("articles"), store.count("incidents"), store.count("incident_events")) == counts
        store.close()


def test_kill_9_mid_batch_loses_and_duplicates_nothing(tmp_path):
    corpus = CORPUS * 1  # the demo corpus, pages served slowly so the kill lands mid-batch
    server = NewsroomThread(corpus)
    with server:
        nr = server.newsroom
        for a in corpus:
            nr.set_fault(a["id"], "slow", delay_s=0.6)
        cfg = tmp_path / "cw.yaml"
        settings = settings_for(nr.feed_urls(), tmp_path / "cw.db")
        cfg.write_text(yaml.safe_dump(json.loads(settings.model_dump_json())), encoding="utf-8")
        env = {**os.environ, "CASHWATCH_CONFIG": str(cfg)}
        proc = subprocess.Popen([sys.executable, "-m", "cashwatch", "run"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        store = Store(tmp_path / "cw.db")
        deadline = time.monotonic() + 60
        while store.count("articles") < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        stored_before_kill = store.count("articles")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert 0 < stored_before_kill < len(corpus), "the kill should land in the middle of the batch"

        for a in corpus:
            nr.clear_fault(a["id"])
        proc = subprocess.Popen([sys.executable, "-m", "cashwatch", "run"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while store.count("articles") < len(corpus) and time.monotonic() < deadline:
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err.decode()[-2000:]
        assert store.count("articles") == len(corpus)
        created = store._conn.execute("SELECT COUNT(*) FROM incident_events WHERE event='created'").fetchone()[0]
        assert created == store.count("incidents")
        store.close()


async def test_a_page_that_breaks_the_core_is_dead_lettered_not_retried_forever(tmp_path, monkeypatch):
    import cashwatch.runtime.embedded as embedded

    real = embedded.PageProcessor.process

    def breaking(self, page):
        if page.item.title.startswith("Explosion"):
            raise RuntimeError("analyser bug on this page")
        return real(self, page)

    monkeypatch.setattr(embedded.PageProcessor, "process", breaking)  # a bug, injected: the real parts stay real
    async with Newsroom(CORPUS) as newsroom:
        settings = settings_for(newsroom.feed_urls(), tmp_path / "cw.db")
        await run_until(settings, len(CORPUS) - 1)
        store = Store(settings.store_path)
        assert store.count("articles") == len(CORPUS) - 1
        (dead,) = store.dead_letters()
        assert dead["error_code"] == "RuntimeError" and "analyser bug" in dead["error"]
        store.close()
        # not re-fetched on the next run: it was recorded with its reason, once
        monitor = await run_until(settings, 1, timeout_s=3)
        assert monitor.processed == 0


def test_replay_over_http_agrees_with_analyse():
    """`cashwatch replay` (poll → fetch → extract → analyse → link over loopback HTTP, articles
    published day by day) reaches the same conclusions as `cashwatch analyse` on the same corpus."""
    from cashwatch.cli.core import analysis_to_result, article_from_record, publication_groups, replay_corpus
    from cashwatch.processors.pipeline import AnalysisPipeline

    order = [i for g in publication_groups(CORPUS) for i in g]
    by_id = {a["id"]: a for a in CORPUS}
    pipeline = AnalysisPipeline()
    direct = {i: analysis_to_result(i, pipeline.process(article_from_record(by_id[i]))[0]) for i in order}
    replayed = replay_corpus(CORPUS, in_order=True, timeout_s=120)
    assert set(replayed) == set(direct)

    def view(res):
        return res["kind"], sorted((m["type"], m["town"], m["force"], str(m["date"])) for m in res["incidents"])

    assert {i: view(r) for i, r in replayed.items()} == {i: view(r) for i, r in direct.items()}
    # the same grouping of reports into incidents
    def groups(results):
        ids = {}
        for i, r in results.items():
            for m in r["incidents"]:
                ids.setdefault(m["incident_id"], set()).add(i)
        return sorted(sorted(v) for v in ids.values())

    assert groups(replayed) == groups(direct)
