"""The distributed runtime's wiring: topics, records on the wire, dead letters, topic creation.

Stages and the topics between them (names are ``kafka.topic_prefix`` + the name below)::

    producer ──► feed-items, pages ──► [faust] extract ──► articles ──► [faust] analyse
                                                                               │ re-keyed by force
                                  analyses ◄── [faust] link ◄── analyses-by-force
                              incident-events ◄──┘   (Faust table "linking", partitioned by force)
    sinks ◄── articles, analyses, incident-events      (Elasticsearch indexer, webhook alerter)
    every stage ──► dead-letters (what cannot be processed, with the reason)

| topic | value | key |
| --- | --- | --- |
| feed-items | FeedItem | article id |
| pages | Page (html capped; an oversize page travels as an error Page) | article id |
| articles | Article | article id |
| analyses-by-force | Analysis before linking | police force id (``unknown`` when none) |
| analyses | Analysis after linking (incident ids set) | article id |
| incident-events | IncidentEvent | incident id |
| dead-letters | DeadLetter | the key of the record that failed |

Values are the records' JSON (each carries its ``schema`` version); topics are compressed with
``kafka.compression_type`` and retain ``kafka.retention_ms``.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field, ValidationError

from cashwatch.config import KafkaConfig
from cashwatch.errors import InputError, MissingExtraError
from cashwatch.logs import get_logger
from cashwatch.models import Analysis, Article, FeedItem, IncidentEvent, Page, Record

log = get_logger("cashwatch.distributed")

TOPICS: dict[str, type[Record]] = {
    "feed-items": FeedItem,
    "pages": Page,
    "articles": Article,
    "analyses-by-force": Analysis,
    "analyses": Analysis,
    "incident-events": IncidentEvent,
}
DEAD_LETTERS = "dead-letters"
NO_FORCE = "unknown"


class DeadLetter(Record):
    """A record a stage could not process, with where it came from and why (never retried as is)."""

    schema_version: int = Field(1, alias="schema")
    stage: str
    error_code: str
    error: str
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    key: str | None = None
    value: str = ""  # the original value (UTF-8, replacement characters for bytes that are not)
    at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))

    model_config = {"frozen": True, "extra": "forbid", "populate_by_name": True}


def topic_name(config: KafkaConfig, name: str) -> str:
    """The full topic name of ``name`` (one of :data:`TOPICS` or :data:`DEAD_LETTERS`)."""
    if name not in TOPICS and name != DEAD_LETTERS:
        raise KeyError(f"unknown topic {name!r}; known: {sorted([*TOPICS, DEAD_LETTERS])}")
    return f"{config.topic_prefix}{name}"


def encode(record: Record) -> bytes:
    return record.model_dump_json(by_alias=True).encode("utf-8")


def decode(model: type[Record], value: bytes | str | None, *, where: str = "") -> Any:
    """Parse one wire value into ``model`` or raise :class:`InputError` (``bad_record``) naming ``where``."""
    if value is None:
        raise InputError(f"{where}: empty value (tombstone) where a {model.__name__} was expected", "bad_record")
    try:
        return model.model_validate_json(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "(value)"
        raise InputError(f"{where}: not a valid {model.__name__}: {loc}: {first['msg']}", "bad_record") from exc


def force_key(analysis: Analysis) -> str:
    """The linking partition key of an analysis: the force of its first primary mention, else of any
    mention, else :data:`NO_FORCE`. Every report of one incident names the same force, so each worker
    owns whole force areas and links them alone."""
    for m in analysis.incidents:
        if m.role == "primary" and m.force:
            return m.force
    for m in analysis.incidents:
        if m.force:
            return m.force
    return NO_FORCE


def dead_letter(stage: str, exc: BaseException, *, topic: str | None = None, partition: int | None = None,
                offset: int | None = None, key: bytes | str | None = None, value: bytes | str | None = None,
                max_value_chars: int = 200_000) -> DeadLetter:
    """The dead-letter record for ``exc`` raised while ``stage`` processed one record."""
    code = exc.error_code if isinstance(exc, InputError) else type(exc).__name__[:40]
    if isinstance(key, bytes):
        key = key.decode("utf-8", "replace")
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return DeadLetter(stage=stage, error_code=code, error=str(exc)[:2000], topic=topic, partition=partition,
                      offset=offset, key=key, value=(value or "")[:max_value_chars])


def ensure_topics(config: KafkaConfig, *, timeout_s: float = 30.0) -> dict[str, str]:
    """Create every topic (partitions, replication, retention, compression, max message size from
    ``config``); existing topics are left as they are. Returns ``{topic: "created" | "exists"}``."""
    try:
        from kafka.admin import KafkaAdminClient, NewTopic
        from kafka.errors import TopicAlreadyExistsError
    except ImportError as exc:  # pragma: no cover
        raise MissingExtraError("kafka", "kafka-python") from exc
    admin = KafkaAdminClient(bootstrap_servers=config.bootstrap_servers, client_id="cashwatch-admin",
                             request_timeout_ms=int(timeout_s * 1000))
    try:
        existing = set(admin.list_topics())
        configs = {"retention.ms": str(config.retention_ms), "compression.type": config.compression_type
                   if config.compression_type != "none" else "producer",
                   "max.message.bytes": str(config.max_message_bytes)}
        out: dict[str, str] = {}
        new = []
        for name in [*TOPICS, DEAD_LETTERS]:
            full = topic_name(config, name)
            if full in existing:
                out[full] = "exists"
                continue
            new.append(NewTopic(full, config.partitions, config.replication_factor, topic_configs=configs))
            out[full] = "created"
        if new:
            try:
                admin.create_topics(new, timeout_ms=int(timeout_s * 1000))
            except TopicAlreadyExistsError:  # another process won the race: fine
                pass
        log.info("kafka_topics", bootstrap=config.bootstrap_servers, **{k.replace(".", "_"): v for k, v in out.items()})
        return out
    finally:
        admin.close()


def publish_correction(settings, correction, *, timeout_s: float = 30.0) -> str:
    """Publish an analyst's correction on ``analyses-by-force``, keyed by the force of its incident (looked
    up in Elasticsearch), so the worker that owns that force applies it in order with the reports.
    Returns the force key. Raises :class:`~cashwatch.errors.CorrectionError` when the incident is not in
    Elasticsearch, or a merge spans two forces (edit one incident's force first)."""
    from cashwatch.errors import CorrectionError
    from cashwatch.producers.kafka import KafkaPublisher

    def force_of(incident_id: str) -> str:
        import httpx

        es = settings.elasticsearch
        auth = (es.username, es.password.get_secret_value()) if es.username and es.password else None
        url = f"{es.url.rstrip('/')}/{es.index_prefix}incidents/_search"
        query = {"query": {"bool": {"should": [{"term": {"incident_id": incident_id}},
                                               {"term": {"merged_ids": incident_id}}]}}, "size": 1}
        resp = httpx.post(url, json=query, auth=auth, timeout=timeout_s)
        resp.raise_for_status()
        hits = resp.json()["hits"]["hits"]
        if not hits:
            raise CorrectionError(f"no incident {incident_id!r} in Elasticsearch", "unknown_incident")
        return hits[0]["_source"].get("force") or NO_FORCE

    force = force_of(correction.incident_id)
    if correction.action == "merge" and correction.other_id:
        other = force_of(correction.other_id)
        if other != force:
            raise CorrectionError(f"{correction.incident_id} is in {force} and {correction.other_id} in {other}: "
                                  "each force's incidents are linked by its own worker; edit one's force first")
    publisher = KafkaPublisher(settings.kafka, client_id="cashwatch-corrections")
    try:
        publisher.publish("analyses-by-force", force, correction).get(timeout_s)
        publisher.flush(timeout_s)
    finally:
        publisher.producer.close()
    return force


async def run_sinks(settings, stop, *, group_id: str | None = None, alerts_path: str | None = None,
                    batch: int = 500, es_max_retry_s: float = 3600.0, on_indexed=None, es_health=None) -> None:
    """The sinks worker: consume ``articles``, ``analyses`` and ``incident-events``, index them into
    Elasticsearch and queue their alerts (``WebhookSink``, when subscriptions are configured, whose
    sender runs here too), until ``stop`` is set.

    Offsets are committed only after a batch is indexed (and its alerts recorded durably), so a
    crash or an Elasticsearch outage loses nothing: the batch is consumed again and upserted by id.
    Records that cannot be decoded or that Elasticsearch refuses for good go to ``dead-letters``.
    ``on_indexed(result)`` is called after each committed batch (tests, benchmarks); ``es_health`` (a
    ``cashwatch.health.ComponentHealth``) is told whether Elasticsearch is answering, for ``/healthz``.
    """
    import asyncio

    try:
        from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    except ImportError as exc:  # pragma: no cover
        raise MissingExtraError("kafka", "aiokafka") from exc
    from cashwatch import metrics
    from cashwatch.sinks.elasticsearch import ElasticsearchSink

    k = settings.kafka
    models = {topic_name(k, n): TOPICS[n] for n in ("articles", "analyses", "incident-events")}
    consumer = AIOKafkaConsumer(*models, bootstrap_servers=k.bootstrap_servers, group_id=group_id or f"{k.topic_prefix}sinks",
                                enable_auto_commit=False, auto_offset_reset="earliest", max_poll_records=batch)
    producer = AIOKafkaProducer(bootstrap_servers=k.bootstrap_servers, acks="all",
                                compression_type=None if k.compression_type == "none" else k.compression_type)
    es = ElasticsearchSink(settings.elasticsearch, max_retry_s=es_max_retry_s, health=es_health)
    webhooks = None
    if settings.subscriptions:
        from cashwatch.sinks.webhook import WebhookSink
        webhooks = WebhookSink(settings, alerts_path or settings.store_path)
    loop = asyncio.get_running_loop()
    tasks: list[asyncio.Task] = []
    await es.start()
    await producer.start()
    await consumer.start()
    if webhooks is not None:
        tasks.append(asyncio.create_task(webhooks.run(stop), name="webhooks"))
    dead_topic = topic_name(k, DEAD_LETTERS)
    log.info("sinks_started", bootstrap=k.bootstrap_servers, es=settings.elasticsearch.url,
             webhooks=webhooks is not None)
    try:
        while not stop.is_set():
            got = await consumer.getmany(timeout_ms=500)
            if not got:
                continue
            records: list[Any] = []
            events: list[IncidentEvent] = []
            dead: list[tuple[bytes | None, DeadLetter]] = []
            for tp, msgs in got.items():
                for m in msgs:
                    try:
                        rec = decode(models[tp.topic], m.value, where=f"{tp.topic}[{tp.partition}]@{m.offset}")
                    except InputError as exc:
                        dead.append((m.key, dead_letter("sink", exc, topic=tp.topic, partition=tp.partition,
                                                        offset=m.offset, key=m.key, value=m.value)))
                        continue
                    records.append(rec)
                    if isinstance(rec, IncidentEvent):
                        events.append(rec)
            result = await es.write(records)
            for rej in result.rejected:
                exc = InputError(f"Elasticsearch refused {rej.index}/{rej.doc_id}: HTTP {rej.status} "
                                 f"{rej.error_type}: {rej.reason}", "es_rejected")
                dead.append((rej.doc_id.encode(), dead_letter("es_sink", exc, key=rej.doc_id, value=encode(rej.record))))
            if webhooks is not None and events:
                await loop.run_in_executor(None, webhooks.enqueue, events)
            for key, dl in dead:
                metrics.DEAD_LETTERS.labels(dl.stage, dl.error_code).inc()
                log.error("dead_lettered", stage=dl.stage, topic=dl.topic, partition=dl.partition, offset=dl.offset,
                          error_code=dl.error_code, error=dl.error[:300])
                await producer.send_and_wait(dead_topic, key=key, value=encode(dl))
            await consumer.commit()
            if on_indexed is not None:
                on_indexed(result)
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await consumer.stop()
        await producer.stop()
        await es.close()
        if webhooks is not None:
            webhooks.close()
        log.info("sinks_stopped")
