"""Webhook delivery (sinks/webhook.py) against a real aiohttp receiver on loopback and a real SQLite file.

Timings are shrunk through ``AlertsConfig`` (tens of milliseconds of backoff) so the retry paths run
for real in well under a second each.
"""
from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import textwrap
import time

import pytest
import yaml
from typer.testing import CliRunner

from cashwatch import alerting
from cashwatch.cli import app
from cashwatch.config import HttpConfig, Settings
from cashwatch.errors import BlockedURLError
from cashwatch.newsroom.receiver import ReceiverThread, WebhookReceiver
from cashwatch.sinks.webhook import WebhookSink, check_url, parse_retry_after
from tests.test_alerting import make_event

SECRET = "test-secret-7f3a"
FAST = {"timeout_s": 0.5, "retry_initial_s": 0.03, "retry_max_s": 0.15, "jitter_fraction": 0.2,
        "poll_interval_s": 0.05, "max_retry_after_s": 2.0}

pytestmark = pytest.mark.timeout(60)


def settings_for(url: str, subs: list[dict], *, allow: bool = True, alerts: dict | None = None, **extra) -> Settings:
    return Settings.model_validate({
        "subscriptions": [{"url": url, "secret": SECRET, **s} for s in subs],
        "http": {"allow_hosts": ["127.0.0.1"] if allow else []},
        "alerts": {**FAST, **(alerts or {})},
        **extra,
    })


@pytest.fixture
async def rx():
    receiver = WebhookReceiver(secret=SECRET)
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "cashwatch.db")


async def settle(sink: WebhookSink, rx: WebhookReceiver, n_processed: int, timeout: float = 10.0) -> None:
    """Run the sender until the receiver processed ``n_processed`` alerts, then stop it."""
    stop = asyncio.Event()
    task = asyncio.create_task(sink.run(stop))
    try:
        await rx.wait_for(lambda r: len(r.processed) >= n_processed, timeout)
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


def incident_events(place: str, incident_id: str) -> list:
    """One incident reported by five outlets: one ``created`` and four ``updated`` events."""
    return [make_event(place, incident_id=incident_id, event="created")] + [
        make_event(place, incident_id=incident_id, event="updated", report=n) for n in range(1, 5)]


# ---------------------------------------------------------------- exactly one created alert

async def test_five_reports_give_one_created_alert_per_matching_subscription(rx, db):
    settings = settings_for(rx.url, [{"name": "nw-rocu", "regions": ["north-west"]},
                                     {"name": "lancs", "forces": ["lancashire"], "format": "slack"},
                                     {"name": "london", "regions": ["london"]}])
    preston = incident_events("preston", "i-preston")  # region not set on the incident: taken from the force
    maidstone = incident_events("maidstone", "i-maidstone")  # Kent: outside every subscription
    sink = WebhookSink(settings, db)
    assert sink.enqueue(preston + maidstone) == 2
    assert sink.enqueue(preston) == 0  # a replay queues nothing
    await settle(sink, rx, 2)
    assert await sink.deliver_due() == 0
    sink.close()

    # a restarted monitor that sees the same reports again sends nothing new
    sink = WebhookSink(settings, db)
    assert sink.enqueue(preston) == 0
    assert await sink.deliver_due() == 0
    sink.close()
    await asyncio.sleep(0.1)

    reqs = rx.requests
    assert sorted(r.subscription for r in reqs) == ["lancs", "nw-rocu"]
    assert all(r.signature == "valid" and r.event == "created" for r in reqs)
    nw = next(r.json() for r in reqs if r.subscription == "nw-rocu")
    assert nw["event"] == "created" and nw["idempotency_key"] == next(r.key for r in reqs if r.subscription == "nw-rocu")
    assert (nw["incident"]["id"], nw["incident"]["force"], nw["incident"]["region"]) == \
        ("i-preston", "lancashire", "north-west")
    slack = next(r.json() for r in reqs if r.subscription == "lancs")
    assert "Preston" in slack["text"]  # the slack format for that subscription


