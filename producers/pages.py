"""Fetch the article page of a feed item: robots.txt, size cap, content-type check, charset decoding.

:meth:`PageFetcher.fetch` never raises for data or network errors: it returns a
:class:`~cashwatch.models.Page` with ``html`` set, or with ``error_code``/``error`` set and no html
(the item still travels, so the processors can fall back to the feed's title and summary and the
failure is counted, not lost). Transient failures (timeout, connection errors, 5xx) are retried
once after a short pause, and a 429 once after its ``Retry-After`` when that is at most 30 s,
before giving up.

Error codes: those of :mod:`cashwatch.producers.http` plus ``robots_disallowed``, ``not_html``,
``no_link`` (the item had no usable link) and ``decode_error``.
"""
from __future__ import annotations

import asyncio
import codecs
import re

from cashwatch import metrics
from cashwatch.config import HttpConfig
from cashwatch.logs import get_logger
from cashwatch.models import FeedItem, Page
from cashwatch.producers.http import FetchError, RobotsCache, SafeHttpClient

log = get_logger("cashwatch.producers.pages")

HTML_TYPES = ("text/html", "application/xhtml+xml")
# Content types that may be HTML served carelessly; the body is sniffed.
SNIFF_TYPES = ("", "text/plain", "application/octet-stream", "binary/octet-stream")
TRANSIENT = ("timeout", "connect_error", "http_5xx")
MAX_PAGE_RETRY_AFTER_S = 30.0  # a 429 asking for a longer wait gives an error page instead
_WESTERN_SINGLE_BYTE = {"latin-1", "iso8859-1", "iso8859-15", "cp1252", "ascii"}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_html(body: bytes, header_charset: str | None) -> tuple[str, str]:
    """Decode an HTML body; returns (text, charset used).

    Order: BOM, the header's charset, the page's ``<meta charset>``, UTF-8, Windows-1252 (what a
    UK page without a declaration almost always is), then a replacing UTF-8 decode; except that a
    body that is valid UTF-8 is read as UTF-8 when the header claims a Western single-byte charset. A declared
    charset that fails to decode strictly is treated as wrong, not trusted.
    """
    for bom, enc in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if body.startswith(bom):
            return body[len(bom):].decode(enc, errors="replace"), enc
    meta = _META_CHARSET.search(body[:4096])
    candidates = [_codec(header_charset), _codec(meta.group(1).decode("ascii", "ignore")) if meta else None,
                  "utf-8", "cp1252"]
    if candidates[0] in _WESTERN_SINGLE_BYTE:
        # Servers often default to ISO-8859-1 for pages written in UTF-8; Latin-1 never fails to decode,
        # while text that is not UTF-8 almost never decodes as UTF-8 by chance. So UTF-8 goes first.
        candidates.insert(0, "utf-8")
    for enc in candidates:
        if not enc or enc.startswith("utf-16"):
            continue
        try:
            return body.decode(enc), enc
        except (UnicodeDecodeError, LookupError):
            continue
    return body.decode("utf-8", errors="replace"), "utf-8"


def _looks_like_html(body: bytes) -> bool:
    head = body[:2048].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head or b"<head" in head


class PageFetcher:
    """Fetches article pages with a shared :class:`SafeHttpClient` (see module docstring)."""

    def __init__(self, client: SafeHttpClient, config: HttpConfig, robots: RobotsCache | None = None,
                 retry_delay_s: float = 1.0) -> None:
        self.client = client
        self.config = config
        self.robots = robots if robots is not None else (RobotsCache(client) if config.respect_robots_txt else None)
        self.retry_delay_s = retry_delay_s

    async def fetch(self, item: FeedItem) -> Page:
        """The page of ``item`` (never raises for data or network errors)."""
        ctx = {"feed": item.feed_id, "url": item.url, "article_id": item.article_id}
        if not item.url.startswith(("http://", "https://")) or "#cashwatch-no-link" in item.url:
            return self._error(item, "no_link", f"feed item has no usable link: {item.url!r}", ctx)
        if self.robots is not None:
            try:
                refusal = await self.robots.refusal(item.url)
            except FetchError as exc:  # a blocked host: the page fetch would be refused the same way
                return self._error(item, exc.error_code, str(exc), ctx)
            if refusal is not None:
                return self._error(item, "robots_disallowed", refusal, ctx)
        attempt = 0
        while True:
            try:
                resp = await self.client.get(item.url, max_bytes=self.config.max_page_bytes,
                                             accept="text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
                                             allow_status=())
                break
            except FetchError as exc:
                if exc.error_code in TRANSIENT and attempt < 1:
                    attempt += 1
                    await asyncio.sleep(self.retry_delay_s)
                    continue
                if (exc.error_code == "rate_limited" and attempt < 1 and exc.retry_after_s is not None
                        and exc.retry_after_s <= MAX_PAGE_RETRY_AFTER_S):
                    attempt += 1
                    await asyncio.sleep(exc.retry_after_s)
                    continue
                return self._error(item, exc.error_code, str(exc), ctx, status=exc.status)
        ctype = resp.content_type
        if ctype not in HTML_TYPES and not (ctype in SNIFF_TYPES and _looks_like_html(resp.body)):
            return self._error(item, "not_html", f"{resp.url} is {ctype or 'untyped'}, not an HTML page", ctx,
                               status=resp.status, content_type=ctype, final_url=resp.url)
        text, _charset = decode_html(resp.body, resp.charset)
        metrics.PAGES_FETCHED.labels("ok").inc()
        return Page(article_id=item.article_id, item=item, html=text, final_url=resp.url,
                    status=resp.status, content_type=ctype or None)

    def _error(self, item: FeedItem, code: str, message: str, ctx: dict, *, status: int | None = None,
               content_type: str | None = None, final_url: str | None = None) -> Page:
        metrics.PAGES_FETCHED.labels("error").inc()
        metrics.ERRORS.labels("fetch_page", code).inc()
        metrics.PAGE_ERRORS.labels(item.feed_id, code).inc()
        log.warning("page_fetch_failed", error_code=code, error=message, **ctx)
        return Page(article_id=item.article_id, item=item, error_code=code, error=message,
                    status=status, content_type=content_type, final_url=final_url)
