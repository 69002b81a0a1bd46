"""The processors as a faust-streaming app: extract, analyse and link agents around the shared core.

Built by a factory (no app exists at import time)::

    app = create_app(settings)          # topics, the linking table and the three agents
    faust.Worker(app).execute_from_commandline()      # what `cashwatch process` does

Agents (topics: see :mod:`cashwatch.runtime.distributed`)::

    pages ──extract──► articles ──analyse──► analyses-by-force ──link──► analyses, incident-events
                                             (key: force id)      table "linking": {force}/{incident id}

* **extract** calls :func:`cashwatch.runtime.embedded.article_from_page` (trafilatura through
  :func:`cashwatch.processors.extract.extract`, the feed item's text when the fetch failed), in a
  thread so the consumer's heartbeats go on.
* **analyse** calls the shared :class:`~cashwatch.processors.analyse.Analyser` and re-keys the
  Analysis by police force (:func:`~cashwatch.runtime.distributed.force_key`), so every report of
  one force area reaches the same partition, hence the same worker.
* **link** runs the shared :class:`~cashwatch.processors.link.Linker`, one per force area, warmed
  from the Faust table ``linking`` (changelogged in Kafka, keys ``{force}/{incident id}``, written
  to the partition of the force being processed). A worker that takes over a partition after a
  rebalance or a crash rebuilds its linkers from the recovered table, so it decides as the old
  owner would have. A message replayed after a crash gives no new incident: if the table already
  holds its incidents the linker's replay is idempotent (no event); if the crash came between the
  outputs and the table write, the same events (same ids, same idempotency keys) are sent again and
  the sinks' upserts and the alert log absorb them.

Per-message error handling (faust drops a message whose agent raises): a record that cannot be
decoded or processed is written to ``dead-letters`` with the stage, reason, topic, partition and
offset, and the agent goes on. Kafka errors propagate (faust retries / the worker restarts).
Processing guarantee: at least once; every consumer downstream upserts by id.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any

from cashwatch import metrics
from cashwatch.config import Settings
from cashwatch.errors import MissingExtraError
from cashwatch.logs import get_logger
from cashwatch.models import Analysis, Incident, Page
from cashwatch.runtime.distributed import DEAD_LETTERS, NO_FORCE, dead_letter, decode, encode, force_key, topic_name

log = get_logger("cashwatch.processors.faust")

LINKING_TABLE = "linking"


def _broker_urls(bootstrap: str) -> list[str]:
    return [f"kafka://{s.strip()}" for s in bootstrap.split(",") if s.strip()]


class ForceLinkers:
    """One :class:`Linker` per force area this worker processes, rebuilt from the table when missing.

    ``table`` maps ``b"{force}/{incident_id}"`` to the incident's JSON (bytes). Cleared on every rebalance:
    after one, another worker may have changed a force's incidents."""

    def __init__(self, table: Any) -> None:
        self.table = table
        self.linkers: dict[str, Any] = {}

    def clear(self) -> None:
        self.linkers.clear()

    def get(self, force: str):
        from cashwatch.processors.pipeline import AnalysisPipeline

        linker = self.linkers.get(force)
        if linker is None:
            linker = AnalysisPipeline().linker
            prefix = f"{force}/".encode()
            stored = [Incident.model_validate_json(v) for k, v in list(self.table.items())
                      if k.startswith(prefix) and v is not None]
            stored.sort(key=lambda inc: inc.last_seen)
            linker.load(stored)
            self.linkers[force] = linker
            log.info("linker_loaded", force=force, incidents=len(stored))
        return linker

    def drop(self, force: str) -> None:
        self.linkers.pop(force, None)


