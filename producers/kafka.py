"""Publish the producers' records to Kafka with kafka-python (the distributed runtime).

Lifecycle::

    publisher = KafkaPublisher(settings.kafka)      # connects (kafka-python is synchronous)
    futures = publisher.publish_page(page)          # FeedItem -> feed-items, Page -> pages
    publisher.flush(); publisher.close()

    await run_producer(settings, stop)              # rss.Producer -> Kafka, until ``stop`` is set

Guarantees: ``acks=all`` with retries and idempotence, so an acknowledged record is on every
in-sync replica and a retried send is not written twice; every record is keyed by its article id
(every copy of one article lands in one partition, in order); values are compressed
(``kafka.compression_type``). A :class:`~cashwatch.models.Page` whose JSON is larger than
``kafka.max_message_bytes`` is not a failure: it travels as an error Page (``error_code=
"page_too_large"``, no html) so its feed item is still analysed and the loss is visible.

:func:`run_producer` marks an item done in the producer's own store (``ProducerState``) only after
Kafka acknowledged both of its records, so a restarted producer does not re-publish what Kafka
already has, and a crash before the acknowledgement publishes it again (consumers upsert by id).
"""
from __future__ import annotations

import asyncio
import time
from concurrent.futures import Future
from typing import Any

from cashwatch import metrics
from cashwatch.config import KafkaConfig, Settings
from cashwatch.errors import MissingExtraError
from cashwatch.logs import get_logger
from cashwatch.models import Page, Record
from cashwatch.runtime.distributed import encode, topic_name

log = get_logger("cashwatch.producers.kafka")

# Room for the record's key, headers and batch framing within max.message.bytes.
ENVELOPE_BYTES = 4096
MAX_TEXT_CHARS = 20_000


def cap_page(page: Page, max_bytes: int) -> Page:
    """``page`` itself when its JSON fits in ``max_bytes``, else an error Page without the html (the
    feed item's own text cut to fit if it is absurdly large). Never mutates ``page``."""
    size = len(encode(page))
    if size <= max_bytes:
        return page
    item = page.item
    if len(encode(item)) > max_bytes // 2:
        item = item.model_copy(update={"title": item.title[:MAX_TEXT_CHARS], "summary": item.summary[:MAX_TEXT_CHARS]})
    return page.model_copy(update={
        "item": item, "html": None, "error_code": "page_too_large",
        "error": f"page of {size} bytes (as JSON) is over the Kafka record cap of {max_bytes} bytes; "
                 f"analysed from the feed item only",
    })


class KafkaPublisher:
    """A kafka-python producer configured for the guarantees in the module docstring."""

    def __init__(self, config: KafkaConfig, *, client_id: str = "cashwatch-producer", producer: Any = None) -> None:
        try:
            from kafka import KafkaProducer
        except ImportError as exc:  # pragma: no cover
            raise MissingExtraError("kafka", "kafka-python") from exc
        self.config = config
        self.record_cap = max(1024, config.max_message_bytes - ENVELOPE_BYTES)
        self.producer = producer or KafkaProducer(
            bootstrap_servers=config.bootstrap_servers, client_id=client_id,
            acks="all", retries=2_147_483_647, enable_idempotence=True, max_in_flight_requests_per_connection=5,
            compression_type=None if config.compression_type == "none" else config.compression_type,
            max_request_size=config.max_message_bytes, linger_ms=5, delivery_timeout_ms=120_000,
            key_serializer=lambda k: k.encode("utf-8"), value_serializer=lambda v: v,
        )

    def publish(self, name: str, key: str, record: Record) -> Future:
        """Send ``record`` to the topic ``name`` (e.g. ``"pages"``) keyed by ``key``; returns
        kafka-python's future (``.get(timeout)`` raises if the broker did not take it)."""
        topic = topic_name(self.config, name)
        fut = self.producer.send(topic, key=key, value=encode(record))
        fut.add_callback(lambda _md: metrics.KAFKA_PUBLISHED.labels(topic, "ok").inc())
        fut.add_errback(lambda exc: (metrics.KAFKA_PUBLISHED.labels(topic, "error").inc(),
                                     log.error("kafka_publish_failed", topic=topic, key=key, error=str(exc),
                                               error_code=type(exc).__name__[:40])))
        return fut

    def publish_page(self, page: Page) -> list[Future]:
        """Publish a page's feed item and the page (capped, see :func:`cap_page`)."""
        capped = cap_page(page, self.record_cap)
        if capped is not page:
            metrics.ERRORS.labels("publish", "page_too_large").inc()
            log.warning("page_too_large", article_id=page.article_id, url=page.item.url, feed=page.item.feed_id,
                        error_code="page_too_large", cap_bytes=self.record_cap)
        return [self.publish("feed-items", page.article_id, page.item),
                self.publish("pages", page.article_id, capped)]

    def flush(self, timeout_s: float | None = None) -> None:
        self.producer.flush(timeout=timeout_s)

    def close(self, timeout_s: float = 30.0) -> None:
        self.producer.close(timeout=timeout_s)


