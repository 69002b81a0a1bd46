"""Clear errors from the commands a new user meets first (issue 15): `alerts retry` of a delivery that
does not exist, `kafka topics` with no broker, a monitor configured with no feeds."""
from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest
import yaml
from typer.testing import CliRunner

from cashwatch.cli import app
from cashwatch.sinks.webhook import DeliveryLog


def cli(*args, env=None):
    return CliRunner().invoke(app, list(args), env=env or {})


@pytest.fixture
def cfg(tmp_path):
    db = str(tmp_path / "cw.db")
    log = DeliveryLog(db)
    log.insert([("k-dead", "nw", "i-1", "created", "json", b"{}", 1.0),
                ("k-pending", "nw", "i-2", "created", "json", b"{}", 1.0)])
    log._tx(lambda c: c.execute("UPDATE alert_deliveries SET status = 'dead', dead_reason = 'expired' "
                                "WHERE idempotency_key = 'k-dead'"))
    ids = {d.idempotency_key: d.id for d in log.list()}
    log.close()
    path = tmp_path / "cw.yaml"
    path.write_text(yaml.safe_dump({"store_path": db}))
    return str(path), ids


def test_alerts_retry_of_an_unknown_delivery_says_so(cfg):
    path, _ = cfg
    r = cli("alerts", "retry", "999", "--config", path)
    assert r.exit_code == 1
    assert "no delivery 999" in r.output and "requeued" not in r.output


def test_alerts_retry_of_a_pending_delivery_says_it_is_not_dead(cfg):
    path, ids = cfg
    r = cli("alerts", "retry", str(ids["k-pending"]), str(ids["k-dead"]), "--config", path)
    assert r.exit_code == 1
    assert f"delivery {ids['k-pending']} is pending, not dead" in r.output
    assert "requeued 1 dead letter(s)" in r.output  # the dead one is requeued all the same


def test_alerts_retry_of_an_unknown_subscription_says_so(cfg):
    path, _ = cfg
    r = cli("alerts", "retry", "--subscription", "nope", "--config", path)
    assert r.exit_code == 1 and "no delivery for a subscription named 'nope'" in r.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_kafka_topics_without_a_broker_fails_fast_with_one_message(tmp_path):
    cfg = tmp_path / "cw.yaml"
    cfg.write_text(yaml.safe_dump({"runtime": "distributed", "store_path": str(tmp_path / "cw.db"),
                                   "kafka": {"bootstrap_servers": f"127.0.0.1:{_free_port()}"}}))
    t = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "cashwatch", "kafka", "topics", "--config", str(cfg)],
                          capture_output=True, text=True, timeout=60)
    took = time.monotonic() - t
    assert proc.returncode == 1
    assert took < 10, took
    lines = [x for x in proc.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "cannot reach Kafka at 127.0.0.1:" in lines[0] and "refused" in lines[0].lower(), lines


def test_a_monitor_with_no_feeds_warns(tmp_path):
    cfg = tmp_path / "cw.yaml"
    cfg.write_text(yaml.safe_dump({"store_path": str(tmp_path / "cw.db"), "feeds": [], "ops": {"metrics_port": 0}}))
    proc = subprocess.Popen([sys.executable, "-m", "cashwatch", "run", "--config", str(cfg)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stderr.readline()
    finally:
        proc.terminate()
        proc.wait(30)
    assert "warning: no enabled feeds in the configuration" in first