# ---------------------------------------------------------------- 500, then hang, then 200

async def test_error_then_hang_then_ok_delivers_every_alert_once(rx, db):
    settings = settings_for(rx.url, [{"name": "nw", "regions": ["north-west"]}])
    sink = WebhookSink(settings, db)
    events = [make_event(p, incident_id=f"i-{p}") for p in ("preston", "bolton", "wrexham")]
    assert sink.enqueue(events) == 3
    keys = [d.idempotency_key for d in reversed(sink.log.list())]
    rx.script("error", "hang")  # first attempt: 500; second: processed but never answered (timeout)
    await settle(sink, rx, 3)
    await asyncio.sleep(0.1)  # let any stray repeat arrive before counting

    # every alert processed exactly once, in queue order, every request signed correctly
    assert [r.key for r in rx.processed] == keys
    assert all(r.signature == "valid" for r in rx.requests)
    assert {r.key for r in rx.requests} == set(keys)  # no new key was ever invented
    first = [r for r in rx.requests if r.key == keys[0]]
    assert [r.answer for r in first] == ["error", "hang", "duplicate"]  # the repeat after the timeout was dropped
    assert [r.attempt for r in first] == [1, 2, 3] and len({r.body for r in first}) == 1
    log = {d.idempotency_key: d for d in sink.log.list()}
    assert [log[k].status for k in keys] == ["delivered"] * 3 and log[keys[0]].attempts == 3
    sink.close()


# ---------------------------------------------------------------- kill -9 between send and record

SENDER = textwrap.dedent("""
    import asyncio, sys
    from cashwatch.config import load_settings
    from cashwatch.sinks.webhook import WebhookSink
    sink = WebhookSink(load_settings(sys.argv[1], env={}), sys.argv[2])
    print("sending", flush=True)
    asyncio.run(sink.run(asyncio.Event()))  # runs until killed
""")


async def test_kill_9_after_send_before_record_resends_the_same_key(rx, db, tmp_path):
    # The sender runs in a child process. The receiver processes the alert and holds the answer ("hang"),
    # so the child has sent but not recorded the outcome when it gets SIGKILL: exactly the window where
    # a crash could make a second alert. A new sender must re-send with the same idempotency key.
    cfg = tmp_path / "sender.yaml"
    settings = settings_for(rx.url, [{"name": "nw", "regions": ["north-west"]}], alerts={"timeout_s": 30})
    doc = json.loads(settings.model_dump_json())
    doc["subscriptions"][0]["secret"] = SECRET
    cfg.write_text(yaml.safe_dump(doc))
    sink = WebhookSink(settings, db)
    assert sink.enqueue([make_event("preston", incident_id="i-kill")]) == 1  # durable before any send
    (queued,) = sink.log.list()
    sink.close()

    rx.set_mode("hang")
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", SENDER, str(cfg), db,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        await rx.wait_for(lambda r: len(r.processed) == 1, timeout=20)
    finally:
        proc.kill()  # SIGKILL: no cleanup, no finally blocks
        await proc.wait()
    assert proc.returncode == -9

    # the child recorded the attempt before sending and nothing after it
    conn = sqlite3.connect(db)
    status, attempts = conn.execute("SELECT status, attempts FROM alert_deliveries").fetchone()
    outcomes = [r[0] for r in conn.execute("SELECT outcome FROM alert_attempts")]
    conn.close()
    assert (status, attempts, outcomes) == ("pending", 1, ["sending"])

    rx.set_mode("ok")
    sink = WebhookSink(settings_for(rx.url, [{"name": "nw", "regions": ["north-west"]}]), db)
    stop = asyncio.Event()
    task = asyncio.create_task(sink.run(stop))
    await rx.wait_for(lambda r: len(r.requests) == 2, timeout=10)
    await asyncio.sleep(0.1)
    stop.set()
    await task
    reqs = rx.requests
    assert [r.key for r in reqs] == [queued.idempotency_key] * 2  # the same key, never a second one
    assert [r.answer for r in reqs] == ["hang", "duplicate"] and len(rx.processed) == 1
    assert all(r.signature == "valid" for r in reqs) and reqs[0].body == reqs[1].body
    assert sink.log.get(queued.id).status == "delivered"
    sink.close()