def create_app(settings: Settings, *, app_id: str | None = None, web_enabled: bool = False, web_port: int = 6066,
               datadir: str | None = None, worker_name: str | None = None):
    """Build the faust app of the processors for ``settings`` (see the module docstring)."""
    try:
        import faust
    except ImportError as exc:  # pragma: no cover
        raise MissingExtraError("kafka", "faust-streaming") from exc
    from cashwatch.processors.analyse import Analyser
    from cashwatch.runtime.embedded import article_from_page

    k = settings.kafka
    app_id = app_id or f"{k.topic_prefix}processors"
    kwargs: dict[str, Any] = {}
    if datadir:
        kwargs["datadir"] = datadir
    app = faust.App(
        app_id,
        broker=_broker_urls(k.bootstrap_servers),
        store="memory://",  # the table lives in its Kafka changelog; a (re)started worker recovers it
        topic_partitions=k.partitions,
        topic_replication_factor=k.replication_factor,
        processing_guarantee="at_least_once",
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        producer_compression_type=None if k.compression_type == "none" else k.compression_type,
        producer_max_request_size=k.max_message_bytes,
        broker_commit_every=50,
        # A crashed worker's partitions move to the others after the session timeout: keep it short.
        broker_session_timeout=10.0,
        broker_heartbeat_interval=2.0,
        broker_commit_interval=1.0,
        web_enabled=web_enabled,
        web_port=web_port,
        web_host="127.0.0.1",
        key_serializer="raw",
        value_serializer="raw",
        **kwargs,
    )

    def topic(name: str):
        return app.topic(topic_name(k, name), key_type=bytes, value_type=bytes, partitions=k.partitions,
                         key_serializer="raw", value_serializer="raw")

    pages, articles = topic("pages"), topic("articles")
    by_force, analyses, events_topic = topic("analyses-by-force"), topic("analyses"), topic("incident-events")
    dead = topic(DEAD_LETTERS)
    # Keys and values are bytes (the app's raw serializer): "{force}/{incident id}" -> Incident JSON.
    table = app.Table(LINKING_TABLE, default=None, partitions=k.partitions, key_type=bytes, value_type=bytes)
    linkers = ForceLinkers(table)
    analyser = Analyser()

    @app.on_partitions_revoked.connect
    async def _revoked(sender, revoked, **kwargs) -> None:  # noqa: ARG001
        linkers.clear()

    @app.on_partitions_assigned.connect
    async def _assigned(sender, assigned, **kwargs) -> None:  # noqa: ARG001
        linkers.clear()

    async def to_dead_letters(stage: str, event: Any, exc: BaseException) -> None:
        msg = event.message
        dl = dead_letter(stage, exc, topic=msg.topic, partition=msg.partition, offset=msg.offset,
                         key=event.key, value=event.value)
        metrics.DEAD_LETTERS.labels(stage, dl.error_code).inc()
        metrics.ERRORS.labels(stage, dl.error_code).inc()
        log.error("dead_lettered", stage=stage, topic=msg.topic, partition=msg.partition, offset=msg.offset,
                  error_code=dl.error_code, error=dl.error[:300])
        await dead.send(key=event.key or b"", value=encode(dl))

    def where(event: Any) -> str:
        m = event.message
        return f"{m.topic}[{m.partition}]@{m.offset}"

    @app.agent(pages, name="extract")
    async def extract_agent(stream):
        loop = asyncio.get_running_loop()
        async for event in stream.events():
            try:
                page = decode(Page, event.value, where=where(event))
                started = time.perf_counter()
                article = await loop.run_in_executor(None, article_from_page, page)
                metrics.STAGE_SECONDS.labels("extract").observe(time.perf_counter() - started)
            except Exception as exc:  # per message: never lose it, never stop the agent
                await to_dead_letters("extract", event, exc)
                continue
            await articles.send(key=article.article_id.encode(), value=encode(article))

    @app.agent(articles, name="analyse")
    async def analyse_agent(stream):
        from cashwatch.models import Article

        async for event in stream.events():
            try:
                article = decode(Article, event.value, where=where(event))
                started = time.perf_counter()
                analysis = analyser.analyse(article)
                metrics.STAGE_SECONDS.labels("analyse").observe(time.perf_counter() - started)
            except Exception as exc:
                await to_dead_letters("analyse", event, exc)
                continue
            await by_force.send(key=force_key(analysis).encode(), value=encode(analysis))

    @app.agent(by_force, name="link")
    async def link_agent(stream):
        async for event in stream.events():
            force = (event.key or b"").decode("utf-8", "replace") or NO_FORCE
            try:
                analysis = decode(Analysis, event.value, where=where(event))
                linker = linkers.get(force)
                try:
                    linked, events = linker.link(analysis)
                except Exception:
                    linkers.drop(force)  # its memory may be half-updated: rebuild from the table next time
                    raise
            except Exception as exc:
                await to_dead_letters("link", event, exc)
                continue
            # Outputs first, then the table: a crash in between replays the message and repeats the
            # same events (absorbed downstream) instead of losing them.
            await analyses.send(key=linked.article_id.encode(), value=encode(linked))
            for ev in events:
                metrics.INCIDENT_EVENTS.labels(ev.event).inc()
                await events_topic.send(key=ev.incident.incident_id.encode(), value=encode(ev))
            for ev in events:
                table[f"{force}/{ev.incident.incident_id}".encode()] = encode(ev.incident)
            metrics.ARTICLES.labels(linked.kind).inc()

    app.cashwatch_agents = {"extract": extract_agent, "analyse": analyse_agent, "link": link_agent}
    app.cashwatch_table = table
    return app
