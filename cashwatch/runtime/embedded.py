"""The embedded runtime: the three stages as asyncio tasks in one process, joined by bounded queues.

::

    Producer.run ──► pages (Queue, bounded) ──► process_page (one thread) ──► Store (SQLite)
    poll + fetch                                 extract → analyse → link        │
                                                                                  └─► WebhookSink.enqueue
                                                 WebhookSink.run (delivery loop) ◄─┘

Lifecycle: ``EmbeddedMonitor(settings)`` builds everything (nothing runs) → ``await run(stop)``
runs until ``stop`` is set, then drains what is already fetched, flushes and closes. A page's
feed item is marked done (seen) only after its analysis is stored, so a crash at any point loses
nothing: the next start fetches it again and the store upserts by id. Linking is done on one
thread in arrival order so incident ids are deterministic for a given order.

An analyst's corrections (:mod:`cashwatch.corrections`) are applied on that same thread, between two
articles: the monitor keeps a heartbeat in the store so that a command or page submitting a correction
knows to leave it to the monitor, whose linker holds the incidents.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from cashwatch import health, metrics
from cashwatch.config import Settings
from cashwatch.errors import StoreError
from cashwatch.logs import get_logger
from cashwatch.models import Analysis, Article, IncidentEvent, Page
from cashwatch.processors.extract import extract
from cashwatch.processors.pipeline import AnalysisPipeline
from cashwatch.sinks.sqlite import Store

log = get_logger("cashwatch.embedded")

HEALTH_CHECK_S = 5.0  # how often the monitor re-assesses its health (metrics, the summary log line)

# An extracted body shorter than this is not a story (a consent wall, an error page): fall back to the
# feed's own title and summary so the item is still analysed rather than lost.
MIN_BODY_CHARS = 200


def article_from_page(page: Page) -> Article:
    """The :class:`Article` of a fetched page (or of its feed item alone when the fetch failed)."""
    item = page.item
    title, body, published, language = item.title, "", None, None
    if page.html and not page.error_code:
        ex = extract(page.html, page.final_url or item.url)
        title = item.title or ex.title
        body, published, language = ex.body, ex.published, ex.language
    if len(body) < MIN_BODY_CHARS and len(item.summary) > len(body):
        body = item.summary
    return Article(
        article_id=item.article_id, url=item.url, source=item.source,
        published=item.published.date() if item.published else published,
        title=title, text=body, language=language, place_hint=item.place_hint, feed_id=item.feed_id,
    )


class PageProcessor:
    """Extract, analyse, link and store one page; the pure core plus the store. Not thread-safe:
    call from one thread."""

    def __init__(self, store: Store, pipeline: AnalysisPipeline | None = None) -> None:
        self.store = store
        self.pipeline = pipeline or AnalysisPipeline(lookup=store)
        if pipeline is None:
            self.pipeline.linker.load(store.recent_incidents())

    def process(self, page: Page) -> tuple[Article, Analysis, list[IncidentEvent]]:
        started = time.perf_counter()
        article = article_from_page(page)
        metrics.STAGE_SECONDS.labels("extract").observe(time.perf_counter() - started)
        t1 = time.perf_counter()
        analysis, events = self.pipeline.process(article)
        metrics.STAGE_SECONDS.labels("analyse").observe(time.perf_counter() - t1)
        t2 = time.perf_counter()
        self.store.store_analysis(article, analysis, events)
        metrics.STAGE_SECONDS.labels("store").observe(time.perf_counter() - t2)
        metrics.ARTICLES.labels(analysis.kind).inc()
        for ev in events:
            metrics.INCIDENT_EVENTS.labels(ev.event).inc()
        return article, analysis, events


class EmbeddedMonitor:
    """One-process monitor (see module docstring)."""

    def __init__(self, settings: Settings, *, on_stored: Callable[[Article, Analysis, list[IncidentEvent]], None] | None = None) -> None:
        from cashwatch.producers.rss import Producer
        from cashwatch.producers.state import ProducerState
        from cashwatch.sinks.webhook import WebhookSink

        self.settings = settings
        self.store = Store(settings.store_path)
        self.state = ProducerState(settings.store_path)
        self.producer = Producer(settings, self.state)
        self.webhooks = WebhookSink(settings, settings.store_path)
        self.processor = PageProcessor(self.store)
        from cashwatch.corrections import CorrectionApplier

        self.corrections = CorrectionApplier(self.store, self.processor.pipeline.linker, self.webhooks.enqueue)
        self._last_beat = 0.0
        self.pages: asyncio.Queue[Page] = asyncio.Queue(maxsize=settings.queue_size)
        self.on_stored = on_stored
        self.processed = 0
        self.started_at = time.time()
        self.components = {"store": health.ComponentHealth(), "alerts": self.webhooks.health}
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cashwatch-process")

    def health(self, now: float | None = None) -> tuple[list[health.FeedHealth], health.Verdict]:
        """Every feed's health and the monitor's verdict (cashwatch/health.py), as /healthz reports them."""
        now = time.time() if now is None else now
        states = {st.feed_id: st for st in self.state.all_feed_states()}
        feeds = health.feeds_health(self.settings, states, now)
        verdict = health.assess(feeds, started_at=self.started_at, now=now,
                                grace_s=self.settings.ops.health_grace_s, components=self.components)
        return feeds, verdict

    def healthz(self) -> tuple[int, dict]:
        """The ``/healthz`` answer: HTTP status and body."""
        feeds, verdict = self.health()
        body = {"status": verdict.status, "reasons": verdict.reasons, **verdict.summary,
                "processed": self.processed, "queue": self.pages.qsize(),
                "feeds_backing_off": verdict.summary.get("feeds_failing", 0)}
        return verdict.http_status, body

    def housekeeping(self) -> None:
        """On the linking thread: say the monitor runs (heartbeat) and apply pending corrections."""
        from cashwatch.corrections import HEARTBEAT_S, MONITOR_HEARTBEAT

        now = time.time()
        if now - self._last_beat >= HEARTBEAT_S:
            self.store.set_meta(MONITOR_HEARTBEAT, f"{now:.3f}")
            self._last_beat = now
        for c, outcome in self.corrections.apply_pending():
            if isinstance(outcome, str):
                log.warning("correction_rejected", correction_id=c.correction_id, action=c.action,
                            incident_id=c.incident_id, reason=outcome)
            else:
                log.info("correction_applied", correction_id=c.correction_id, action=c.action,
                         incident_id=c.incident_id, by=c.by, events=[e.event for e in outcome])

    async def _housekeeping(self) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self.housekeeping)
        except StoreError as exc:
            self.components["store"].failed(str(exc))
            log.error("corrections_failed", error=str(exc), error_code="store_error")

    async def _process_loop(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        await self._housekeeping()
        last = loop.time()
        while not (stop.is_set() and self.pages.empty()):
            if loop.time() - last >= 0.25:
                await self._housekeeping()
                last = loop.time()
            try:
                page = await asyncio.wait_for(self.pages.get(), timeout=0.2)
            except asyncio.TimeoutError:
                continue
            metrics.QUEUE_DEPTH.labels("pages").set(self.pages.qsize())
            log_ctx = {"article_id": page.article_id, "url": page.item.url, "feed": page.item.feed_id}
            try:
                article, analysis, events = await loop.run_in_executor(self._executor, self.processor.process, page)
            except StoreError as exc:  # infrastructure: keep the item unseen, a later poll retries it
                self.components["store"].failed(str(exc))
                metrics.ERRORS.labels("store", "store_error").inc()
                log.error("store_failed", error=str(exc), error_code="store_error", **log_ctx)
                self.state.release(page.item)
                continue
            except Exception as exc:  # this record breaks the core: dead-letter it with the reason, go on
                code = type(exc).__name__[:40]
                metrics.ERRORS.labels("process", code).inc()
                log.error("process_failed_dead_lettered", error=str(exc), error_code=code, exc_info=True, **log_ctx)
                try:
                    await loop.run_in_executor(self._executor, self.store.dead_letter, page.article_id, "process",
                                               code, f"{type(exc).__name__}: {exc}", page.to_json())
                    await loop.run_in_executor(self._executor, self.state.mark_done, page.item)
                except StoreError as store_exc:
                    log.error("dead_letter_failed", error=str(store_exc), **log_ctx)
                    self.state.release(page.item)
                continue
            self.components["store"].ok()
            # Order matters for "nothing lost": alerts are queued durably, then the item counts as seen.
            if events:
                await loop.run_in_executor(self._executor, self.webhooks.enqueue, events)
            await loop.run_in_executor(self._executor, self.state.mark_done, page.item)
            self.processed += 1
            log.info("article_stored", kind=analysis.kind, incidents=len(analysis.incidents),
                     events=[e.event for e in events], **log_ctx)
            if self.on_stored:
                self.on_stored(article, analysis, events)

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set; then drain fetched pages, flush and close everything."""
        producer_stop = asyncio.Event()
        tasks = [
            asyncio.create_task(self.producer.run(self.pages, producer_stop), name="producer"),
            asyncio.create_task(self._process_loop(stop), name="processor"),
            asyncio.create_task(self.webhooks.run(stop), name="webhooks"),
            asyncio.create_task(health.watch(self.settings, self.state, stop, log, started_at=self.started_at,
                                             components=self.components, every_s=HEALTH_CHECK_S), name="health"),
        ]
        enabled = len([f for f in self.settings.feeds if f.enabled])
        log.info("monitor_started", feeds=enabled,
                 subscriptions=len(self.settings.subscriptions), store=self.settings.store_path)
        if not enabled:
            log.warning("no_feeds", note="no enabled feeds in the configuration: nothing will be monitored "
                        "(set feeds: or feeds_file:)")
        try:
            stopper = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                if t is not stopper and t.exception():
                    raise t.exception()
        finally:
            producer_stop.set()
            stop.set()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            for r in results:
                if isinstance(r, Exception):
                    log.error("task_failed_on_shutdown", error=str(r))
            await self.producer.aclose()
            self.close()
            log.info("monitor_stopped", processed=self.processed)

    def close(self) -> None:
        from cashwatch.corrections import MONITOR_HEARTBEAT

        try:
            self.store.set_meta(MONITOR_HEARTBEAT, "0")  # stopped: commands apply corrections themselves
        except Exception as exc:  # closing anyway
            log.warning("heartbeat_clear_failed", error=str(exc))
        self._executor.shutdown(wait=True)
        self.webhooks.close()
        self.state.close()
        self.store.close()