# ---------------------------------------------------------------- receiver down for a while

async def test_receiver_down_gets_everything_in_order_once_back(rx, db):
    settings = settings_for(rx.url, [{"name": "nw", "regions": ["north-west"]},
                                     {"name": "gmp", "forces": ["greater-manchester"], "events": ["created", "updated"]}])
    sink = WebhookSink(settings, db)
    await rx.pause()  # connection refused from now on
    stop = asyncio.Event()
    task = asyncio.create_task(sink.run(stop))
    expected: dict[str, list[str]] = {"nw": [], "gmp": []}
    for i in range(6):  # alerts keep coming while the receiver is down
        evs = [make_event("bolton", incident_id=f"i-b{i}"), make_event("bolton", incident_id=f"i-b{i}",
                                                                          event="updated", report=1)]
        sink.enqueue(evs)
        await asyncio.sleep(0.05)
    for d in reversed(sink.log.list(limit=100)):
        expected[d.subscription].append(d.idempotency_key)
    assert (len(expected["nw"]), len(expected["gmp"])) == (6, 12)
    await asyncio.sleep(0.3)
    failed = {d.idempotency_key: d for d in sink.log.list(limit=100)}
    assert failed[expected["nw"][0]].attempts >= 2 and failed[expected["nw"][0]].last_error == "connect"
    assert failed[expected["nw"][1]].attempts == 0  # waits behind the first: order is kept
    await rx.resume()
    await rx.wait_for(lambda r: len(r.processed) == 18, timeout=10)
    stop.set()
    await task
    got = {s: [r.key for r in rx.processed if r.subscription == s] for s in expected}
    assert got == expected
    assert rx.duplicates == 0 and all(r.signature == "valid" for r in rx.requests)
    sink.close()


# ---------------------------------------------------------------- failure sorting

@pytest.mark.parametrize("answer, final_status, reason", [
    (404, "dead", "answered 404"),
    (410, "dead", "answered 410"),
    (301, "dead", "answered 301"),  # redirects are not followed
    (429, "delivered", None),
    (503, "delivered", None),
    ("error", "delivered", None),
])
async def test_answers_are_sorted_into_retry_or_dead_letter(rx, db, answer, final_status, reason):
    settings = settings_for(rx.url, [{"name": "nw", "regions": ["north-west"]}])
    sink = WebhookSink(settings, db)
    sink.enqueue([make_event("preston", incident_id="i-1"), make_event("bolton", incident_id="i-2")])
    rx.script(answer)
    await settle(sink, rx, 1 if final_status == "dead" else 2)
    first, second = sorted(sink.log.list(), key=lambda d: d.id)
    assert (first.status, first.dead_reason) == (final_status, reason)
    assert second.status == "delivered"  # a dead letter does not block the subscription
    assert first.attempts == (1 if final_status == "dead" else 2)
    sink.close()


async def test_retry_after_is_honoured(db):
    async with WebhookReceiver(secret=SECRET, retry_after_s=1) as rx:
        sink = WebhookSink(settings_for(rx.url, [{"name": "nw", "regions": ["north-west"]}]), db)
        sink.enqueue([make_event("preston")])
        rx.script("throttle")
        await settle(sink, rx, 1)
        a, b = rx.requests
        assert a.answer == "throttle" and b.answer == "ok"
        assert b.received_at - a.received_at >= 0.95  # not the 30 ms backoff
        sink.close()


