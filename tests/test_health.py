"""The monitor's health: /healthz is 503 "degraded" when nothing works, "starting" for a fresh monitor,
"ok" when feeds answer; one summary log line instead of one per failing feed; `cashwatch feeds` and
/metrics show the same states and the coverage of police force areas. Real HTTP on loopback."""
from __future__ import annotations

import asyncio
import json
import socket
import time

import httpx
import pytest
from typer.testing import CliRunner

from cashwatch import health
from cashwatch.cli import app
from cashwatch.config import Settings
from cashwatch.newsroom.server import Newsroom
from cashwatch.ops import OpsServer
from cashwatch.producers.state import FeedState, ProducerState
from cashwatch.runtime.embedded import EmbeddedMonitor
from tests.test_embedded import CORPUS

NOW = 1_800_000_000.0


def dead_port() -> int:
    """A loopback port nobody listens on (connections are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def settings(feeds, store, **ops) -> Settings:
    return Settings.model_validate({
        "store_path": str(store), "feeds": feeds,
        "http": {"allow_hosts": ["127.0.0.1"], "jitter_fraction": 0.0, "backoff_initial_s": 30,
                 "connect_timeout_s": 2, "read_timeout_s": 2},
        "ops": {"metrics_port": 0, **ops},
    })


# ---------------------------------------------------------------- the pure rules

FEED = {"id": "f", "url": "https://news.example/f.xml", "poll_interval_s": 600, "place_hint": "lancashire"}


@pytest.mark.parametrize("state, enabled, expected", [
    ({}, True, "pending"),
    ({"last_ok": NOW - 60, "last_polled": NOW - 60}, True, "ok"),
    ({"last_ok": NOW - 600 - 30, "last_polled": NOW - 630}, True, "ok"),  # within interval + timeouts
    ({"last_ok": NOW - 3 * 3600, "last_polled": NOW - 3 * 3600}, True, "late"),
    ({"last_ok": NOW - 60, "consecutive_errors": 2, "last_error_code": "dns", "next_due": NOW + 120}, True, "failing"),
    ({"last_ok": NOW - 60}, False, "disabled"),
])
def test_feed_states(state, enabled, expected):
    s = Settings.model_validate({"feeds": [{**FEED, "enabled": enabled}], "http": {"jitter_fraction": 0.0}})
    (h,) = health.feeds_health(s, {"f": FeedState(feed_id="f", **state)}, NOW)
    assert h.status == expected
    if expected == "failing":
        assert (h.last_error_code, h.backoff_until) == ("dns", NOW + 120)


@pytest.mark.parametrize("last_new_ago_days, silent", [(1, False), (1.9, False), (2.5, True), (10, True)])
def test_a_working_feed_is_silent_when_no_new_item_for_much_longer_than_usual(last_new_ago_days, silent):
    # new items about twice a day for ten days, then nothing for a while
    last_new = NOW - last_new_ago_days * 86400
    st = FeedState(feed_id="f", last_ok=NOW - 60, last_polled=NOW - 60, first_new_at=last_new - 10 * 86400,
                   last_new_at=last_new, new_polls=21)
    s = Settings.model_validate({"feeds": [FEED]})
    (h,) = health.feeds_health(s, {"f": st}, NOW)
    assert h.usual_gap_s == pytest.approx(12 * 3600)
    assert h.silent is silent


def test_coverage_by_force_area():
    s = Settings.model_validate({"feeds": [
        {"id": "a", "url": "https://e.org/a", "place_hint": "lancashire"},
        {"id": "b", "url": "https://e.org/b", "place_hint": "lancashire"},
        {"id": "c", "url": "https://e.org/c", "place_hint": "cumbria"},
        {"id": "d", "url": "https://e.org/d", "place_hint": "merseyside"},
        {"id": "n", "url": "https://e.org/n", "kind": "news_search"},
    ]})
    states = {"a": FeedState(feed_id="a", consecutive_errors=1, last_polled=NOW),
              "b": FeedState(feed_id="b", last_ok=NOW - 10, last_polled=NOW - 10),
              "c": FeedState(feed_id="c", consecutive_errors=3, last_polled=NOW)}
    cover = {c.force: c for c in health.coverage(health.feeds_health(s, states, NOW))}
    assert (cover["lancashire"].status, cover["lancashire"].working) == ("ok", ("b",))
    assert cover["cumbria"].status == "no_working_feed"
    assert cover["merseyside"].status == "not_polled"
    assert cover["kent"].status == "no_feed"
    assert len(cover) == 45


@pytest.mark.parametrize("states, since_start, components, status", [
    ({"a": {"last_ok": NOW - 5, "last_polled": NOW - 5}}, 10, {}, "ok"),
    ({}, 10, {}, "starting"),  # a fresh monitor: not degraded at once
    ({}, 500, {}, "degraded"),  # ... but not for ever
    ({"a": {"consecutive_errors": 1, "last_polled": NOW - 1}, "b": {"consecutive_errors": 1, "last_polled": NOW - 1}},
     10, {}, "degraded"),  # every feed tried and failed: no need to wait for the grace period
    ({"a": {"consecutive_errors": 1, "last_polled": NOW - 1}}, 10, {}, "starting"),  # b not tried yet
    ({"a": {"last_ok": NOW - 5, "last_polled": NOW - 5}}, 10, {"store": "disk I/O error"}, "degraded"),
])
def test_verdict(states, since_start, components, status):
    s = Settings.model_validate({"feeds": [{"id": "a", "url": "https://e.org/a"}, {"id": "b", "url": "https://e.org/b"}]})
    feeds = health.feeds_health(s, {k: FeedState(feed_id=k, **v) for k, v in states.items()}, NOW)
    comps = {}
    for name, error in components.items():
        comps[name] = health.ComponentHealth()
        comps[name].failed(error)
    v = health.assess(feeds, started_at=NOW - since_start, now=NOW, grace_s=120, components=comps)
    assert v.status == status
    assert v.http_status == (503 if status == "degraded" else 200)
    if status == "degraded" and not components:
        assert v.reasons == ["0 of 2 feeds reachable — check the network or proxy"]


# ---------------------------------------------------------------- the real monitor, over loopback

async def _healthz(url):
    async with httpx.AsyncClient() as client:
        r = await client.get(f"{url}/healthz")
        return r.status_code, r.json(), (await client.get(f"{url}/metrics")).text


async def _monitor_with_ops(s: Settings, until, timeout_s: float = 30, linger_s: float = 1.0):
    """Run the monitor with its ops port until ``until(status, body)`` holds; return the answers."""
    monitor = EmbeddedMonitor(s)
    server = OpsServer("127.0.0.1", 0, health=monitor.healthz)
    url = await server.start()
    stop = asyncio.Event()
    answers = [await _healthz(url)]  # before the first poll
    task = asyncio.create_task(monitor.run(stop))
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            answers.append(await _healthz(url))
            if until(*answers[-1][:2]):
                await asyncio.sleep(linger_s)  # a few more health checks
                break
            assert not task.done()
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await server.stop()
    return answers


async def test_healthz_is_503_degraded_when_no_feed_is_reachable_and_logs_one_line(tmp_path, capsys, monkeypatch):
    from cashwatch.logs import configure
    from cashwatch.runtime import embedded

    monkeypatch.setattr(embedded, "HEALTH_CHECK_S", 0.3)
    configure("console", "info")
    port = dead_port()
    feeds = [{"id": f"dead-{i}", "url": f"http://127.0.0.1:{port}/feed-{i}.xml", "poll_interval_s": 60,
              "place_hint": "lancashire"} for i in range(6)]
    s = settings(feeds, tmp_path / "cw.db")
    answers = await _monitor_with_ops(s, lambda code, body: code == 503)
    first_code, first_body, _ = answers[0]
    assert first_code == 200 and first_body["status"] == "starting"
    code, body, metrics_text = answers[-1]
    assert code == 503 and body["status"] == "degraded"
    assert body["reasons"] == ["0 of 6 feeds reachable — check the network or proxy"]
    assert body["feeds_failing"] == 6 and body["feeds_ok"] == 0 and body["feed_errors"]
    assert body["forces_without_working_feed"] == 1
    err = capsys.readouterr().err  # the monitor ran several health checks: one summary line, said once
    assert err.count("0 of 6 feeds reachable — check the network or proxy") == 1, err
    assert "health=degraded" in err and "errors={'connect_error': 6}" in err
    assert "feed_poll_failed" not in err  # no line per feed at the default level


async def test_healthz_is_ok_when_feeds_answer_and_metrics_agree(tmp_path):
    async with Newsroom(CORPUS) as newsroom:
        feeds = [{"id": f"sim-{i}", "url": u, "poll_interval_s": 60, "place_hint": "lancashire" if i == 0 else None}
                 for i, u in enumerate(newsroom.feed_urls().values())]
        s = settings(feeds, tmp_path / "cw.db")
        answers = await _monitor_with_ops(s, lambda code, body: body["feeds_ok"] == len(feeds))
    code, body, _ = answers[-1]
    assert code == 200 and body["status"] == "ok" and body["reasons"] == []
    assert body["forces_covered"] == 1
    # /metrics carries the same numbers (the gauges are set by the monitor's health check)
    from cashwatch import metrics
    from cashwatch.health import assess, feeds_health, publish_metrics
    state = ProducerState(s.store_path)
    try:
        f = feeds_health(s, {st.feed_id: st for st in state.all_feed_states()})
    finally:
        state.close()
    publish_metrics(f, assess(f, started_at=0, now=time.time(), grace_s=0))
    assert metrics.REGISTRY.get_sample_value("cashwatch_feeds", {"status": "ok"}) == len(feeds)
    assert metrics.REGISTRY.get_sample_value("cashwatch_healthy") == 1
    assert metrics.REGISTRY.get_sample_value("cashwatch_force_areas", {"coverage": "ok"}) == 1
    assert metrics.REGISTRY.get_sample_value("cashwatch_feed_last_success_timestamp_seconds", {"feed": "sim-0"}) > 0


async def test_a_failing_store_makes_the_monitor_degraded(tmp_path):
    async with Newsroom(CORPUS) as newsroom:
        feeds = [{"id": f"sim-{i}", "url": u, "poll_interval_s": 60} for i, u in enumerate(newsroom.feed_urls().values())]
        s = settings(feeds, tmp_path / "cw.db")
        monitor = EmbeddedMonitor(s)
        try:
            monitor.state.save_feed_state(FeedState(feed_id="sim-0", last_ok=time.time(), last_polled=time.time()))
            assert monitor.healthz()[0] == 200
            monitor.components["store"].failed("database or disk is full")
            code, body = monitor.healthz()
            assert code == 503 and body["reasons"] == ["store failing: database or disk is full"]
            monitor.components["store"].ok()
            assert monitor.healthz()[0] == 200
        finally:
            monitor.close()


def test_no_feeds_is_degraded_and_warned(tmp_path):
    s = settings([], tmp_path / "cw.db")
    v = health.assess(health.feeds_health(s, {}), started_at=0, now=1, grace_s=0)
    assert v.status == "degraded" and "no feeds enabled" in v.reasons[0]
    cfg = tmp_path / "cw.yaml"
    cfg.write_text(f"store_path: {tmp_path / 'cw.db'}\nfeeds: []\n")
    r = CliRunner().invoke(app, ["feeds", "--config", str(cfg)], env={})
    assert "no feeds in the configuration" in r.output


# ---------------------------------------------------------------- `cashwatch feeds`

def test_feeds_command_shows_each_feed_and_the_coverage(tmp_path):
    s_path = tmp_path / "cw.db"
    cfg = tmp_path / "cw.yaml"
    cfg.write_text(json.dumps({"store_path": str(s_path), "feeds": [
        {"id": "lancs-ok", "url": "https://e.org/a", "place_hint": "lancashire"},
        {"id": "cumbria-down", "url": "https://e.org/b", "place_hint": "cumbria"},
        {"id": "search", "url": "https://e.org/c", "kind": "news_search"}]}))
    now = time.time()
    state = ProducerState(str(s_path))
    state.save_feed_state(FeedState(feed_id="lancs-ok", last_ok=now - 60, last_polled=now - 60, items_new=17,
                                    last_new_at=now - 3600, new_polls=4, first_new_at=now - 4 * 3600))
    state.save_feed_state(FeedState(feed_id="cumbria-down", last_polled=now - 5, consecutive_errors=3,
                                    last_error_code="http_404", last_error="HTTP 404 Not Found", next_due=now + 600))
    state.close()

    r = CliRunner().invoke(app, ["feeds", "--config", str(cfg)], env={})
    assert r.exit_code == 0, r.output
    out = r.output
    assert "1 of 3 feeds reachable" in out
    assert "http_404" in out and "in 10m" in out and "17" in out and "1h ago" in out
    assert "no working feed (1): cumbria [cumbria-down]" in out
    assert "no feed (43)" in out and "covered (1): lancashire" in out

    doc = json.loads(CliRunner().invoke(app, ["feeds", "--json", "--config", str(cfg)], env={}).output)
    by_id = {f["id"]: f for f in doc["feeds"]}
    assert by_id["lancs-ok"]["status"] == "ok" and by_id["cumbria-down"]["status"] == "failing"
    assert by_id["search"]["status"] == "pending"
    assert doc["summary"]["forces_covered"] == 1
    assert {c["force"]: c["status"] for c in doc["coverage"]}["cumbria"] == "no_working_feed"
