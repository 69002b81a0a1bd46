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
* **analyse** calls the shared :meth:`AnalysisPipeline.analyse
  <cashwatch.processors.pipeline.AnalysisPipeline.analyse>` (analysis and text signature) and re-keys the
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

An analyst's correction (:class:`~cashwatch.models.Correction`, published by ``cashwatch incidents
merge|split|dismiss|edit`` with ``runtime: distributed``) travels on ``analyses-by-force`` too, keyed by the
incident's force, so the worker that owns the force applies it with the same linker, in order with the
reports (:meth:`Linker.apply <cashwatch.processors.link.Linker.apply>`); its events go to
``incident-events`` like any other, and a correction that cannot apply is dead-lettered with the reason.

Per-message error handling (faust drops a message whose agent raises): a record that cannot be
decoded or processed is written to ``dead-letters`` with the stage, reason, topic, partition and
offset, and the agent goes on. Kafka errors propagate (faust retries / the worker restarts).
Processing guarantee: at least once; every consumer downstream upserts by id. Records faust's
fetcher skips around a rebalance are read back and processed by :class:`GapGuard`.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
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
        from cashwatch.processors.link import Linker

        linker = self.linkers.get(force)
        if linker is None:
            linker = Linker()  # no lookup: the table holds every incident of the force area
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


