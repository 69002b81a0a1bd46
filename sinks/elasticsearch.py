"""The Elasticsearch sink: index incidents and articles, upserting by deterministic id.

Lifecycle (the distributed runtime's sink worker and the tests)::

    sink = ElasticsearchSink(config)     # builds the client, no I/O
    await sink.start()                   # installs the index templates of deploy/elasticsearch and
                                         # creates the first index behind each alias (idempotent)
    result = await sink.write(records)   # one bulk request (retried), then item-by-item handling
    await sink.close()

Contract of :meth:`ElasticsearchSink.write`:

* ``records`` are :class:`~cashwatch.models.IncidentEvent` (indexed into the incidents alias under
  ``incident_id``), :class:`~cashwatch.models.Article` and :class:`~cashwatch.models.Analysis`
  (merged into one article doc under ``article_id`` with partial ``update`` + ``doc_as_upsert``, so
  the two may arrive in any order). The sink never mutates a record.
* Ids are deterministic, so a replay overwrites instead of duplicating. An incident doc carries an
  external version (its number of reports): a replayed *older* event (409 version conflict) is
  counted as ``stale`` and skipped, never written over a newer one.
* Whole-request failures (connection refused or reset, timeouts, HTTP 429/5xx) and items answered
  429 or 5xx are retried with exponential backoff until they succeed or ``max_retry_s`` passes;
  then :class:`SinkUnavailable` is raised (an infrastructure error: the caller must not commit its
  input). An Elasticsearch outage therefore pauses the sink; nothing is lost.
* Items rejected with any other 4xx (a document Elasticsearch will never accept) are returned in
  :attr:`BulkResult.rejected` with the reason: the caller dead-letters them. They are data errors.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from cashwatch import metrics
from cashwatch.config import ElasticsearchConfig
from cashwatch.errors import CashwatchError, MissingExtraError
from cashwatch.logs import get_logger
from cashwatch.models import Analysis, Article, IncidentEvent
from cashwatch.places_table import FORCES, country_code, nation_of, region_of

try:
    from elasticsearch import AsyncElasticsearch
    from elasticsearch import ApiError, ConnectionError as ESConnectionError, TransportError
except ImportError:  # pragma: no cover - exercised only without the extra
    AsyncElasticsearch = None  # type: ignore[assignment,misc]

log = get_logger("cashwatch.sinks.elasticsearch")

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "deploy" / "elasticsearch"
INDEX_VERSION = "v1"
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class SinkUnavailable(CashwatchError):
    """Elasticsearch did not accept a bulk request within the retry budget (retry later)."""


@dataclass
class Rejected:
    """One record Elasticsearch refused for good (a data error): dead-letter it."""

    doc_id: str
    index: str
    status: int
    error_type: str
    reason: str
    record: Any


@dataclass
class BulkResult:
    indexed: int = 0
    stale: int = 0
    attempts: int = 0
    rejected: list[Rejected] = field(default_factory=list)


def _templates_dir() -> Path:
    """deploy/elasticsearch beside the package (editable install or source tree)."""
    for cand in (TEMPLATES_DIR, Path.cwd() / "deploy" / "elasticsearch"):
        if (cand / "incidents.template.json").exists():
            return cand
    raise CashwatchError(f"index templates not found in {TEMPLATES_DIR} (deploy/elasticsearch)")


def load_template(name: str, prefix: str) -> dict:
    """The template ``name`` (``incidents`` or ``articles``) with ``cashwatch-`` replaced by ``prefix``."""
    raw = (_templates_dir() / f"{name}.template.json").read_text(encoding="utf-8")
    body = json.loads(raw)
    body["index_patterns"] = [p.replace("cashwatch-", prefix, 1) for p in body["index_patterns"]]
    tmpl = body["template"]
    tmpl["aliases"] = {a.replace("cashwatch-", prefix, 1): v for a, v in tmpl.get("aliases", {}).items()}
    return body


def _date(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


def incident_doc(event: IncidentEvent, now: dt.datetime | None = None) -> dict:
    """The incidents-index document of the incident an event carries."""
    inc = event.incident
    force = FORCES.get(inc.force or "")
    location = {"lat": inc.lat, "lon": inc.lon} if inc.lat is not None and inc.lon is not None else None
    primary = [r for r in inc.reports if r.role == "primary"] or list(inc.reports)
    return {
        "incident_id": inc.incident_id, "merged_ids": list(inc.merged_ids), "type": inc.type, "attempted": inc.attempted,
        "town": inc.town, "force": inc.force, "force_name": force.name if force else None,
        "region": inc.region or region_of(inc.force), "country": country_code(inc.country, inc.force), "nation": nation_of(inc.force), "location": location,
        "date": _date(inc.date), "mo": list(inc.mo), "store": inc.store, "stage": inc.stage,
        "confidence": inc.confidence, "first_seen": inc.first_seen.isoformat(),
        "last_seen": inc.last_seen.isoformat(), "report_count": len(inc.reports),
        "sources": sorted({r.source for r in inc.reports if r.source}),
        "title": primary[0].title if primary else "",
        "reports": [{"article_id": r.article_id, "url": r.url, "source": r.source, "title": r.title,
                     "published": _date(r.published), "kind": r.kind, "role": r.role} for r in inc.reports],
        "indexed_at": (now or dt.datetime.now(dt.timezone.utc)).isoformat(),
    }


def article_doc(article: Article) -> dict:
    return {"article_id": article.article_id, "url": article.url, "source": article.source,
            "feed_id": article.feed_id, "place_hint": article.place_hint, "published": _date(article.published),
            "title": article.title, "text": article.text, "language": article.language,
            "indexed_at": dt.datetime.now(dt.timezone.utc).isoformat()}


def analysis_doc(analysis: Analysis) -> dict:
    ms = analysis.incidents
    return {"article_id": analysis.article_id, "url": analysis.url, "source": analysis.source,
            "published": _date(analysis.published), "title": analysis.title, "kind": analysis.kind,
            "stage": analysis.stage,
            "incident_ids": sorted({m.incident_id for m in ms if m.incident_id}),
            "incident_types": sorted({m.type for m in ms}),
            "forces": sorted({m.force for m in ms if m.force}),
            "regions": sorted({m.region or region_of(m.force) for m in ms if (m.region or region_of(m.force))}),
            "towns": sorted({m.town for m in ms if m.town}),
            "locations": [{"lat": m.lat, "lon": m.lon} for m in ms if m.lat is not None and m.lon is not None],
            "indexed_at": dt.datetime.now(dt.timezone.utc).isoformat()}


CORRECTION_VERSION_STEP = 100_000  # an incident's doc version: reports + this x corrections


@dataclass(frozen=True)
class _Absorbed:
    """The incidents-index doc of an incident merged into ``survivor`` (or dismissed: survivor ""): to be
    deleted."""

    incident_id: str
    survivor: str


class ElasticsearchSink:
    """Bulk indexer with retries (see the module docstring).

    ``client``: an ``AsyncElasticsearch`` to use instead of building one from ``config`` (tests).
    ``max_retry_s``: how long one :meth:`write` keeps retrying before :class:`SinkUnavailable`.
    """

    def __init__(self, config: ElasticsearchConfig, *, client: Any = None, max_retry_s: float = 300.0,
                 backoff_initial_s: float = 0.5, backoff_max_s: float = 10.0, request_timeout_s: float = 30.0,
                 refresh: bool = False, health: Any = None) -> None:
        if AsyncElasticsearch is None:
            raise MissingExtraError("elasticsearch", "elasticsearch")
        self.config = config
        self.prefix = config.index_prefix
        self.incidents_alias = f"{self.prefix}incidents"
        self.articles_alias = f"{self.prefix}articles"
        self.max_retry_s = max_retry_s
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.refresh = refresh
        # a cashwatch.health.ComponentHealth told of every failed and every successful bulk (/healthz)
        self.health = health
        if client is None:
            auth = None
            if config.username:
                auth = (config.username, config.password.get_secret_value() if config.password else "")
            # Retries are ours (with a deadline and item-level handling), not the transport's.
            client = AsyncElasticsearch(config.url, basic_auth=auth, request_timeout=request_timeout_s,
                                        max_retries=0, retry_on_timeout=False)
        self.client = client

    async def start(self) -> None:
        """Install the templates and create ``<alias>-v1`` behind each alias (both idempotent)."""
        for name in ("incidents", "articles"):
            body = load_template(name, self.prefix)
            await self._retrying(f"put_template:{name}", lambda b=body, n=name: self.client.indices.put_index_template(
                name=f"{self.prefix}{n}", **b))
            index = f"{self.prefix}{name}-{INDEX_VERSION}"

            async def create(index: str = index) -> None:
                try:
                    await self.client.indices.create(index=index)
                except ApiError as exc:
                    if exc.meta.status == 400 and "resource_already_exists" in str(exc):
                        return
                    raise

            await self._retrying(f"create_index:{name}", create)
        log.info("es_sink_started", url=self.config.url, prefix=self.prefix)

    async def close(self) -> None:
        await self.client.close()

    # ------------------------------------------------------------------ write

    @staticmethod
    def _expand(rec: Any) -> list[Any]:
        """A ``merged`` event is two operations: the survivor indexed, the absorbed incident's doc deleted.
        An incident an analyst dismissed (``retracted``, and any later event of it) is deleted."""
        if isinstance(rec, IncidentEvent) and (rec.event == "retracted" or rec.incident.dismissed):
            return [_Absorbed(rec.incident.incident_id, "")]
        if isinstance(rec, IncidentEvent) and rec.event == "merged" and rec.absorbed:
            return [rec, _Absorbed(rec.absorbed, rec.incident.incident_id)]
        return [rec]

    def _action(self, rec: Any) -> tuple[dict, dict | None]:
        if isinstance(rec, _Absorbed):
            return ({"delete": {"_index": self.incidents_alias, "_id": rec.incident_id}}, None)
        if isinstance(rec, IncidentEvent):
            doc = incident_doc(rec)
            return ({"index": {"_index": self.incidents_alias, "_id": rec.incident.incident_id,
                               # later copies win: more reports, or an analyst's correction (a split may drop one)
                               "version": max(1, len(rec.incident.reports)) + CORRECTION_VERSION_STEP * rec.incident.corrections,
                               "version_type": "external_gte"}}, doc)
        if isinstance(rec, Article):
            return ({"update": {"_index": self.articles_alias, "_id": rec.article_id}},
                    {"doc": article_doc(rec), "doc_as_upsert": True})
        if isinstance(rec, Analysis):
            return ({"update": {"_index": self.articles_alias, "_id": rec.article_id}},
                    {"doc": analysis_doc(rec), "doc_as_upsert": True})
        raise TypeError(f"ElasticsearchSink cannot index {type(rec).__name__}")

    async def write(self, records: Iterable[Any]) -> BulkResult:
        """Index ``records`` (see the module docstring for the guarantees)."""
        pending = [op for rec in records for op in self._expand(rec)]
        result = BulkResult()
        if not pending:
            return result
        deadline = time.monotonic() + self.max_retry_s
        delay = self.backoff_initial_s
        while pending:
            result.attempts += 1
            ops: list[dict] = []
            for rec in pending:
                action, body = self._action(rec)
                ops.append(action)
                if body is not None:
                    ops.append(body)
            started = time.perf_counter()
            try:
                resp = await self.client.bulk(operations=ops, refresh="wait_for" if self.refresh else None)
            except (ESConnectionError, TransportError) as exc:
                self._retry_or_raise("connection", str(exc), deadline)
                await self._sleep(delay)
                delay = min(delay * 2, self.backoff_max_s)
                continue
            except ApiError as exc:
                status = exc.meta.status
                if status in RETRYABLE_STATUS:
                    self._retry_or_raise(f"http_{status}", str(exc), deadline)
                    await self._sleep(delay)
                    delay = min(delay * 2, self.backoff_max_s)
                    continue
                raise SinkUnavailable(f"bulk request refused with HTTP {status}: {exc}") from exc
            metrics.STAGE_SECONDS.labels("es_bulk").observe(time.perf_counter() - started)
            if self.health is not None:
                self.health.ok()
            retry: list[Any] = []
            for rec, item in zip(pending, resp["items"]):
                (op, info), = item.items()
                status = info.get("status", 0)
                if status < 300 or (op == "delete" and status == 404):  # (already gone: the same outcome)
                    result.indexed += 1
                    metrics.ES_DOCS.labels("indexed").inc()
                    continue
                err = info.get("error") or {}
                etype = err.get("type", "unknown") if isinstance(err, dict) else str(err)
                if status == 409 and etype == "version_conflict_engine_exception":
                    result.stale += 1  # an older copy of an incident: the index already has newer
                    metrics.ES_DOCS.labels("stale").inc()
                    continue
                if status in RETRYABLE_STATUS:
                    retry.append(rec)
                    continue
                reason = err.get("reason", "") if isinstance(err, dict) else str(err)
                result.rejected.append(Rejected(info.get("_id", ""), info.get("_index", ""), status, etype,
                                                reason[:500], rec))
                metrics.ES_DOCS.labels("rejected").inc()
                log.error("es_item_rejected", index=info.get("_index"), doc_id=info.get("_id"), status=status,
                          error_code=etype, reason=reason[:300])
            if retry:
                self._retry_or_raise("item_retryable", f"{len(retry)} item(s) answered 429/5xx", deadline)
                await self._sleep(delay)
                delay = min(delay * 2, self.backoff_max_s)
            pending = retry
        return result

    def _retry_or_raise(self, code: str, message: str, deadline: float) -> None:
        metrics.ES_RETRIES.labels(code).inc()
        if self.health is not None:
            self.health.failed(f"Elasticsearch at {self.config.url}: {code}")
        if time.monotonic() >= deadline:
            raise SinkUnavailable(f"Elasticsearch at {self.config.url} unavailable for {self.max_retry_s:.0f}s: "
                                  f"{code}: {message[:300]}")
        log.warning("es_bulk_retry", url=self.config.url, error_code=code, error=message[:300])

    async def _sleep(self, delay: float) -> None:
        await asyncio.sleep(delay * (0.8 + 0.4 * random.random()))

    async def _retrying(self, what: str, fn) -> Any:
        deadline = time.monotonic() + self.max_retry_s
        delay = self.backoff_initial_s
        while True:
            try:
                return await fn()
            except (ESConnectionError, TransportError) as exc:
                self._retry_or_raise(f"{what}:connection", str(exc), deadline)
            except ApiError as exc:
                if exc.meta.status not in RETRYABLE_STATUS:
                    raise SinkUnavailable(f"{what} refused with HTTP {exc.meta.status}: {exc}") from exc
                self._retry_or_raise(f"{what}:http_{exc.meta.status}", str(exc), deadline)
            await self._sleep(delay)
            delay = min(delay * 2, self.backoff_max_s)