async def test_gives_up_after_max_age_then_alerts_retry_revives(rx, db, tmp_path):
    settings = settings_for(rx.url, [{"name": "nw", "regions": ["north-west"], "max_age_s": 0.3}],
                            store_path=db)
    sink = WebhookSink(settings, db)
    sink.enqueue([make_event("preston")])
    rx.set_mode("error")
    stop = asyncio.Event()
    task = asyncio.create_task(sink.run(stop))
    deadline = time.monotonic() + 5
    while sink.log.counts().get("dead") != 1:
        assert time.monotonic() < deadline, "never dead-lettered"
        await asyncio.sleep(0.02)
    stop.set()
    await task
    (d,) = sink.log.list()
    assert d.dead_reason.startswith("expired") and d.last_error == "http_500" and d.attempts >= 2
    sink.close()

    cfg = tmp_path / "cashwatch.yaml"
    cfg.write_text(yaml.safe_dump({"store_path": db}))
    runner = CliRunner()
    out = runner.invoke(app, ["alerts", "log", "--status", "dead", "--config", str(cfg)], env={}).output
    assert f"#{d.id}" in out and "dead" in out and "expired" in out
    assert runner.invoke(app, ["alerts", "retry", "--all", "--config", str(cfg)], env={}).output.startswith("requeued 1")

    rx.set_mode("ok")
    sink = WebhookSink(settings, db)
    await settle(sink, rx, 1)
    assert sink.log.get(d.id).status == "delivered"
    assert rx.processed[0].key == d.idempotency_key
    sink.close()


# ---------------------------------------------------------------- SSRF guard and secrets

async def test_private_targets_are_refused_unless_allow_listed(rx, db):
    sink = WebhookSink(settings_for(rx.url, [{"name": "nw", "regions": ["north-west"]}], allow=False), db)
    sink.enqueue([make_event("preston")])
    assert await sink.deliver_due() == 1
    (d,) = sink.log.list()
    assert (d.status, d.last_error) == ("dead", "blocked_address") and "allow_hosts" in d.dead_reason
    assert rx.requests == []
    sink.close()


@pytest.mark.parametrize("url, http, blocked", [
    ("http://127.0.0.1:8080/x", {}, True),
    ("http://10.1.2.3/x", {}, True),
    ("http://192.168.0.10/x", {}, True),
    ("http://169.254.169.254/latest/meta-data", {}, True),  # cloud metadata
    ("http://[::1]/x", {}, True),
    ("http://[::ffff:127.0.0.1]/x", {}, True),
    ("http://localhost/x", {}, True),  # a name that resolves to loopback
    ("http://8.8.8.8/x", {}, False),
    ("http://10.1.2.3/x", {"allow_hosts": ["10.0.0.0/8"]}, False),
    ("http://localhost/x", {"allow_hosts": ["localhost"]}, False),
    ("http://192.168.0.10/x", {"allow_private": True}, False),
    ("ftp://8.8.8.8/x", {}, True),
])
def test_check_url(url, http, blocked):
    if blocked:
        with pytest.raises(BlockedURLError):
            check_url(url, HttpConfig(**http))
    else:
        check_url(url, HttpConfig(**http))


@pytest.fixture
def restore_logging():
    """Put structlog and stdlib logging back after a test that configures them."""
    import logging

    import structlog

    saved, root = structlog.get_config(), logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.configure(**saved)
    root.handlers[:] = handlers
    root.setLevel(level)


async def test_logs_never_show_secrets_or_url_paths(db, capsys, restore_logging):
    from cashwatch.logs import configure

    configure("json", "debug")  # here, not in a fixture: it must bind the test's captured stderr
    async with WebhookReceiver(secret=SECRET) as rx:
        url = rx.url.replace("/hook", "/services/T0/B0/tokenInThePath")
        sink = WebhookSink(settings_for(url, [{"name": "nw", "regions": ["north-west"]}]), db)
        sink.enqueue([make_event("preston", incident_id="i-a"), make_event("bolton", incident_id="i-b")])
        rx.script("error", 404)
        await settle(sink, rx, 1)
        sink.close()
    err = capsys.readouterr().err
    assert "alert_retry" in err and "alert_dead_lettered" in err and "alert_delivered" in err
    assert SECRET not in err and "tokenInThePath" not in err


