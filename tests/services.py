"""Session-scoped pytest fixtures: a real Apache Kafka broker and a real Elasticsearch node.

Both are started once per test session by the project's own scripts (``deploy/local/kafka.sh`` and
``deploy/local/elasticsearch.sh``: Maven Central artifacts, cached in ``deploy/local/.cache`` and
``~/.m2``), in a private run folder, on free loopback ports, and stopped at the end.

Tests needing them are skipped ONLY when no suitable Java is installed (Kafka needs 17+,
Elasticsearch 21+); any other failure (Maven cannot fetch, the service does not start) fails the
tests loudly with the script's output. Load with ``pytest_plugins = ["tests.services"]`` or
``from tests.services import *`` in ``tests/conftest.py``.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOCAL = ROOT / "deploy" / "local"

__all__ = ["LocalService", "local_services_dir", "kafka_service", "kafka_bootstrap", "es_service", "es_url",
           "unique_name"]


def _java_available(min_major: int) -> bool:
    """True when deploy/local/common.sh finds a Java >= min_major (same search as the scripts)."""
    proc = subprocess.run(["bash", "-c", f'source "{LOCAL}/common.sh"; find_java {min_major}'],
                          capture_output=True, text=True)
    return proc.returncode == 0


@dataclass
class LocalService:
    """A service started by a deploy/local script; ``address`` is what its start printed."""

    name: str
    script: Path
    env: dict[str, str]
    address: str

    def run(self, action: str, timeout_s: float = 400) -> str:
        proc = subprocess.run([str(self.script), action], env=self.env, capture_output=True, text=True,
                              timeout=timeout_s)
        if proc.returncode != 0:
            raise RuntimeError(f"{self.script.name} {action} failed (exit {proc.returncode}):\n"
                               f"{proc.stderr[-4000:]}\n{proc.stdout[-2000:]}")
        return proc.stdout

    def stop(self) -> None:
        self.run("stop")

    def start(self) -> str:
        out = self.run("start")
        self.address = _address(out)
        return self.address


def _address(stdout: str) -> str:
    for line in stdout.splitlines():
        if "=" in line:
            return line.split("=", 1)[1].strip()
    raise RuntimeError(f"no address in start output: {stdout!r}")


@pytest.fixture(scope="session")
def local_services_dir():
    d = Path(tempfile.mkdtemp(prefix="cashwatch-services-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _start(name: str, script: str, min_java: int, run_dir: Path) -> LocalService:
    if not _java_available(min_java):
        pytest.skip(f"{name} needs Java {min_java}+ and none is installed (set DEPLOY_LOCAL_JAVA_HOME)")
    env = dict(os.environ, DEPLOY_LOCAL_RUN=str(run_dir))
    svc = LocalService(name, LOCAL / script, env, "")
    errors = []
    # Two tries: a free port picked by the script can be taken by another process before the
    # service binds it (a busy shared machine); the second try starts clean on new ports.
    for _ in range(2):
        try:
            svc.start()
            return svc
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            errors.append(str(exc))
            try:
                svc.run("clean")
            except (RuntimeError, subprocess.TimeoutExpired) as clean_exc:
                errors.append(f"clean failed too: {clean_exc}")
    pytest.fail(f"could not start the local {name}:\n" + "\n---\n".join(errors), pytrace=False)


@pytest.fixture(scope="session")
def kafka_service(local_services_dir):
    svc = _start("Kafka", "kafka.sh", 17, local_services_dir)
    yield svc
    svc.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_service) -> str:
    """``127.0.0.1:PORT`` of the session's Kafka broker."""
    return kafka_service.address


@pytest.fixture(scope="session")
def es_service(local_services_dir):
    svc = _start("Elasticsearch", "elasticsearch.sh", 21, local_services_dir)
    yield svc
    svc.stop()


@pytest.fixture(scope="session")
def es_url(es_service) -> str:
    """``http://127.0.0.1:PORT`` of the session's Elasticsearch node."""
    return es_service.address


@pytest.fixture
def unique_name() -> str:
    """A short unique name for topics, index prefixes and consumer groups of one test."""
    return f"t{uuid.uuid4().hex[:10]}"
