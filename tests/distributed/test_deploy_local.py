"""The deploy/local scripts' own contracts, which the Kafka and Elasticsearch fixtures rely on.

kafka.sh and elasticsearch.sh read the fetched folder from fetch.sh's stdout, so that stdout must be
the folder and nothing else; the broker's storage tool must get a cluster id it can parse. Both once
failed a CI run on a clean clone (the first start after a fresh fetch, then one cluster id in 64).
"""
from __future__ import annotations

import base64
import os
import shutil
import subprocess

import pytest

from tests.services import LOCAL


def _versions() -> tuple[str, str]:
    """(Scala version, Kafka version) as the scripts set them."""
    out = subprocess.run(["bash", "-c", f'source "{LOCAL}/common.sh"; echo "$SCALA_VERSION $KAFKA_VERSION"'],
                         capture_output=True, text=True, check=True).stdout.split()
    return out[0], out[1]


def test_a_fresh_fetch_prints_only_the_folder_holding_the_broker_jar(tmp_path):
    if shutil.which("mvn") is None:
        pytest.skip("Maven (mvn) is not installed: fetch.sh cannot run here")
    env = dict(os.environ, DEPLOY_LOCAL_CACHE=str(tmp_path / "cache"))
    proc = subprocess.run([str(LOCAL / "fetch.sh"), "kafka"], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    scala, kafka = _versions()
    folder = tmp_path / "cache" / f"kafka-{kafka}"
    # Exactly the folder, no colour codes or Maven chatter around it.
    assert proc.stdout == f"{folder}\n"
    assert (folder / "libs" / f"kafka_{scala}-{kafka}.jar").stat().st_size > 0
    assert (folder / ".complete").exists()
    # A second fetch is the cached one and prints the same single line.
    again = subprocess.run([str(LOCAL / "fetch.sh"), "kafka"], env=env, capture_output=True, text=True, timeout=60)
    assert (again.returncode, again.stdout) == (0, proc.stdout)


def test_a_start_refuses_a_cached_folder_without_the_broker_jar(tmp_path):
    if shutil.which("mvn") is None:
        pytest.skip("Maven (mvn) is not installed: fetch.sh, which kafka.sh starts with, cannot run here")
    cache = tmp_path / "cache"
    broken = cache / f"kafka-{_versions()[1]}"
    (broken / "libs").mkdir(parents=True)
    (broken / ".complete").touch()
    env = dict(os.environ, DEPLOY_LOCAL_CACHE=str(cache), DEPLOY_LOCAL_RUN=str(tmp_path / "run"))
    proc = subprocess.run([str(LOCAL / "kafka.sh"), "start"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "no Kafka broker jar" in proc.stderr and str(broken / "libs") in proc.stderr
    assert not (tmp_path / "run" / "kafka" / "pid").exists()


def test_cluster_ids_are_kafka_uuids_that_never_look_like_an_option():
    # One plain random id in 64 starts with "-"; 300 draws would show one with odds of 99 in 100.
    out = subprocess.run(["bash", "-c", f'source "{LOCAL}/common.sh"; for i in $(seq 300); do kafka_cluster_id; done'],
                         capture_output=True, text=True, check=True, timeout=120).stdout.split()
    assert len(out) == 300 and len(set(out)) == 300
    for cid in out:
        assert not cid.startswith("-")
        assert len(base64.urlsafe_b64decode(cid + "==")) == 16
