"""The feed producer: poll RSS/Atom/RDF feeds, find new items, fetch their pages.

Lifecycle (what the embedded runtime calls)::

    producer = Producer(settings, state)      # builds nothing that needs a loop
    await producer.run(out, stop)             # until ``stop`` is set: Page after Page onto ``out``
    await producer.aclose()                   # closes the HTTP client

``run`` polls every enabled feed on its own ``poll_interval_s`` (with ``http.jitter_fraction``
jitter), and for every NEW item fetches its page and puts a :class:`~cashwatch.models.Page` (the
HTML, or the fetch error) on ``out``. ``out`` is bounded: a slow consumer slows the producer down.
The building blocks are public for the replay command, tests and benchmarks:

- :meth:`Producer.poll_feed` - one conditional GET of one feed; returns the new items and updates
  the feed's durable state. An unchanged feed costs one 304, except right after a restart that
  left items of the feed emitted but unstored: then one full GET finds them again. A server that
  ignores conditional GETs costs a download but no parse when the document is byte-identical to
  the last one read (outcome ``unchanged``). It never raises for feed or network errors: the error
  is logged with the feed, URL and a bounded ``error_code``, counted
  (``cashwatch_feed_errors_total{feed,error_code}``, ``cashwatch_errors_total{stage="poll_feed"}``)
  and recorded in the feed state, and the feed backs off exponentially (``backoff_s``,
  ``next_due``, ``consecutive_errors`` in :class:`FeedState`), at least as long as a
  ``Retry-After`` asks. Returned items are *claimed* (in flight): no later poll in this process
  returns them again until :meth:`ProducerState.release` or a restart; once
  :meth:`ProducerState.mark_done` records them (after their analysis is stored) no poll ever does.
- :meth:`Producer.fetch_page` - the page of one item (never raises for data errors).

Concurrency: at most ``http.per_host_concurrency`` requests per host and ``http.max_concurrency``
in all, across feeds and pages. Feed error codes: those of :mod:`cashwatch.producers.http` plus
``not_feed`` (an HTML page or other document where a feed should be) and ``malformed_feed`` (not
parseable as a feed and no items recovered).

Items: titles and summaries are plain text (:func:`~cashwatch.producers.clean.plain_text`), the
URL is canonical (tracking parameters stripped) and ``article_id = article_id_for(url)``. An item
without a usable link still travels, under a synthetic URL ``<feed url>#cashwatch-no-link-<hash>``,
and its page is an error page with ``error_code="no_link"``; so the title and summary can still be
analysed and nothing vanishes. Items without a date get ``published=None``. ``source`` is the
publisher: the entry's RSS ``<source>`` name, else the link's host without ``www.``. Items
repeated in one document are emitted once; a GUID shared by different links is not trusted for
those items.
"""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import html
import io
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import feedparser

from cashwatch import metrics
from cashwatch.config import FeedConfig, Settings
from cashwatch.logs import get_logger
from cashwatch.models import FeedItem, Page, article_id_for
from cashwatch.producers.clean import canonical_url, plain_text
from cashwatch.producers.http import FetchError, SafeHttpClient
from cashwatch.producers.pages import PageFetcher
from cashwatch.producers.state import FeedState, ProducerState

log = get_logger("cashwatch.producers.rss")

FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
               "application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5")
NOT_FEED_TYPES = ("image/", "audio/", "video/", "application/pdf", "application/zip", "font/")
# feedparser "bozo" reasons that do not make a document unusable.
SOFT_BOZO = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


def _soft_bozo(exc: object) -> bool:
    """A parse complaint that does not make the document unusable: an encoding override, a non-XML
    content type, or HTML entities (``&pound;``, ``&nbsp;``) that XML does not define - common in
    UK feeds and read correctly by feedparser's lenient parser."""
    return isinstance(exc, SOFT_BOZO) or "undefined entity" in str(exc)
