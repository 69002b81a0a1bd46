"""The simulated newsroom: a real HTTP server on loopback serving RSS feeds and article pages.

Given a corpus of articles (dicts with ``id, url, source, published, title, text``), it serves

- one RSS 2.0 feed per source at ``/feeds/<source slug>.xml``: the visible items, newest first, each
  with ``guid``, ``link``, ``title``, ``description``, ``pubDate`` and ``<source>`` (the corpus source
  name, which the producer takes as the item's publisher); ``ETag`` and ``Last-Modified``
  headers, answering ``If-None-Match`` / ``If-Modified-Since`` with ``304``;
- one HTML page per article at ``/<source slug>/<article id>.html``, rendered by
  :func:`cashwatch.newsroom.pages.render_article_page` (real-world boilerplate around the story;
  a plain page when that module is not available);
- ``/robots.txt`` (``Disallow`` lines from :attr:`Newsroom.robots_disallow`);
- raw documents added with :meth:`Newsroom.add_raw_feed` at ``/raw/<name>``, byte for byte.

Items appear over time: ``base_feed_items`` (per feed) are visible at start, :meth:`release` makes
more visible (oldest first), and ``release_every_s`` does that on a timer.

Misbehaviour is switched per target (a source name, a raw feed name or an article id) with
:meth:`set_fault`; switches apply to the feed or page they name, for good or, with ``times=n``,
for the next n requests only:

====================  ==========================================================================
fault                 what the server does
====================  ==========================================================================
``slow``              waits ``delay_s`` (default 2) before answering normally
``error_500``         answers 500 (``status`` to choose another code)
``retry_after``       answers ``status`` (default 503) with ``Retry-After: seconds`` (default 120)
``malformed_xml``     a broken document: ``mode="broken"`` (no item recoverable, default) or
                      ``mode="recoverable"`` (unescaped ``&`` in titles, items still readable)
``html_error``        200 with an HTML "page not found" page where the feed should be
``huge``              200 streaming ``size`` bytes (default 20 MB)
``gzip_bomb``         ``Content-Encoding: gzip``, ~64 KB that inflate to ``size`` (default 64 MB)
``wrong_charset``     body in Windows-1252, declared UTF-8 (header and document)
``no_charset``        body in Windows-1252, no charset declared anywhere
``redirect_loop``     302 to ``?hop=1``, which 302s back to the original URL
``redirect_once``     301 to the same URL with ``?moved=1`` (which answers normally)
``consent_redirect``  302 to ``?consent-return=1``, which sets a ``consent`` cookie and 302s back
``redirect_chain``    ``hops`` (default 10) distinct 302s (``?chain=1``, ``?chain=2``, ...), then normal
``hang``              accepts the request and never answers (until the server stops)
``duplicate_guids``   feed: every item listed twice, and pairs of items share one GUID
``no_link``           feed: items without ``<link>`` (GUID not a permalink)
``no_date``           feed: items without ``<pubDate>``
``not_html``          page: a PDF instead of HTML
====================  ==========================================================================

Every request is recorded (:attr:`Newsroom.requests`, :meth:`hits`). Use from async code
(``await start()`` → base URL, ``await stop()``) or from sync code with :class:`NewsroomThread`.
``python -m cashwatch.newsroom.server CORPUS.jsonl --port 8080`` serves a corpus in the foreground.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import email.utils
import gzip
import hashlib
import html
import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote
from xml.sax.saxutils import escape as xml_escape

from aiohttp import web

FEED_FAULTS = ("slow", "error_500", "retry_after", "malformed_xml", "html_error", "huge", "gzip_bomb",
               "wrong_charset", "no_charset", "redirect_loop", "redirect_once", "redirect_chain", "consent_redirect",
               "hang", "duplicate_guids", "no_link", "no_date")
PAGE_FAULTS = ("slow", "error_500", "retry_after", "huge", "gzip_bomb", "wrong_charset", "no_charset",
               "redirect_loop", "redirect_once", "redirect_chain", "consent_redirect", "hang", "not_html", "html_error")
TWENTY_MB = 20 * 1024 * 1024
_bomb_cache: dict[int, bytes] = {}


def slugify(value: str) -> str:
    """A URL-safe slug of a source name (``"BBC News"`` → ``bbc-news``)."""
    slug = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")
    return slug or "source"


def _gzip_bomb(size: int) -> bytes:
    """gzip of an XML/HTML-looking prefix and ``size`` bytes of spaces (cached per size)."""
    if size not in _bomb_cache:
        prefix = b"<?xml version='1.0'?><rss version='2.0'><channel><title>bomb</title>"
        comp = gzip.compress(prefix + b" " * size, compresslevel=9, mtime=0)
        _bomb_cache[size] = comp
    return _bomb_cache[size]


def _date_of(article: dict) -> dt.datetime | None:
    value = article.get("published")
    if not value or value == "None":
        return None
    try:
        d = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.timezone.utc)
    if len(str(value)) <= 10:  # a date only: a plausible time of day
        d = d.replace(hour=9)
    return d


def _fallback_page(article: dict, site: str, others: list[dict]) -> str:
    paras = "".join(f"<p>{html.escape(p)}</p>" for p in str(article.get("text", "")).split("\n") if p.strip())
    links = "".join(f'<li><a href="{html.escape(o.get("_url", "#"))}">{html.escape(o.get("title") or "")}</a></li>'
                    for o in others)
    title = html.escape(article.get("title") or "")
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} | {html.escape(site)}"
            f"</title></head><body><header><nav><a href=\"/\">Home</a> <a href=\"/news\">News</a></nav></header>"
            f"<article><h1>{title}</h1>{paras}</article><aside><h2>Related stories</h2><ul>{links}</ul></aside>"
            f"</body></html>")


def render_page(article: dict, site: str, others: list[dict]) -> str:
    """Render with the newsroom's page renderer when present, else a plain page."""
    try:
        from cashwatch.newsroom.pages import render_article_page
    except ImportError:
        return _fallback_page(article, site, others)
    return render_article_page(article, site, others)


