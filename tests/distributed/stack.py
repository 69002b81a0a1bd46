"""The whole distributed runtime as real processes, for the flow tests and ``bench/bench_distributed.py``.

``Stack`` serves a corpus with the newsroom simulator (and a webhook receiver), writes a
configuration, creates the topics and runs ``cashwatch kafka produce``, two ``cashwatch process``
faust workers and ``cashwatch kafka sink`` as subprocesses against a given Kafka and
Elasticsearch. Workers can be killed (``SIGKILL``) and started again. Logs go to ``workdir``.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

CASHWATCH = str(Path(sys.executable).with_name("cashwatch"))


def corpus_id(url: str) -> str:
    """The newsroom corpus id in a page URL (``/<source>/<id>.html``)."""
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1]).removesuffix(".html")


class Stack:
    def __init__(self, corpus: list[dict], *, kafka: str, es_url: str, workdir: Path, partitions: int = 4,
                 base_feed_items: int | None = None, poll_interval_s: float = 1.0, subscribe: bool = True,
                 events: tuple[str, ...] = ("created",)) -> None:
        from cashwatch.newsroom.receiver import ReceiverThread
        from cashwatch.newsroom.server import NewsroomThread

        self.name = f"s{uuid.uuid4().hex[:8]}"
        self.workdir = workdir
        self.newsroom_thread = NewsroomThread(corpus, base_feed_items=base_feed_items)
        self.newsroom = self.newsroom_thread.newsroom
        self.receiver = ReceiverThread() if subscribe else None
        self.kafka, self.es_url, self.partitions, self.poll_interval_s = kafka, es_url, partitions, poll_interval_s
        self.procs: dict[str, subprocess.Popen] = {}
        self.events = list(events)
        self.config_path = workdir / "cashwatch.yaml"

    # ------------------------------------------------------------------ set-up

    def start(self, workers: int = 2) -> None:
        from cashwatch.config import load_settings
        from cashwatch.runtime.distributed import ensure_topics

        self.newsroom_thread.start()
        hook = self.receiver.start() if self.receiver else None
        cfg = {
            "runtime": "distributed",
            "store_path": str(self.workdir / "producer.db"),
            "feeds": [{"id": f"sim-{i}", "url": url, "poll_interval_s": self.poll_interval_s}
                      for i, url in enumerate(self.newsroom.feed_urls().values())],
            "http": {"allow_hosts": ["127.0.0.1", "localhost"], "per_host_concurrency": 8, "jitter_fraction": 0.0},
            "kafka": {"bootstrap_servers": self.kafka, "topic_prefix": f"{self.name}.", "partitions": self.partitions},
            "elasticsearch": {"url": self.es_url, "index_prefix": f"{self.name}-"},
            "alerts": {"retry_initial_s": 0.5, "retry_max_s": 2.0, "poll_interval_s": 0.5},
            "ops": {"metrics_port": 0, "log_level": "info"},
        }
        if hook:
            cfg["subscriptions"] = [{"name": "all", "url": hook, "events": self.events}]
        self.config_path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
        self.settings = load_settings(self.config_path)
        ensure_topics(self.settings.kafka)
        for i in range(workers):
            self.start_worker(i)
        self.spawn("sink", [CASHWATCH, "kafka", "sink", "-c", str(self.config_path)], env={
            "CASHWATCH_STORE_PATH": str(self.workdir / "alerts.db")})
        self.spawn("producer", [CASHWATCH, "kafka", "produce", "-c", str(self.config_path)])

    def spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "ab")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir,
                                env={**os.environ, **(env or {})}, start_new_session=True)
        self.procs[name] = proc
        return proc

    def start_worker(self, i: int) -> subprocess.Popen:
        d = self.workdir / f"worker{i}"
        d.mkdir(exist_ok=True)
        return self.spawn(f"worker{i}", [CASHWATCH, "process", "-c", str(self.config_path), "--datadir", str(d)])

    def kill(self, name: str) -> None:
        """SIGKILL: no shutdown, no commit, no flush (a crashed machine)."""
        proc = self.procs[name]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for name, proc in self.procs.items():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        if self.receiver:
            self.receiver.stop()
        self.newsroom_thread.stop()

    def check_alive(self) -> None:
        dead = {n: p.returncode for n, p in self.procs.items() if p.poll() is not None}
        if dead:
            logs = "\n".join(f"--- {n}.log\n" + (self.workdir / f"{n}.log").read_text(errors="replace")[-3000:]
                             for n in dead)
            raise AssertionError(f"processes exited: {dead}\n{logs}")

    # ------------------------------------------------------------------ looking at results

    def diagnose(self) -> str:
        """What is missing where: articles not in Elasticsearch, and consumer groups' lag per partition."""
        lines = []
        indexed = {corpus_id(a["url"]) for a in self.articles()}
        lines.append(f"articles not indexed: {sorted(set(self.newsroom.articles) - indexed)}")
        try:
            from kafka import KafkaConsumer, TopicPartition
            from kafka.admin import KafkaAdminClient

            admin = KafkaAdminClient(bootstrap_servers=self.kafka)
            consumer = KafkaConsumer(bootstrap_servers=self.kafka)
            try:
                topics = sorted(t for t in consumer.topics() if t.startswith(self.name))
                tps = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or ())]
                ends = {(tp.topic, tp.partition): n for tp, n in consumer.end_offsets(tps).items()}
                # Every partition a group reads, including those it never committed (committed None):
                # a partition nobody delivered leaves no commit, and is exactly what to look for.
                reads = {f"{self.name}.processors": ("pages", "articles", "analyses-by-force"),
                         f"{self.name}.sinks": ("articles", "analyses", "incident-events")}
                for group, sources in reads.items():
                    offsets = admin.list_group_offsets({group: None})[group]
                    committed = {(tp.topic, tp.partition): getattr(o, "offset", o) for tp, o in offsets.items()}
                    lag = {}
                    for (t, p), end in sorted(ends.items()):
                        if t.removeprefix(f"{self.name}.") in sources and committed.get((t, p)) != end and end:
                            lag[f"{t}[{p}]"] = (committed.get((t, p)), end)
                    lines.append(f"{group} lag (committed, end): {lag}")
                missing = sorted(set(self.newsroom.articles) - indexed)
                reader = KafkaConsumer(bootstrap_servers=self.kafka, group_id=None, auto_offset_reset="earliest",
                                       consumer_timeout_ms=3000)
                reader.assign(tps)
                reader.seek_to_beginning()
                where: dict[str, list[str]] = {cid: [] for cid in missing}
                for rec in reader:
                    for cid in missing:
                        if f"/{cid}.html".encode() in (rec.value or b""):
                            where[cid].append(f"{rec.topic.removeprefix(self.name)}[{rec.partition}]@{rec.offset}")
                reader.close()
                lines.append(f"where the missing articles are in Kafka: {where}")
            finally:
                consumer.close()
                admin.close()
        except Exception as exc:  # diagnostics only
            lines.append(f"(no Kafka diagnostics: {exc!r})")
        for name in self.procs:
            log = (self.workdir / f"{name}.log").read_text(errors="replace").splitlines()
            interesting = [x for x in log if "alert_delivered" not in x and "No event received" not in x][-25:]
            lines.append(f"--- {name}.log (last lines)\n" + "\n".join(x[:300] for x in interesting))
        return "\n".join(lines)

    def es(self):
        from elasticsearch import Elasticsearch

        return Elasticsearch(self.es_url, request_timeout=10)

    def incidents(self) -> list[dict]:
        es = self.es()
        try:
            es.indices.refresh(index=f"{self.name}-incidents")
            resp = es.search(index=f"{self.name}-incidents", size=10_000, query={"match_all": {}})
            return [h["_source"] for h in resp["hits"]["hits"]]
        except Exception:  # index not there yet, or Elasticsearch down: nothing searchable
            return []
        finally:
            es.close()

    def articles(self) -> list[dict]:
        es = self.es()
        try:
            es.indices.refresh(index=f"{self.name}-articles")
            resp = es.search(index=f"{self.name}-articles", size=10_000, query={"exists": {"field": "kind"}})
            return [h["_source"] for h in resp["hits"]["hits"]]
        except Exception:
            return []
        finally:
            es.close()

    def wait(self, predicate, timeout_s: float, what: str, every_s: float = 1.0):
        deadline = time.monotonic() + timeout_s
        while True:
            self.check_alive()
            got = predicate()
            if got:
                return got
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout_s}s waiting for {what}; logs in {self.workdir}\n"
                                     f"{self.diagnose()}")
            time.sleep(every_s)