async def publish_pages(publisher: KafkaPublisher, pages: asyncio.Queue, stop: asyncio.Event, *,
                        on_acked=None, batch: int = 64, ack_timeout_s: float = 120.0) -> int:
    """Drain ``pages`` into Kafka until ``stop`` is set and the queue is empty; call ``on_acked(page)``
    for each page once Kafka acknowledged its records. A page whose send failed is not acknowledged
    (``on_acked`` is not called): the error propagates after the pages before it were acknowledged."""
    loop = asyncio.get_running_loop()
    sent = 0
    while not (stop.is_set() and pages.empty()):
        try:
            first = await asyncio.wait_for(pages.get(), timeout=0.2)
        except asyncio.TimeoutError:
            continue
        todo = [first]
        while len(todo) < batch and not pages.empty():
            todo.append(pages.get_nowait())
        futures = [publisher.publish_page(p) for p in todo]

        def wait_all() -> None:
            publisher.flush(ack_timeout_s)
            for p, fs in zip(todo, futures):
                for f in fs:
                    f.get(timeout=ack_timeout_s)
                if on_acked is not None:
                    on_acked(p)

        await loop.run_in_executor(None, wait_all)
        sent += len(todo)
    return sent


async def run_producer(settings: Settings, stop: asyncio.Event, *, state_path: str | None = None) -> None:
    """Poll the configured feeds and publish every new item and page to Kafka until ``stop``."""
    from cashwatch.producers.rss import Producer
    from cashwatch.producers.state import ProducerState

    state = ProducerState(state_path or settings.store_path)
    producer = Producer(settings, state)
    publisher = KafkaPublisher(settings.kafka)
    pages: asyncio.Queue[Page] = asyncio.Queue(maxsize=settings.queue_size)
    poll_stop = asyncio.Event()
    poller = asyncio.create_task(producer.run(pages, poll_stop), name="poll")
    publisher_task = asyncio.create_task(
        publish_pages(publisher, pages, poll_stop, on_acked=lambda p: state.mark_done(p.item)), name="publish")
    from cashwatch import health

    # the feeds' summary line ("0 of 46 feeds reachable") and health metrics, as in the embedded runtime
    watcher = asyncio.create_task(health.watch(settings, state, poll_stop, log, started_at=time.time()), name="health")
    log.info("kafka_producer_started", bootstrap=settings.kafka.bootstrap_servers)
    if not any(f.enabled for f in settings.feeds):
        log.warning("no_feeds", note="no enabled feeds in the configuration: nothing will be published")
    try:
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([stopper, poller, publisher_task], return_when=asyncio.FIRST_COMPLETED)
        for t in done:
            if t is not stopper and t.exception():
                raise t.exception()
    finally:
        poll_stop.set()
        await asyncio.gather(poller, publisher_task, watcher, return_exceptions=True)
        await producer.aclose()
        publisher.close()
        state.close()
        log.info("kafka_producer_stopped")