@dataclass
class RawFeed:
    name: str
    body: bytes
    content_type: str
    headers: dict[str, str]


@dataclass
class RecordedRequest:
    path: str
    query: str
    status: int
    headers: dict[str, str]
    at: float


class Newsroom:
    """The simulated newsroom server (see module docstring)."""

    def __init__(self, corpus: list[dict], *, base_feed_items: int | None = None, feed_window: int | None = None,
                 release_every_s: float | None = None, robots_disallow: list[str] | None = None) -> None:
        """``base_feed_items``: items visible per feed at start (None: all); ``feed_window``: at most
        that many newest visible items in a feed document (None: all); ``release_every_s``: make one
        more item visible in every feed on that period."""
        self.articles: dict[str, dict] = {}
        self.by_source: dict[str, list[dict]] = {}
        self.slugs: dict[str, str] = {}  # source -> slug
        self._source_of_slug: dict[str, str] = {}
        for i, raw in enumerate(corpus):
            article = dict(raw)
            aid = str(article.get("id") or f"article-{i}")
            article["id"] = aid
            if aid in self.articles:
                raise ValueError(f"corpus line {i + 1}: duplicate article id {aid!r}")
            source = str(article.get("source") or "newsroom")
            article["source"] = source
            article["_order"] = i
            self.articles[aid] = article
            self.by_source.setdefault(source, []).append(article)
        for source in self.by_source:
            slug = base = slugify(source)
            n = 2
            while slug in self._source_of_slug:
                slug, n = f"{base}-{n}", n + 1
            self.slugs[source] = slug
            self._source_of_slug[slug] = source
        for items in self.by_source.values():
            # Oldest first; undated items count as oldest, corpus order breaks ties.
            items.sort(key=lambda a: (_date_of(a) or dt.datetime.min.replace(tzinfo=dt.timezone.utc), a["_order"]))
        self.visible: dict[str, int] = {
            s: (len(items) if base_feed_items is None else min(base_feed_items, len(items)))
            for s, items in self.by_source.items()
        }
        self.feed_window = feed_window
        self.held: set[str] = set()
        self.release_every_s = release_every_s
        self.robots_disallow: list[str] = list(robots_disallow or [])
        self.faults: dict[str, dict[str, dict[str, Any]]] = {}
        self.raw: dict[str, RawFeed] = {}
        self.requests: list[RecordedRequest] = []
        self._hits: Counter[str] = Counter()
        self._changed: dict[str, float] = {s: time.time() for s in self.by_source}
        self._page_cache: dict[str, str] = {}
        self._feed_cache: dict[str, tuple] = {}  # source -> (what it depends on, body, encoding, charset)
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None
        self._release_task: asyncio.Task | None = None
        self.base_url = ""

    # ------------------------------------------------------------------ control

    def set_fault(self, target: str, fault: str, **params: Any) -> None:
        """Make ``target`` (source, raw feed name or article id) misbehave with ``fault``."""
        if fault not in FEED_FAULTS and fault not in PAGE_FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {sorted(set(FEED_FAULTS) | set(PAGE_FAULTS))}")
        if fault == "gzip_bomb":  # build it now, not while a client waits for an answer
            _gzip_bomb(int(params.get("size", 64 * 1024 * 1024)))
        self.faults.setdefault(target, {})[fault] = params
        if target in self._changed:
            self._changed[target] = time.time()

    def _take_faults(self, target: str) -> dict[str, dict[str, Any]]:
        """The faults that apply to this request; a fault set with ``times=n`` lasts n requests."""
        faults = self.faults.get(target, {})
        active = dict(faults)
        for name, params in list(faults.items()):
            if "times" in params:
                params["times"] -= 1
                if params["times"] <= 0:
                    del faults[name]
                    if target in self._changed:
                        self._changed[target] = time.time()
        return active

    def clear_fault(self, target: str, fault: str | None = None) -> None:
        """Stop a fault (or all faults) of ``target``."""
        if fault is None:
            self.faults.pop(target, None)
        else:
            self.faults.get(target, {}).pop(fault, None)
        if target in self._changed:
            self._changed[target] = time.time()

    def release(self, n: int = 1, source: str | None = None) -> int:
        """Make ``n`` more items visible in every feed (or in ``source``'s); returns how many appeared."""
        appeared = 0
        for s in ([source] if source is not None else list(self.by_source)):
            before = self.visible[s]
            self.visible[s] = min(len(self.by_source[s]), before + n)
            if self.visible[s] != before:
                appeared += self.visible[s] - before
                self._changed[s] = time.time()
        return appeared

    def add_raw_feed(self, name: str, body: bytes, content_type: str = "application/xml",
                     headers: dict[str, str] | None = None) -> str:
        """Serve ``body`` as is at ``/raw/<name>``; returns its URL (once started)."""
        self.raw[name] = RawFeed(name, body, content_type, dict(headers or {}))
        return self.raw_feed_url(name)

    def raw_feed_url(self, name: str) -> str:
        return f"{self.base_url}/raw/{name}"

    def feed_url(self, source: str) -> str:
        return f"{self.base_url}/feeds/{self.slugs[source]}.xml"

    def feed_urls(self) -> dict[str, str]:
        """Every source's feed URL."""
        return {s: self.feed_url(s) for s in self.by_source}

    def page_url(self, article_id: str) -> str:
        """``<base>/<source slug>/<article id, percent-encoded>.html``."""
        a = self.articles[article_id]
        return f"{self.base_url}/{self.slugs[a['source']]}/{quote(article_id, safe='')}.html"

    def article_for_url(self, url: str) -> dict | None:
        """The corpus article a page URL serves (None if it is not one of ours)."""
        m = re.search(r"/([^/]+)/([^/]+)\.html$", url.split("?", 1)[0].split("#", 1)[0])
        return self.articles.get(unquote(m.group(2))) if m else None

    def visible_articles(self, source: str) -> list[dict]:
        """The visible items of a feed, oldest first (less any held back with :meth:`hold`)."""
        return [a for a in self.by_source[source][: self.visible[source]] if a["id"] not in self.held]

    def hold(self, article_ids) -> None:
        """Keep these articles out of their feeds until :meth:`publish` (a replay feeds them in order)."""
        for aid in article_ids:
            self.held.add(str(aid))
            self._changed[self.articles[str(aid)]["source"]] = time.time()

    def publish(self, article_ids) -> None:
        """Put held articles (back) into their feeds."""
        for aid in article_ids:
            self.held.discard(str(aid))
            self._changed[self.articles[str(aid)]["source"]] = time.time()

    def hits(self, path: str) -> int:
        """How many requests a path (or full URL of this server) received."""
        if path.startswith(self.base_url):
            path = path[len(self.base_url):]
        return self._hits[path.split("?", 1)[0]]

    # ------------------------------------------------------------------ lifecycle

    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._record])
        app.router.add_get("/robots.txt", self._robots)
        app.router.add_get("/feeds/{slug}.xml", self._feed)
        app.router.add_get("/raw/{name:.+}", self._raw)
        app.router.add_get("/{slug}/{aid}.html", self._page)
        app.router.add_get("/", self._index)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving; returns the base URL (``http://host:port``)."""
        self._stopping = asyncio.Event()
        # handle_signals=False: the caller owns the signals; a short shutdown_timeout so that a request
        # in flight (a "slow" fault, a client keeping the connection open) delays stopping by 0.25 s at most
        self._runner = web.AppRunner(self.make_app(), access_log=None, handle_signals=False, shutdown_timeout=0.25)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, backlog=1024)
        await site.start()
        sock = site._server.sockets[0]  # the port actually bound when 0 was asked
        bound = sock.getsockname()[1]
        self.base_url = f"http://{host}:{bound}"
        if self.release_every_s:
            self._release_task = asyncio.create_task(self._release_loop())
        return self.base_url

    async def _release_loop(self) -> None:
        while True:
            await asyncio.sleep(self.release_every_s)
            self.release(1)

    async def stop(self) -> None:
        if self._stopping is not None:
            self._stopping.set()
        if self._release_task is not None:
            self._release_task.cancel()
            self._release_task = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "Newsroom":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    # ------------------------------------------------------------------ handlers

    @web.middleware
    async def _record(self, request: web.Request, handler):
        self._hits[request.path] += 1
        status = 500
        try:
            resp = await handler(request)
            status = resp.status
            return resp
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            self.requests.append(RecordedRequest(request.path, request.query_string, status,
                                                 dict(request.headers), time.time()))

    async def _index(self, request: web.Request) -> web.Response:
        links = "".join(f'<li><a href="{html.escape(u)}">{html.escape(s)}</a></li>' for s, u in self.feed_urls().items())
        return web.Response(text=f"<!DOCTYPE html><html><body><h1>Newsroom</h1><ul>{links}</ul></body></html>",
                            content_type="text/html")

    async def _robots(self, request: web.Request) -> web.Response:
        lines = ["User-agent: *"] + [f"Disallow: {d}" for d in self.robots_disallow]
        if not self.robots_disallow:
            lines.append("Disallow:")
        return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")

    async def _common_faults(self, request: web.Request, faults: dict[str, dict], kind: str):
        """Faults shared by feeds and pages; returns a response to send instead, or None."""
        if "slow" in faults:
            await asyncio.sleep(float(faults["slow"].get("delay_s", 2.0)))
        if "hang" in faults:
            await self._stopping.wait()
            raise web.HTTPServiceUnavailable()
        if "redirect_loop" in faults:
            target = request.path if request.query.get("hop") else f"{request.path}?hop=1"
            return web.Response(status=302, headers={"Location": target})
        if "consent_redirect" in faults and request.cookies.get("consent") != "yes":
            # Like many news sites: an unknown reader goes through a consent page that sets a cookie
            # and sends them back to the very same URL.
            if request.query.get("consent-return"):
                resp = web.Response(status=302, headers={"Location": request.path})
                resp.set_cookie("consent", "yes")
                return resp
            return web.Response(status=302, headers={"Location": f"{request.path}?consent-return=1"})
        if "redirect_chain" in faults:
            hop = int(request.query.get("chain", "0"))
            if hop < int(faults["redirect_chain"].get("hops", 10)):
                return web.Response(status=302, headers={"Location": f"{request.path}?chain={hop + 1}"})
        if "redirect_once" in faults and not request.query.get("moved"):
            return web.Response(status=301, headers={"Location": f"{request.path}?moved=1"})
        if "error_500" in faults:
            status = int(faults["error_500"].get("status", 500))
            return web.Response(status=status, text="Internal Server Error", content_type="text/plain")
        if "retry_after" in faults:
            p = faults["retry_after"]
            return web.Response(status=int(p.get("status", 503)), text="Come back later",
                                headers={"Retry-After": str(p.get("seconds", 120))}, content_type="text/plain")
        if "html_error" in faults:
            body = ("<!DOCTYPE html><html><head><title>Page not found</title></head><body><h1>Sorry, we "
                    "couldn't find that page</h1><p>It may have moved. <a href=\"/\">Go to the home page</a>.</p>"
                    "</body></html>")
            return web.Response(text=body, content_type="text/html", charset="utf-8")
        if "huge" in faults:
            return await self._huge(request, int(faults["huge"].get("size", TWENTY_MB)), kind)
        if "gzip_bomb" in faults:
            size = int(faults["gzip_bomb"].get("size", 64 * 1024 * 1024))
            # Built once per size, off the event loop: compressing 64 MB takes about a second.
            bomb = _bomb_cache.get(size) or await asyncio.get_running_loop().run_in_executor(None, _gzip_bomb, size)
            ctype = "application/rss+xml" if kind == "feed" else "text/html"
            return web.Response(body=bomb, headers={"Content-Encoding": "gzip", "Content-Type": ctype})
        return None

    async def _huge(self, request: web.Request, size: int, kind: str) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/rss+xml" if kind == "feed" else "text/html"})
        await resp.prepare(request)
        head = (b"<?xml version='1.0'?><rss version='2.0'><channel><title>huge</title>" if kind == "feed"
                else b"<!DOCTYPE html><html><body>")
        chunk = b"<!-- " + b"x" * (64 * 1024 - 9) + b" -->"
        sent = 0
        try:
            await resp.write(head)
            while sent < size:
                await resp.write(chunk)
                sent += len(chunk)
        except (ConnectionResetError, ConnectionError, RuntimeError):
            pass  # the client hung up after its cap: that is the point
        return resp

    async def _feed(self, request: web.Request) -> web.StreamResponse:
        source = self._source_of_slug.get(request.match_info["slug"])
        if source is None:
            raise web.HTTPNotFound(text="no such feed")
        faults = self._take_faults(source)
        sent = await self._common_faults(request, faults, "feed")
        if sent is not None:
            return sent
        key = (self.visible[source], repr(sorted(faults.items())), self.feed_window, self.base_url,
               tuple(sorted(a["id"] for a in self.by_source[source] if a["id"] in self.held)))
        cached = self._feed_cache.get(source)
        if cached is None or cached[0] != key:
            cached = self._feed_cache[source] = (key, *self._feed_xml(source, faults))
        _, body, encoding, declared = cached
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        last_modified = email.utils.formatdate(int(self._changed[source]), usegmt=True)
        headers = {"ETag": etag, "Last-Modified": last_modified, "Cache-Control": "max-age=60"}
        if self._not_modified(request, etag, int(self._changed[source])):
            return web.Response(status=304, headers=headers)
        ctype = "application/rss+xml" + (f"; charset={declared}" if declared else "")
        headers["Content-Type"] = ctype
        return web.Response(body=body, headers=headers)

    @staticmethod
    def _not_modified(request: web.Request, etag: str, changed: int) -> bool:
        inm = request.headers.get("If-None-Match")
        if inm is not None:
            return etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*"
        ims = request.headers.get("If-Modified-Since")
        if ims:
            try:
                since = email.utils.parsedate_to_datetime(ims)
            except (TypeError, ValueError):
                return False
            return since is not None and since.timestamp() >= changed
        return False

    def _feed_xml(self, source: str, faults: dict[str, dict]) -> tuple[bytes, str, str | None]:
        """The feed document: (body, encoding used, charset declared or None)."""
        items = list(reversed(self.visible_articles(source)))  # newest first
        if self.feed_window is not None:
            items = items[: self.feed_window]
        entries: list[tuple[dict, str]] = []  # (article, guid)
        for k, a in enumerate(items):
            guid = self.page_url(a["id"])
            if "duplicate_guids" in faults:
                guid = f"{self.base_url}/guid/{source}-{k // 2}"
            entries.append((a, guid))
        if "duplicate_guids" in faults:
            entries = entries + entries
        recoverable = faults.get("malformed_xml", {}).get("mode") == "recoverable"
        parts = []
        for a, guid in entries:
            title = a.get("title") or ""
            text = str(a.get("text") or "")
            summary = text[:280].rsplit(" ", 1)[0] + ("..." if len(text) > 280 else "")
            t = title.replace("<", "&lt;") if recoverable else xml_escape(title)
            p = ["<item>", f"<title>{t}{' & more' if recoverable else ''}</title>"]
            if "no_link" in faults:
                p.append(f'<guid isPermaLink="false">{xml_escape(source)}-{xml_escape(a["id"])}</guid>')
            else:
                p.append(f"<link>{xml_escape(self.page_url(a['id']))}</link>")
                p.append(f'<guid isPermaLink="{"false" if "duplicate_guids" in faults else "true"}">{xml_escape(guid)}</guid>')
            p.append(f"<description>{xml_escape(summary)}</description>")
            p.append(f'<source url="{xml_escape(self.feed_url(source))}">{xml_escape(source)}</source>')
            when = _date_of(a)
            if when is not None and "no_date" not in faults:
                p.append(f"<pubDate>{email.utils.format_datetime(when.astimezone(dt.timezone.utc), usegmt=True)}</pubDate>")
            p.append("</item>")
            parts.append("".join(p))
        encoding, declared = "utf-8", "utf-8"
        if "wrong_charset" in faults:
            encoding, declared = "cp1252", "utf-8"
        elif "no_charset" in faults:
            encoding, declared = "cp1252", None
        decl = f'<?xml version="1.0" encoding="{declared}"?>' if declared else '<?xml version="1.0"?>'
        channel = (f"<channel><title>{xml_escape(source)}</title><link>{self.base_url}/{self.slugs[source]}/</link>"
                   f"<description>Latest news from {xml_escape(source)}</description><language>en-gb</language>")
        doc = f'{decl}\n<rss version="2.0">{channel}{"".join(parts)}</channel></rss>\n'
        if "malformed_xml" in faults and not recoverable:
            doc = f'{decl}\n<rss version="2.0"><channel><title>{xml_escape(source)}</<<item <title=&&& \x01'
        return doc.encode(encoding, errors="replace"), encoding, declared

    async def _page(self, request: web.Request) -> web.StreamResponse:
        aid = request.match_info["aid"]
        article = self.articles.get(aid)
        if article is None or self.slugs[article["source"]] != request.match_info["slug"]:
            raise web.HTTPNotFound(text="no such page")
        faults = self._take_faults(aid)
        sent = await self._common_faults(request, faults, "page")
        if sent is not None:
            return sent
        if "not_html" in faults:
            return web.Response(body=b"%PDF-1.4\n% not a web page\n1 0 obj\n<<>>\nendobj\n%%EOF\n",
                                headers={"Content-Type": "application/pdf"})
        page = self._render(article)
        if "wrong_charset" in faults:
            body = page.encode("cp1252", errors="replace")
            return web.Response(body=body, headers={"Content-Type": "text/html; charset=utf-8"})
        if "no_charset" in faults:
            page = re.sub(r"<meta[^>]*charset[^>]*>", "", page, flags=re.I)
            return web.Response(body=page.encode("cp1252", errors="replace"), headers={"Content-Type": "text/html"})
        return web.Response(body=page.encode("utf-8"), headers={"Content-Type": "text/html; charset=utf-8"})

    def _render(self, article: dict) -> str:
        source = article["source"]
        items = self.by_source[source]
        idx = items.index(article)
        cached = self._page_cache.get(article["id"])
        if cached is None:
            others = [dict(o, _url=self.page_url(o["id"]), url=self.page_url(o["id"]))
                      for o in (items[max(0, idx - 3): idx] + items[idx + 1: idx + 4]) if o is not article]
            cached = self._page_cache[article["id"]] = render_page(article, source, others)
        return cached

    async def _raw(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        raw = self.raw.get(name)
        if raw is None:
            raise web.HTTPNotFound(text="no such raw feed")
        faults = self._take_faults(name)
        sent = await self._common_faults(request, faults, "feed")
        if sent is not None:
            return sent
        headers = {"Content-Type": raw.content_type}
        headers.update(raw.headers)
        return web.Response(body=raw.body, headers=headers)


class NewsroomThread:
    """A :class:`Newsroom` on its own event loop in a daemon thread, for sync code (tests, benchmarks).

    ``with NewsroomThread(corpus, ...) as base_url:`` serves until the block ends; the server object is
    ``.newsroom`` (its control methods only change plain attributes and are safe to call from here).
    """

    def __init__(self, corpus: list[dict], host: str = "127.0.0.1", port: int = 0, **kwargs: Any) -> None:
        self.newsroom = Newsroom(corpus, **kwargs)
        self.host, self.port = host, port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="newsroom", daemon=True)

    def _call(self, coro, timeout: float = 30.0):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def start(self) -> str:
        self._thread.start()
        return self._call(self.newsroom.start(self.host, self.port))

    def stop(self) -> None:
        try:
            self._call(self.newsroom.stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def load_corpus(path: str | Path) -> list[dict]:
    """Read a JSONL corpus; a bad line raises ``ValueError`` naming the file and line."""
    out = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: not valid JSON: {exc}") from exc
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a JSONL corpus as a simulated newsroom.")
    parser.add_argument("corpus")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--base-feed-items", type=int, default=None)
    parser.add_argument("--release-every-s", type=float, default=None)
    args = parser.parse_args(argv)
    try:
        corpus = load_corpus(args.corpus)
    except OSError as exc:
        parser.error(f"{args.corpus}: cannot read: {exc.strerror or exc}")
    except ValueError as exc:
        parser.error(str(exc))

    async def serve() -> None:
        room = Newsroom(corpus, base_feed_items=args.base_feed_items,
                        release_every_s=args.release_every_s)
        base = await room.start(args.host, args.port)
        for source, url in room.feed_urls().items():
            print(f"{source}\t{url}", flush=True)
        print(f"serving on {base}", flush=True)
        try:
            await until_signal()
        finally:
            await room.stop()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass


async def until_signal() -> None:
    """Wait for SIGTERM or SIGINT (handled, so the server stops cleanly and at once, with exit status
    0, even as PID 1 in a container, where an unhandled SIGTERM is ignored)."""
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


if __name__ == "__main__":
    main()