@pytest.mark.parametrize("value, seconds", [("7", 7.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0), ("soon", None),
                                            (None, None)])
def test_parse_retry_after(value, seconds):
    assert parse_retry_after(value, now=time.time()) == seconds


def test_receiver_thread_for_sync_callers(db):
    import asyncio as aio

    with ReceiverThread(secret=SECRET) as rt:
        sink = WebhookSink(settings_for(rt.url, [{"name": "nw", "regions": ["north-west"]}]), db)
        sink.enqueue([make_event("preston")])
        assert aio.run(sink.deliver_due()) == 1
        rt.wait_for(lambda r: len(r.processed) == 1, 5)
        (req,) = rt.requests
        assert req.signature == "valid"
        assert alerting.verify_signature(SECRET, req.body, req.headers[alerting.TIMESTAMP_HEADER],
                                         req.headers[alerting.SIGNATURE_HEADER])
        sink.close()


def test_subscriptions_test_sends_one_signed_test_alert(tmp_path):
    with ReceiverThread(secret=SECRET) as rt:
        cfg = tmp_path / "cashwatch.yaml"
        cfg.write_text(yaml.safe_dump({
            "store_path": str(tmp_path / "cw.db"), "http": {"allow_hosts": ["127.0.0.1"]},
            "subscriptions": [{"name": "depots", "url": rt.url, "secret": SECRET, "types": ["cit_robbery"],
                               "circle": {"lat": 53.48, "lon": -2.24, "km": 30}}]}))
        r = CliRunner().invoke(app, ["subscriptions", "test", "depots", "--config", str(cfg)], env={})
        assert r.exit_code == 0, r.output
        assert "matches: created" in r.output and "HTTP 200" in r.output
        rt.wait_for(lambda rx: len(rx.processed) == 1, 5)
        (req,) = rt.requests
        assert req.signature == "valid" and req.key.startswith("test-") and req.headers["X-Cashwatch-Test"] == "1"
        assert req.json()["incident"]["type"] == "cit_robbery"
        assert SECRET not in r.output


async def test_alerts_of_a_removed_subscription_are_dead_lettered_not_stuck(rx, db):
    both = settings_for(rx.url, [{"name": "old", "regions": ["north-west"]}, {"name": "new", "regions": ["north-west"]}])
    sink = WebhookSink(both, db)
    assert sink.enqueue([make_event("preston")]) == 2
    sink.close()
    sink = WebhookSink(settings_for(rx.url, [{"name": "new", "regions": ["north-west"]}]), db)
    assert await sink.deliver_due() == 2
    status = {d.subscription: (d.status, d.last_error) for d in sink.log.list()}
    assert status == {"old": ("dead", "unknown_subscription"), "new": ("delivered", None)}
    assert [r.subscription for r in rx.requests] == ["new"]
    sink.close()


def test_an_unusable_store_path_is_a_clear_store_error(tmp_path):
    from cashwatch.errors import StoreError

    with pytest.raises(StoreError, match="no-such-folder"):
        WebhookSink(Settings(), str(tmp_path / "no-such-folder" / "cw.db"))


@pytest.mark.parametrize("attempt, low, high", [
    (1, 1.6, 2.4), (2, 3.2, 4.8), (3, 6.4, 9.6), (6, 48.0, 60.0 * 1.2), (7, 48.0, 72.0), (5000, 48.0, 72.0)])
def test_default_backoff_schedule(db, attempt, low, high):
    # defaults: 2 s doubling, capped at 60 s, ±20 % jitter: a receiver back after a 10-minute outage
    # waits at most 72 s for its first alert, and a day of retries never overflows
    sink = WebhookSink(Settings(), db)
    delays = [sink._backoff(attempt) for _ in range(200)]
    assert low <= min(delays) and max(delays) <= high
    assert len(set(delays)) > 1  # jittered: many senders do not retry in lockstep
    sink.close()
