"""The simulator's command lines, as a user runs them to try cashwatch offline: the newsroom and the
webhook receiver stop at once and cleanly on SIGTERM (even with a request in flight), and the receiver
prints a readable line for every alert format."""
from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from cashwatch import alerting
from cashwatch.models import Incident, IncidentEvent, Report
from tests.conftest import REPO

CORPUS = REPO / "cashwatch" / "newsroom" / "corpus" / "demo.jsonl"


def start(args: list[str], ready: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in proc.stdout:
        if line.startswith(ready):
            return proc, line.split()[-1]
    raise AssertionError(f"{args} did not start: {proc.stderr.read()}")


def stop_with_sigterm(proc: subprocess.Popen) -> float:
    t = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    return time.monotonic() - t


def test_the_newsroom_stops_cleanly_on_sigterm_with_a_connection_open():
    proc, base = start(["cashwatch.newsroom.server", str(CORPUS), "--port", "0"], "serving on")
    with httpx.Client() as client:  # a keep-alive connection, as a polling monitor holds one
        assert client.get(f"{base}/").status_code == 200
        took = stop_with_sigterm(proc)
    assert proc.returncode == 0, proc.stderr.read()  # handled: not killed by the signal
    assert took < 2.0


def test_the_receiver_stops_cleanly_on_sigterm_with_a_request_hanging():
    proc, url = start(["cashwatch.newsroom.receiver", "--port", "0", "--mode", "hang"], "listening on")
    errors = []

    def post():
        try:
            httpx.post(url, content=b"{}", timeout=20)
        except httpx.HTTPError as exc:
            errors.append(exc)

    t = threading.Thread(target=post)
    t.start()
    time.sleep(0.5)
    took = stop_with_sigterm(proc)
    t.join(10)
    assert proc.returncode == 0 and took < 2.0


def _payload() -> dict:
    now = dt.datetime(2026, 3, 2, tzinfo=dt.timezone.utc)
    inc = Incident(incident_id="i-1", type="atm_theft", town="Preston", force="lancashire", country="GB",
                   first_seen=now, last_seen=now,
                   reports=[Report(article_id="a-1", url="https://news.example/1", title="ATM stolen in Preston")])
    return alerting.build_payload("s", IncidentEvent(event="created", incident=inc, article_id="a-1"), "created", "cw1-k")


@pytest.mark.parametrize("fmt, expected", [
    ("json", "atm_theft Preston (lancashire, north-west)"),
    ("slack", "slack: New ATM theft – Preston, Lancashire Constabulary"),
    ("teams", "teams: New ATM theft – Preston, Lancashire Constabulary"),
])
def test_the_receiver_describes_every_alert_format(fmt, expected):
    from cashwatch.newsroom.receiver import describe

    line = describe(alerting.render_body(_payload(), fmt))
    assert line == expected and "None" not in line


def test_the_receiver_prints_slack_alerts_readably():
    proc, url = start(["cashwatch.newsroom.receiver", "--port", "0"], "listening on")
    try:
        body = alerting.render_body(_payload(), "slack")
        assert httpx.post(url, content=body, headers={"X-Cashwatch-Event": "created",
                                                      "X-Cashwatch-Subscription": "s"}).status_code == 200
        line = proc.stdout.readline()
    finally:
        stop_with_sigterm(proc)
    assert "slack: New ATM theft – Preston" in line and "None None" not in line


def test_a_missing_corpus_is_one_line_and_exit_2(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "cashwatch.newsroom.server", str(tmp_path / "nope.jsonl")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "nope.jsonl: cannot read" in proc.stderr and "Traceback" not in proc.stderr