MAX_RETRY_AFTER_S = 86400.0
MAX_TITLE_CHARS = 1000
MAX_SUMMARY_CHARS = 10_000


def _looks_like_html(body: bytes) -> bool:
    head = body[:4096].lstrip().lower()
    if head.startswith(b"<?xml"):
        head = head[head.find(b"?>") + 2:].lstrip() if b"?>" in head else head
    return head.startswith((b"<!doctype html", b"<html")) or (b"<body" in head and b"<rss" not in head
                                                                 and b"<feed" not in head and b"<rdf" not in head)


_ALTERNATE = re.compile(rb"<link\b[^>]*>", re.I)


def _advertised_feed(body: bytes, base: str) -> str | None:
    """The feed an HTML page advertises (``<link rel="alternate" type="application/rss+xml">``),
    to name in the error: the configured URL is probably the site's page rather than its feed."""
    for tag in _ALTERNATE.findall(body[:200_000]):
        t = tag.decode("latin-1").lower()
        if "alternate" in t and ("rss+xml" in t or "atom+xml" in t):
            m = re.search(r"""href\s*=\s*["']?([^"'\s>]+)""", tag.decode("latin-1"), re.I)
            if m:
                return urljoin(base, html.unescape(m.group(1)))
    return None


def _entry_date(entry) -> dt.datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return dt.datetime(*value[:6], tzinfo=dt.timezone.utc)
            except (TypeError, ValueError, OverflowError):
                continue
    return None


def _first_text(entry, *keys: str) -> str:
    for key in keys:
        value = entry.get(key)
        if isinstance(value, str) and value.strip():
            return value
    content = entry.get("content")
    if content:
        for part in content:
            value = part.get("value") if isinstance(part, dict) else None
            if value and value.strip():
                return value
    return ""


@dataclass(frozen=True)
class PollStats:
    """What one parsed feed document held: entries, usable items, new items, entries dropped
    (no title, summary or link; or unreadable), each dropped one logged and counted."""

    entries: int
    items: int
    new: int
    dropped: int


def _source_of(url: str, feed: FeedConfig, entry_source: object = None) -> str:
    """The publisher of an item: the entry's own RSS ``<source>`` name (news-search feeds such as
    Google News name the publisher there), else its link's host without ``www.``, else the feed's
    name when the item has no link of its own."""
    if isinstance(entry_source, dict):
        name = plain_text(entry_source.get("title") if isinstance(entry_source.get("title"), str) else "", 200)
        if name:
            return name
    if "#cashwatch-no-link-" not in url:
        host = (urlsplit(url).hostname or "").lower()
        if host:
            return host[4:] if host.startswith("www.") else host
    return feed.name or feed.id


