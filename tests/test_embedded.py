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
    from cashwatch.cli.core import article_from_record, publication_groups, replay_corpus
    from cashwatch.processors.pipeline import AnalysisPipeline, analysis_to_result

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


def test_a_report_that_shows_two_incidents_to_be_one_merges_them_everywhere(tmp_path):
    """Made-up reports: a raid in Longton, then one in Stoke-on-Trent a day later by its date, then a report
    that dates the Longton raid to the Stoke night. The store ends with one incident that the old id still
    finds, and subscribers get one 'created' per incident ever made and a 'merged', never a second 'created'."""
    import datetime as dt

    from cashwatch import alerting
    from cashwatch.config import SubscriptionConfig
    from cashwatch.models import FeedItem, Page
    from cashwatch.runtime.embedded import PageProcessor

    def page(aid: str, published: dt.date, title: str, text: str) -> Page:
        url = f"https://potteries-news.example/{aid}"
        item = FeedItem(article_id=aid, feed_id="potteries", url=url, title=title, summary=text,
                        published=dt.datetime.combine(published, dt.time(9), tzinfo=dt.timezone.utc),
                        source="Potteries News")
        html = f"<html><body><article><h1>{title}</h1><p>{text}</p></article></body></html>"
        return Page(article_id=aid, item=item, html=html, final_url=url, status=200, content_type="text/html")

    pages = [
        page("p1", dt.date(2026, 7, 26), "Cash machine blown open in Longton",
             "Thieves used gas to blow open a cash machine outside a convenience store in Longton. Police cordoned "
             "off the street while forensic officers examined the damaged machine and the shattered shop front."),
        page("p2", dt.date(2026, 7, 28), "Gas attack on Stoke-on-Trent cash machine",
             "Thieves used gas to blow open a cash machine in Stoke-on-Trent in the early hours of Monday 27 July. "
             "Staffordshire Police said nobody was hurt and asked anyone with dashcam footage to come forward."),
        page("p3", dt.date(2026, 7, 29), "Longton cash machine blast: police name the night",
             "Police now say the gas attack on the cash machine in Longton happened in the early hours of Monday "
             "27 July. Detectives want to hear from anyone who saw a dark hatchback in the area that night."),
    ]
    store = Store(tmp_path / "cw.db")
    processor = PageProcessor(store)
    events = []
    ids = []
    for p in pages:
        _, analysis, evs = processor.process(p)
        events += evs
        ids.append([m.incident_id for m in analysis.incidents if m.role == "primary"])
    merged = [e for e in events if e.event == "merged"]
    assert len(merged) == 1, [(e.event, e.incident.incident_id) for e in events]
    survivor, absorbed = merged[0].incident.incident_id, merged[0].absorbed
    assert ids[0] == [survivor] and ids[2] == [survivor] and ids[1] == [absorbed]
    assert store.count("incidents") == 1 and store.resolve(absorbed) == survivor
    assert {r["article_id"] for r in store.reports_of(survivor)} == {"p1", "p2", "p3"}
    assert store.get_incident(absorbed).incident_id == survivor
    subs = [SubscriptionConfig(name="default", url="https://hooks.example/a"),
            SubscriptionConfig(name="updates", url="https://hooks.example/b", events=["created", "merged"])]
    alerts = [a for ev in events for a in alerting.plan_alerts(subs, ev)]
    created = [a.incident_id for a in alerts if a.event == "created"]
    assert sorted(created) == sorted([survivor, absorbed] * 2)  # each incident was alerted once, when it appeared
    assert [(a.subscription, a.event) for a in alerts if a.event != "created"] == [("updates", "merged")]
    store.close()