@dataclass(frozen=True)
class Rec:
    """One input record, from a faust event or fetched again by :class:`GapGuard`."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None

    @classmethod
    def of(cls, event: Any) -> "Rec":
        m = event.message
        return cls(m.topic, m.partition, m.offset, event.key, event.value)

    @property
    def where(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.offset}"


class GapGuard:
    """Makes sure every record of the partitions a worker owns reaches its agent, so that none is lost.

    Why: faust-streaming can lose records around a rebalance in two ways (its issues #216, #221, #606):

    * **skipped**: faust treats a jump in offsets as a gap (meant for compacted topics and transaction
      markers) and commits past it; around a rebalance its fetcher can hand a stream a prefetched record
      beyond the committed offset, and the records in between would never be processed. The topics
      between our stages have no gaps (no compaction, no transactions), so a jump always means skipped
      records. :meth:`missed_before` remembers the next offset expected per partition (the committed
      offset right after an assignment, asked of the broker when faust's copy is missing, then the
      offset after the last record seen) and, on a jump, reads the skipped records straight from Kafka,
      in order, for the agent to process first.
    * **stalled**: a partition stays assigned but its records are never delivered (records fetched while
      the flow was suspended are dropped with the read offset moved past them, or the partition is left
      out of the fetcher's active set). Nothing later arrives to reveal a jump, so :meth:`sweep`, run every
      few seconds by :meth:`watch`, compares each assigned partition's next expected offset with its end
      offset; one that lags with no record delivered for ``stall_after_s`` while the worker is steady (not
      rebalancing, not recovering tables, flow active) is resumed and sought back to the next expected
      offset, so faust delivers the records again through the agent, with its table context, acks and
      commits.

    Both only ever re-deliver records; processing is at least once and every stage is idempotent.
    """

    def __init__(self, app: Any, bootstrap: str, *, group_id: str | None = None, stall_after_s: float = 10.0) -> None:
        self.app = app
        self.bootstrap = bootstrap
        self.group_id = group_id  # the faust app's consumer group (its id), for committed offsets
        self.stall_after_s = stall_after_s
        self.next: dict[tuple[str, int], int] = {}
        self.last_seen: dict[tuple[str, int], float] = {}  # monotonic time of a record or of a steady start
        self.steady_since = time.monotonic()
        self._ends_reader: Any = None
        self._admin: Any = None
        self._admin_lock = asyncio.Lock()

    def reset(self) -> None:
        """Forget positions: called on every revocation and assignment."""
        self.next.clear()
        self.last_seen.clear()
        self.steady_since = time.monotonic()

    def _committed(self, tp: Any) -> int | None:
        committed = getattr(self.app.consumer, "_committed_offset", {})  # faust keeps it per assignment
        value = committed.get(tp) if hasattr(committed, "get") else None
        return value if isinstance(value, int) and value >= 0 else None

    async def missed_before(self, event: Any) -> list[Rec]:
        m = event.message
        key = (m.topic, m.partition)
        self.last_seen[key] = time.monotonic()
        expected = self.next.get(key)
        if expected is None:
            # Right after an assignment: the committed offset, or the log start when nothing was
            # committed yet (the consumer starts from the earliest record then).
            expected = await self._start_offset(m.tp)
        if m.offset <= expected:  # in order, or a replay of records already done
            self.next[key] = max(m.offset + 1, expected)
            return []
        missed = await self._fetch(m.topic, m.partition, expected, m.offset)
        self.next[key] = m.offset + 1
        if missed:
            metrics.ERRORS.labels("faust", "skipped_records_refetched").inc(len(missed))
            log.warning("faust_skipped_records_refetched", topic=m.topic, partition=m.partition,
                        from_offset=expected, to_offset=m.offset, records=len(missed))
        return missed

    async def _start_offset(self, tp: Any) -> int:
        """Where an assigned partition's processing starts: the group's committed offset (faust's copy,
        else the broker's), or 0 when nothing was committed."""
        mine = self._committed(tp)
        if mine is not None:
            return mine
        try:
            return (await self._group_committed([tp])).get((tp[0], tp[1]), 0)
        except Exception as exc:  # the broker is busy: reading from the start only repeats work
            log.warning("faust_committed_offset_unknown", topic=tp[0], partition=tp[1], error=repr(exc)[:300])
            return 0

    def _steady(self) -> bool:
        app = self.app
        recovery = getattr(getattr(app, "tables", None), "recovery", None)
        return not (getattr(app, "rebalancing", False) or getattr(app, "in_recovery", False)
                    or not getattr(app.consumer, "flow_active", True)
                    or (recovery is not None and not recovery.completed.is_set()))

    async def sweep(self, topics: set[str]) -> list[tuple[str, int, int, int]]:
        """Resume and re-seek assigned partitions of ``topics`` whose records are not being delivered.

        Returns ``(topic, partition, from_offset, end_offset)`` for each partition sought back."""
        now = time.monotonic()
        if not self._steady():
            self.steady_since = now
            return []
        consumer = self.app.consumer
        tps = sorted((tp for tp in consumer.assignment() if tp.topic in topics), key=lambda tp: tuple(tp))
        if not tps or now - self.steady_since < self.stall_after_s:
            return []
        ends = await self._end_offsets(tps)
        if not self._steady():  # a rebalance began while we asked the broker
            self.steady_since = time.monotonic()
            return []
        quiet = {tp: now - max(self.last_seen.get((tp.topic, tp.partition), 0.0), self.steady_since) for tp in tps}
        # A partition that delivered nothing since its assignment starts at the group's committed offset,
        # asked of the broker (faust's own copy can be missing); none committed means the log start.
        unseen = [tp for tp in tps if (tp.topic, tp.partition) not in self.next
                  and quiet[tp] >= self.stall_after_s and ends.get(tp)]
        committed = await self._group_committed(unseen) if unseen else {}
        resumed = []
        for tp in tps:
            key = (tp.topic, tp.partition)
            start = self.next.get(key)
            if start is None:
                start = committed.get(key, 0)
            end = ends.get(tp)
            if end is None or start >= end or quiet[tp] < self.stall_after_s:
                continue
            # faust's own view of the partition, logged to tell the two known stall causes apart
            state = {"active": tp in (getattr(consumer, "_active_partitions", None) or ()),
                     "paused": tp in (getattr(consumer, "_paused_partitions", None) or ()),
                     "read_offset": (getattr(consumer, "_read_offset", None) or {}).get(tp)}
            consumer.resume_partitions({tp})
            await consumer.seek(tp, start)
            self.last_seen[key] = time.monotonic()  # give faust stall_after_s to deliver them
            metrics.ERRORS.labels("faust", "stalled_partition_resumed").inc()
            log.warning("faust_stalled_partition_resumed", topic=tp.topic, partition=tp.partition,
                        from_offset=start, end_offset=end, quiet_s=round(quiet[tp], 1), **state)
            resumed.append((tp.topic, tp.partition, start, end))
        return resumed

    async def watch(self, topics: set[str], every_s: float = 2.0) -> None:
        """Run :meth:`sweep` every ``every_s`` until cancelled (a task of the faust app)."""
        try:
            while True:
                await asyncio.sleep(every_s)
                try:
                    await self.sweep(topics)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # a broker hiccup: try again on the next sweep
                    log.warning("faust_stall_check_failed", error=repr(exc)[:300])
        finally:
            await self.close()

    async def close(self) -> None:
        """Stop the guard's own Kafka clients."""
        if self._ends_reader is not None:
            await self._ends_reader.stop()
            self._ends_reader = None
        if self._admin is not None:
            await self._admin.close()
            self._admin = None

    async def _group_committed(self, tps: list[Any]) -> dict[tuple[str, int], int]:
        from aiokafka import TopicPartition
        from aiokafka.admin import AIOKafkaAdminClient

        if self.group_id is None:  # not told the group: faust's own copy
            return {(tp[0], tp[1]): c for tp in tps if (c := self._committed(tp)) is not None}
        async with self._admin_lock:  # the agents and the stall check share one client
            if self._admin is None:
                admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
                await admin.start()
                self._admin = admin
        offsets = await self._admin.list_consumer_group_offsets(
            self.group_id, partitions=[TopicPartition(tp[0], tp[1]) for tp in tps])
        return {(tp.topic, tp.partition): o.offset for tp, o in offsets.items() if o.offset >= 0}

    async def _end_offsets(self, tps: list[Any]) -> dict[Any, int]:
        from aiokafka import AIOKafkaConsumer, TopicPartition

        if self._ends_reader is None:
            reader = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False, group_id=None)
            await reader.start()
            self._ends_reader = reader
        ends = await self._ends_reader.end_offsets([TopicPartition(tp.topic, tp.partition) for tp in tps])
        by_key = {(tp.topic, tp.partition): n for tp, n in ends.items()}
        return {tp: by_key[(tp.topic, tp.partition)] for tp in tps if (tp.topic, tp.partition) in by_key}

    async def _fetch(self, topic: str, partition: int, start: int, end: int) -> list[Rec]:
        """Records ``[start, end)`` of one partition, read with a group-less consumer."""
        from aiokafka import AIOKafkaConsumer, TopicPartition

        tp = TopicPartition(topic, partition)
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False, group_id=None,
                                    auto_offset_reset="earliest")
        await consumer.start()
        out: list[Rec] = []
        try:
            consumer.assign([tp])
            consumer.seek(tp, start)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                batch = await consumer.getmany(tp, timeout_ms=1000)
                msgs = batch.get(tp, [])
                out += [Rec(topic, partition, r.offset, r.key, r.value) for r in msgs if start <= r.offset < end]
                if any(r.offset >= end - 1 for r in msgs) or (out and out[-1].offset >= end - 1):
                    break
                if not msgs and await consumer.position(tp) >= end:
                    break
        finally:
            await consumer.stop()
        return out


def create_app(settings: Settings, *, app_id: str | None = None, web_enabled: bool = False, web_port: int = 6066,
               datadir: str | None = None, worker_name: str | None = None):
    """Build the faust app of the processors for ``settings`` (see the module docstring)."""
    try:
        import faust
    except ImportError as exc:  # pragma: no cover
        raise MissingExtraError("kafka", "faust-streaming") from exc
    from cashwatch.processors.pipeline import AnalysisPipeline
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
    core = AnalysisPipeline()  # its analyse half; the linkers are per force area (ForceLinkers)

    guard = GapGuard(app, k.bootstrap_servers, group_id=app.conf.id)

    @app.on_partitions_revoked.connect
    async def _revoked(sender, revoked, **kwargs) -> None:  # noqa: ARG001
        linkers.clear()
        guard.reset()

    @app.on_partitions_assigned.connect
    async def _assigned(sender, assigned, **kwargs) -> None:  # noqa: ARG001
        linkers.clear()
        guard.reset()

    async def to_dead_letters(stage: str, rec: Rec, exc: BaseException) -> None:
        dl = dead_letter(stage, exc, topic=rec.topic, partition=rec.partition, offset=rec.offset,
                         key=rec.key, value=rec.value)
        metrics.DEAD_LETTERS.labels(stage, dl.error_code).inc()
        metrics.ERRORS.labels(stage, dl.error_code).inc()
        log.error("dead_lettered", stage=stage, topic=rec.topic, partition=rec.partition, offset=rec.offset,
                  error_code=dl.error_code, error=dl.error[:300])
        await dead.send(key=rec.key or b"", value=encode(dl))

    async def handle_page(rec: Rec) -> None:
        try:
            page = decode(Page, rec.value, where=rec.where)
            started = time.perf_counter()
            article = await asyncio.get_running_loop().run_in_executor(None, article_from_page, page)
            metrics.STAGE_SECONDS.labels("extract").observe(time.perf_counter() - started)
        except Exception as exc:  # per message: never lose it, never stop the agent
            await to_dead_letters("extract", rec, exc)
            return
        await articles.send(key=article.article_id.encode(), value=encode(article))

    async def handle_article(rec: Rec) -> None:
        from cashwatch.models import Article

        try:
            article = decode(Article, rec.value, where=rec.where)
            started = time.perf_counter()
            analysis = core.analyse(article)
            metrics.STAGE_SECONDS.labels("analyse").observe(time.perf_counter() - started)
        except Exception as exc:
            await to_dead_letters("analyse", rec, exc)
            return
        await by_force.send(key=force_key(analysis).encode(), value=encode(analysis))

    async def handle_correction(rec: Rec, force: str) -> None:
        from cashwatch.models import Correction

        try:
            correction = decode(Correction, rec.value, where=rec.where)
            linker = linkers.get(force)
            try:
                events = linker.apply(correction)
            except Exception:
                linkers.drop(force)
                raise
        except Exception as exc:  # a correction that cannot apply (no such incident, ...): kept with the reason
            await to_dead_letters("correct", rec, exc)
            return
        metrics.CORRECTIONS.labels(correction.action, "applied").inc()
        log.info("correction_applied", correction_id=correction.correction_id, action=correction.action,
                 incident_id=correction.incident_id, by=correction.by, events=[e.event for e in events])
        await emit(force, events)

    async def emit(force: str, events) -> None:
        """The events to their topic, then the incidents to the table (a crash in between replays the input
        and repeats the same events, which downstream absorbs, instead of losing them)."""
        for ev in events:
            metrics.INCIDENT_EVENTS.labels(ev.event).inc()
            await events_topic.send(key=ev.incident.incident_id.encode(), value=encode(ev))
        for ev in events:
            table[f"{force}/{ev.incident.incident_id}".encode()] = encode(ev.incident)
            if ev.event == "merged" and ev.absorbed:
                # the absorbed incident lives on in the survivor (its merged_ids): a rebuilt linker must not
                # load it as an incident of its own
                gone = f"{force}/{ev.absorbed}".encode()
                if gone in table:
                    del table[gone]

    async def handle_analysis(rec: Rec) -> None:
        force = (rec.key or b"").decode("utf-8", "replace") or NO_FORCE
        if rec.value and b'"correction_id"' in rec.value[:120]:  # (Correction JSON starts with its id)
            await handle_correction(rec, force)
            return
        try:
            analysis = decode(Analysis, rec.value, where=rec.where)
            linker = linkers.get(force)
            try:
                linked, events = linker.link(analysis)
            except Exception:
                linkers.drop(force)  # its memory may be half-updated: rebuild from the table next time
                raise
        except Exception as exc:
            await to_dead_letters("link", rec, exc)
            return
        # Outputs first, then the table: a crash in between replays the message and repeats the
        # same events (absorbed downstream) instead of losing them.
        await analyses.send(key=linked.article_id.encode(), value=encode(linked))
        await emit(force, events)
        metrics.ARTICLES.labels(linked.kind).inc()

    async def run(stream, handle) -> None:
        async for event in stream.events():
            for missed in await guard.missed_before(event):
                await handle(missed)
            await handle(Rec.of(event))

    @app.agent(pages, name="extract")
    async def extract_agent(stream):
        await run(stream, handle_page)

    @app.agent(articles, name="analyse")
    async def analyse_agent(stream):
        await run(stream, handle_article)

    @app.agent(by_force, name="link")
    async def link_agent(stream):
        await run(stream, handle_analysis)

    @app.task
    async def _watch_for_stalls() -> None:
        await guard.watch({pages.get_topic_name(), articles.get_topic_name(), by_force.get_topic_name()})

    app.cashwatch_agents = {"extract": extract_agent, "analyse": analyse_agent, "link": link_agent}
    app.cashwatch_table = table
    app.cashwatch_guard = guard
    return app