class Producer:
    """Polls feeds and fetches pages (see module docstring). One instance per process."""

    def __init__(self, settings: Settings, state: ProducerState, *, clock: Callable[[], float] = time.time,
                 rng: random.Random | None = None) -> None:
        self.settings = settings
        self.config = settings.http
        self.state = state
        self.clock = clock
        self.rng = rng or random.Random()
        self.client = SafeHttpClient(settings.http)
        self.pages = PageFetcher(self.client, settings.http)
        self.last_poll: dict[str, PollStats] = {}  # feed id -> what its last parsed document held
        self._last_body: dict[str, tuple[str, str]] = {}  # feed id -> (url, SHA-256) of the last parsed body
        self._host_limits: dict[str, asyncio.Semaphore] = {}
        self._all_limit: asyncio.Semaphore | None = None

    # ------------------------------------------------------------------ limits

    @contextlib.asynccontextmanager
    async def _limit(self, url: str):
        host = (urlsplit(url).hostname or "").lower()
        if self._all_limit is None:
            self._all_limit = asyncio.Semaphore(self.config.max_concurrency)
        sem = self._host_limits.get(host)
        if sem is None:
            sem = self._host_limits[host] = asyncio.Semaphore(self.config.per_host_concurrency)
        async with sem, self._all_limit:
            yield

    # ------------------------------------------------------------------ one poll

    async def poll_feed(self, feed: FeedConfig) -> list[FeedItem]:
        """Poll ``feed`` once; return its new, unclaimed items (oldest first) and update its state.

        Never raises for feed or network errors (see module docstring)."""
        st = self.state.feed_state(feed.id)
        headers: dict[str, str] = {}
        full = self.state.needs_full_get(feed.id)
        # Validators belong to the URL they came from, and are not sent while items an earlier run
        # emitted are still unstored (a 304 would hide them: see ProducerState.needs_full_get).
        if st.url == feed.url and not full:
            if st.etag:
                headers["If-None-Match"] = st.etag
            if st.last_modified:
                headers["If-Modified-Since"] = st.last_modified
        ctx = {"feed": feed.id, "url": feed.url}
        try:
            async with self._limit(feed.url):
                resp = await self.client.get(feed.url, max_bytes=self.config.max_feed_bytes,
                                             headers=headers, accept=FEED_ACCEPT)
        except FetchError as exc:
            self._failed(feed, st, exc.error_code, str(exc), exc.retry_after_s, exc.status)
            return []
        except Exception as exc:  # a bug must not stop the other feeds; it is logged and counted
            log.error("feed_poll_bug", error=str(exc), error_code="internal_error", exc_info=True, **ctx)
            self._failed(feed, st, "internal_error", f"{type(exc).__name__}: {exc}", None, None)
            return []
        if resp.status == 304:
            self._succeeded(feed, st, "not_modified", 0, st.etag, st.last_modified)
            return []
        if resp.content_type.startswith(NOT_FEED_TYPES):
            self._failed(feed, st, "not_feed", f"{resp.url} is {resp.content_type}, not a feed", None, resp.status)
            return []
        if not resp.body.strip():
            self._failed(feed, st, "malformed_feed", f"{resp.url} returned an empty document", None, resp.status)
            return []
        digest = hashlib.sha256(resp.body).hexdigest()
        if not full and self._last_body.get(feed.id) == (feed.url, digest):
            # Byte-identical to the document this process last read (many servers ignore conditional
            # GETs): its items are all in flight or done already, so skip the parse.
            self._succeeded(feed, st, "unchanged", 0, resp.headers.get("etag"), resp.headers.get("last-modified"))
            return []
        loop = asyncio.get_running_loop()
        try:
            parsed = await loop.run_in_executor(None, self._parse, resp.body, resp.headers, resp.url)
        except Exception as exc:  # feedparser itself broke on this document
            self._failed(feed, st, "malformed_feed", f"feed parser failed: {type(exc).__name__}: {exc}", None, resp.status)
            return []
        entries = parsed.get("entries") or []
        bozo_exc = parsed.get("bozo_exception") if parsed.get("bozo") else None
        if not entries:
            if resp.content_type in ("text/html", "application/xhtml+xml") or _looks_like_html(resp.body):
                if not parsed.get("version"):
                    hint = _advertised_feed(resp.body, resp.url)
                    self._failed(feed, st, "not_feed", f"{resp.url} is an HTML page, not a feed"
                                 + (f"; the page advertises a feed at {hint}" if hint else ""), None, resp.status)
                    return []
            if bozo_exc is not None and not _soft_bozo(bozo_exc):
                self._failed(feed, st, "malformed_feed", f"{resp.url}: {type(bozo_exc).__name__}: {bozo_exc}"[:500],
                             None, resp.status)
                return []
        note: tuple[str, str] | None = None
        if entries and bozo_exc is not None and not _soft_bozo(bozo_exc):
            # Broken, but the parser recovered items: use them, and still count and log the breakage.
            note = ("malformed_feed", f"{resp.url}: {type(bozo_exc).__name__}: {bozo_exc} (items recovered)"[:500])
            metrics.FEED_ERRORS.labels(feed.id, "malformed_feed").inc()
            metrics.ERRORS.labels("poll_feed", "malformed_feed").inc()
            log.warning("feed_malformed_but_usable", error_code="malformed_feed", error=str(bozo_exc)[:200],
                        entries=len(entries), **ctx)
        items, dropped = self._items(feed, entries, resp.url)
        new, _all_done = self.state.claim_many(items, feed.id)
        self._last_body[feed.id] = (feed.url, digest)
        self.last_poll[feed.id] = PollStats(entries=len(entries), items=len(items), new=len(new), dropped=dropped)
        etag, last_modified = resp.headers.get("etag"), resp.headers.get("last-modified")
        self._succeeded(feed, st, "ok" if entries else "empty", len(new), etag, last_modified, note)
        if new:
            metrics.ITEMS_NEW.labels(feed.id).inc(len(new))
        return new

    @staticmethod
    def _parse(body: bytes, headers: dict[str, str], url: str):
        # A BytesIO, never the bytes themselves: feedparser tries to open() a bytes argument as a path.
        # No sanitising or URI rewriting inside content: plain_text drops every tag anyway, and drops
        # script/style bodies that feedparser's sanitiser leaves behind as text when a tag is malformed.
        response_headers = {k: v for k, v in headers.items() if k in ("content-type", "content-language")}
        response_headers["content-location"] = url
        return feedparser.parse(io.BytesIO(body), response_headers=response_headers, sanitize_html=False,
                                resolve_relative_uris=False)

    def _items(self, feed: FeedConfig, entries, base_url: str) -> tuple[list[FeedItem], int]:
        """Feed entries -> (FeedItems oldest first with repeats collapsed, entries dropped as unusable)."""
        candidates: list[tuple[str | None, str, dict]] = []
        dropped = 0
        for entry in entries:
            try:
                guid = entry.get("id") or entry.get("guid")
                guid = guid.strip()[:500] if isinstance(guid, str) and guid.strip() else None
                link = entry.get("link") if isinstance(entry.get("link"), str) else None
                if not (link and link.strip().lower().startswith(("http://", "https://"))):
                    link = guid if guid and guid.lower().startswith(("http://", "https://")) else None
                title = plain_text(_first_text(entry, "title"), MAX_TITLE_CHARS)
                summary = plain_text(_first_text(entry, "summary", "description"), MAX_SUMMARY_CHARS)
                if not (title or summary or link):
                    dropped += 1
                    metrics.ERRORS.labels("feed_item", "empty_item").inc()
                    log.warning("feed_item_dropped", error_code="empty_item", feed=feed.id, url=base_url, guid=guid)
                    continue
                if link:
                    url = canonical_url(link)
                else:
                    digest = hashlib.sha256((guid or f"{title}\n{summary}").encode("utf-8")).hexdigest()[:16]
                    url = f"{canonical_url(feed.url)}#cashwatch-no-link-{digest}"
                    metrics.ERRORS.labels("feed_item", "no_link").inc()
                    log.warning("feed_item_without_link", error_code="no_link", feed=feed.id, url=base_url,
                                guid=guid, title=title[:120])
                published = _entry_date(entry)
                source = _source_of(url, feed, entry.get("source"))
                candidates.append((guid, url, {"title": title, "summary": summary, "published": published,
                                               "source": source}))
            except Exception as exc:  # one odd entry must not lose the others
                dropped += 1
                metrics.ERRORS.labels("feed_item", "bad_item").inc()
                log.warning("feed_item_dropped", error_code="bad_item", feed=feed.id, url=base_url,
                            error=f"{type(exc).__name__}: {exc}")
        # A GUID that names different links in one document identifies nothing: drop it for those items.
        urls_by_guid: dict[str, set[str]] = {}
        for guid, url, _ in candidates:
            if guid:
                urls_by_guid.setdefault(guid, set()).add(url)
        ambiguous = {g for g, urls in urls_by_guid.items() if len(urls) > 1}
        if ambiguous:
            metrics.ERRORS.labels("feed_item", "duplicate_guid").inc(len(ambiguous))
            log.warning("feed_duplicate_guids", error_code="duplicate_guid", feed=feed.id, url=base_url,
                        guids=sorted(ambiguous)[:5])
        items: list[FeedItem] = []
        seen_urls: set[str] = set()
        for guid, url, fields in reversed(candidates):  # feeds list newest first; emit oldest first
            if url in seen_urls:
                continue
            seen_urls.add(url)
            items.append(FeedItem(
                article_id=article_id_for(url), feed_id=feed.id, guid=None if guid in ambiguous else guid,
                url=url, place_hint=feed.place_hint, **fields,
            ))
        return items, dropped

    # ------------------------------------------------------------------ state updates

    def _jittered(self, seconds: float) -> float:
        j = self.config.jitter_fraction
        return seconds * (1.0 + self.rng.uniform(-j, j)) if j else seconds

    def _succeeded(self, feed: FeedConfig, st: FeedState, outcome: str, new: int,
                   etag: str | None, last_modified: str | None, note: tuple[str, str] | None = None) -> None:
        now = self.clock()
        last_code, last_error = note if note else (st.last_error_code, st.last_error)
        self.state.save_feed_state(FeedState(
            feed_id=feed.id, url=feed.url, etag=etag, last_modified=last_modified,
            next_due=now + self._jittered(feed.poll_interval_s), backoff_s=0.0, consecutive_errors=0,
            last_error_code=last_code, last_error=last_error, last_outcome=outcome,
            last_polled=now, last_ok=now, polls=st.polls + 1,
            not_modified=st.not_modified + (outcome == "not_modified"), errors=st.errors + (note is not None),
            items_new=st.items_new + new, first_new_at=st.first_new_at or (now if new else None),
            last_new_at=now if new else st.last_new_at, new_polls=st.new_polls + (new > 0),
        ))
        metrics.FEED_POLLS.labels(feed.id, outcome).inc()
        if outcome == "not_modified":
            metrics.FEED_NOT_MODIFIED.labels(feed.id).inc()
        # "unchanged" (a 200 with the very bytes already read) is counted as a poll outcome only.
        if st.consecutive_errors:
            log.info("feed_recovered", feed=feed.id, url=feed.url, after_errors=st.consecutive_errors)
            metrics.FEEDS_BACKING_OFF.set(self.state.backing_off_count())
        log.debug("feed_polled", feed=feed.id, url=feed.url, outcome=outcome, new=new)

    def _failed(self, feed: FeedConfig, st: FeedState, code: str, message: str,
                retry_after_s: float | None, status: int | None) -> None:
        now = self.clock()
        errors = st.consecutive_errors + 1
        cfg = self.config
        backoff = min(cfg.backoff_max_s, max(feed.poll_interval_s, cfg.backoff_initial_s * 2 ** (errors - 1)))
        delay = self._jittered(backoff)
        if retry_after_s is not None:
            # Retry-After is a floor the server asked for; jitter may only add to it.
            delay = max(delay, min(retry_after_s, MAX_RETRY_AFTER_S))
            backoff = max(backoff, min(retry_after_s, MAX_RETRY_AFTER_S))
        self.state.save_feed_state(FeedState(
            feed_id=feed.id, url=feed.url, etag=st.etag if st.url == feed.url else None,
            last_modified=st.last_modified if st.url == feed.url else None,
            next_due=now + delay, backoff_s=backoff, consecutive_errors=errors,
            last_error_code=code, last_error=message[:500], last_outcome="error",
            last_polled=now, last_ok=st.last_ok, polls=st.polls + 1, not_modified=st.not_modified,
            errors=st.errors + 1, items_new=st.items_new, first_new_at=st.first_new_at,
            last_new_at=st.last_new_at, new_polls=st.new_polls,
        ))
        metrics.FEED_POLLS.labels(feed.id, "error").inc()
        metrics.FEED_ERRORS.labels(feed.id, code).inc()
        metrics.ERRORS.labels("poll_feed", code).inc()
        metrics.FEEDS_BACKING_OFF.set(self.state.backing_off_count())
        # One line per failing feed only at debug level: with the network down, 46 of them say nothing
        # that the monitor's summary line ("0 of 46 feeds reachable", cashwatch/health.py) does not.
        log.debug("feed_poll_failed", feed=feed.id, url=feed.url, error_code=code, error=message[:300],
                  status=status, consecutive_errors=errors, retry_in_s=round(delay, 1))

    # ------------------------------------------------------------------ pages

    async def fetch_page(self, item: FeedItem) -> Page:
        """The page of ``item``: HTML, or an error page (never raises for data or network errors)."""
        try:
            async with self._limit(item.url):
                return await self.pages.fetch(item)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must not lose the item: it travels as an error page
            log.error("page_fetch_bug", feed=item.feed_id, url=item.url, error=str(exc), exc_info=True)
            metrics.ERRORS.labels("fetch_page", "internal_error").inc()
            return Page(article_id=item.article_id, item=item, error_code="internal_error",
                        error=f"{type(exc).__name__}: {exc}"[:500])

    # ------------------------------------------------------------------ the loop

    async def poll_and_emit(self, feed: FeedConfig, out: asyncio.Queue) -> int:
        """Poll ``feed`` and put one Page per new item on ``out`` (in item order); returns how many."""
        items = await self.poll_feed(feed)
        if not items:
            return 0
        tasks = [asyncio.create_task(self.fetch_page(it)) for it in items]
        emitted = 0
        try:
            for it, task in zip(items, tasks):
                page = await task
                await out.put(page)
                emitted += 1
        except asyncio.CancelledError:
            for it, task in list(zip(items, tasks))[emitted:]:
                task.cancel()
                self.state.release(it)  # not emitted: let a later poll (or the next start) have it
            raise
        return emitted

    async def run(self, out: asyncio.Queue, stop: asyncio.Event) -> None:
        """Poll every enabled feed on its own interval until ``stop`` is set (see module docstring).

        A feed's next poll time comes from its durable state, so a restart keeps backoffs and does
        not hammer a feed that asked to be left alone."""
        feeds = [f for f in self.settings.feeds if f.enabled]
        due = {f.id: self.state.feed_state(f.id).next_due for f in feeds}
        running: dict[str, asyncio.Task] = {}
        metrics.FEEDS_BACKING_OFF.set(self.state.backing_off_count())
        log.info("producer_started", feeds=len(feeds))
        try:
            while not stop.is_set():
                now = self.clock()
                for feed in feeds:
                    if feed.id not in running and due[feed.id] <= now:
                        running[feed.id] = asyncio.create_task(self.poll_and_emit(feed, out), name=f"poll:{feed.id}")
                for fid, task in list(running.items()):
                    if task.done():
                        del running[fid]
                        if not task.cancelled() and task.exception() is not None:
                            exc = task.exception()
                            log.error("feed_cycle_failed", feed=fid, error=str(exc), error_code="internal_error")
                        due[fid] = self.state.feed_state(fid).next_due
                waits = [due[f.id] - now for f in feeds if f.id not in running]
                timeout = min([w for w in waits if w > 0] + [1.0])
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=max(0.05, timeout))
        finally:
            for task in running.values():
                task.cancel()
            if running:
                await asyncio.gather(*running.values(), return_exceptions=True)
            log.info("producer_stopped")

    async def aclose(self) -> None:
        """Close the HTTP client. Call once, after ``run`` returned."""
        await self.client.aclose()
