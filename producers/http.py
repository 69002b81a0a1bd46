"""A safe HTTP client for feeds and pages: SSRF guard, size caps, redirect limit, timeouts, robots.txt.

Every request the producers make goes through :class:`SafeHttpClient`. What it guarantees:

- **SSRF guard**: before connecting, the URL's host is resolved and *every* address it resolves to
  must be public (not private, loopback, link-local, multicast, reserved or unspecified), unless the
  host or the address is allow-listed in ``HttpConfig.allow_hosts`` (host names or CIDRs) or
  ``HttpConfig.allow_private`` is set. The connection is made to the checked addresses (the guard is
  the connector's resolver), so DNS rebinding between check and connect cannot slip through. Every
  redirect hop is checked the same way. Refusal: ``BlockedURLError`` (``blocked_address``).
- **Size caps**: the body is streamed and cut at ``max_bytes`` *after* decompression; the client
  decompresses gzip/deflate itself with a bounded output, so a gzip bomb costs at most the cap
  (``too_large``).
- **Redirects** are followed by hand up to ``HttpConfig.max_redirects``; a URL reached a third
  time is a ``redirect_loop`` (once back is normal: consent pages set a cookie and send the reader
  back; cookies are kept per client), more hops than allowed is ``too_many_redirects``.
- **Timeouts**: connect and per-read timeouts from config, plus a total cap, so a server that accepts
  and never answers (or drips bytes) ends in ``timeout``.
- **Identity**: ``User-Agent: cashwatch/<version> (+<contact url>)``.

Errors are raised as :class:`FetchError` (an ``InputError`` carrying a bounded ``error_code`` and,
for HTTP errors, the status and ``Retry-After`` in seconds). Callers turn them into counted,
logged error records; nothing here retries.

Error codes (bounded): ``timeout``, ``connect_error``, ``blocked_address``, ``bad_url``,
``http_4xx``, ``http_5xx``, ``rate_limited`` (429), ``too_large``, ``redirect_loop``,
``too_many_redirects``, ``decode_error``, ``robots_disallowed``.
"""
from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import socket
import time
import urllib.robotparser
import zlib
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver
from aiohttp.resolver import DefaultResolver

from cashwatch import __version__
from cashwatch.config import HttpConfig
from cashwatch.errors import BlockedURLError, InputError

CHUNK = 64 * 1024


class FetchError(InputError):
    """A fetch failed; ``error_code`` is bounded, ``status``/``retry_after_s`` set where known."""

    def __init__(self, message: str, error_code: str, *, status: int | None = None,
                 retry_after_s: float | None = None, url: str | None = None) -> None:
        super().__init__(message, error_code)
        self.status = status
        self.retry_after_s = retry_after_s
        self.url = url


def user_agent(config: HttpConfig) -> str:
    """``cashwatch/<version> (+<contact url>)``: who we are and where to complain."""
    return f"cashwatch/{__version__} (+{config.user_agent_contact})"


# --------------------------------------------------------------------------------------------- SSRF


class AddressPolicy:
    """Which resolved addresses may be contacted (see module docstring)."""

    def __init__(self, config: HttpConfig) -> None:
        self.allow_private = config.allow_private
        self.hosts: set[str] = set()
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in config.allow_hosts:
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.hosts.add(entry.lower().rstrip("."))

    def host_allowed(self, host: str) -> bool:
        """True when the host name itself is allow-listed (its addresses are then not checked)."""
        return self.allow_private or host.lower().rstrip(".") in self.hosts

    def address_allowed(self, address: str) -> bool:
        if self.allow_private:
            return True
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        if any(ip in net for net in self.networks):
            return True
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local
                                     or ip.is_multicast or ip.is_reserved or ip.is_unspecified)

    def check(self, host: str, addresses: list[str]) -> None:
        """Raise ``BlockedURLError`` unless the host is allowed or all its addresses are."""
        if self.host_allowed(host):
            return
        bad = [a for a in addresses if not self.address_allowed(a)]
        if bad:
            raise BlockedURLError(f"{host} resolves to non-public address {bad[0]} (not allow-listed in http.allow_hosts)")


class GuardedResolver(AbstractResolver):
    """The connector's resolver: resolves, then refuses hosts with any blocked address."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy
        self.inner = DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET):
        results = await self.inner.resolve(host, port, family)
        self.policy.check(host, [r["host"] for r in results])
        return results

    async def close(self) -> None:
        await self.inner.close()


def _literal_ip(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


# ------------------------------------------------------------------------------------------ responses


@dataclass
class Response:
    """A fully read (capped, decompressed) response."""

    url: str  # the final URL after redirects
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes
    content_type: str = ""  # media type only, lower-case
    charset: str | None = None
    redirects: list[str] = field(default_factory=list)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def split_content_type(value: str | None) -> tuple[str, str | None]:
    """``text/html; charset=UTF-8`` -> (``text/html``, ``utf-8``)."""
    if not value:
        return "", None
    parts = [p.strip() for p in value.split(";")]
    media = parts[0].lower()
    charset = None
    for p in parts[1:]:
        k, _, v = p.partition("=")
        if k.strip().lower() == "charset" and v.strip():
            charset = v.strip().strip("'\"").lower()
    return media, charset


class _Decoder:
    """Bounded gzip/deflate decoding: never produces more than ``limit`` + one chunk of output."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        if encoding in ("gzip", "x-gzip"):
            self.obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self.obj = zlib.decompressobj()
        else:
            self.obj = None
        self._first = True

    def feed(self, data: bytes, room: int) -> bytes:
        """Decompress ``data``, producing at most ``room`` bytes (the rest stays buffered)."""
        if self.obj is None:
            return data
        try:
            out = self.obj.decompress(data, max(1, room))
        except zlib.error:
            if self.encoding == "deflate" and self._first:
                # Some servers send raw deflate without the zlib header.
                self.obj = zlib.decompressobj(-zlib.MAX_WBITS)
                self._first = False
                return self.feed(data, room)
            raise
        self._first = False
        return out

    def pending(self) -> bool:
        return self.obj is not None and bool(self.obj.unconsumed_tail)

    def drain(self, room: int) -> bytes:
        return self.obj.decompress(self.obj.unconsumed_tail, max(1, room)) if self.obj else b""


# ------------------------------------------------------------------------------------------- client


class SafeHttpClient:
    """The producers' HTTP client (see module docstring). Create inside a running event loop's
    lifetime; ``await aclose()`` when done."""

    def __init__(self, config: HttpConfig) -> None:
        self.config = config
        self.policy = AddressPolicy(config)
        self.user_agent = user_agent(config)
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                resolver=GuardedResolver(self.policy),
                limit=self.config.max_concurrency,
                limit_per_host=self.config.per_host_concurrency,
                ttl_dns_cache=60,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,
                headers={"User-Agent": self.user_agent},
                # Cookies are kept for the session: news sites send readers through consent pages
                # that set a cookie and redirect back, which loops forever without one.
                cookie_jar=aiohttp.CookieJar(unsafe=True),  # unsafe: IP-address hosts keep cookies too
            )
        return self._session

    def check_url(self, url: str) -> str:
        """Validate scheme/host and refuse literal non-public IPs; returns the host."""
        try:
            parts = urlsplit(url)
            host = parts.hostname
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError as exc:
            raise FetchError(f"not a valid URL: {url!r}", "bad_url", url=url) from exc
        if parts.scheme not in ("http", "https") or not host:
            raise FetchError(f"not an http(s) URL: {url!r}", "bad_url", url=url)
        literal = _literal_ip(host)
        if literal is not None:
            self.policy.check(host, [literal])
        return host

    async def get(self, url: str, *, max_bytes: int, headers: dict[str, str] | None = None,
                  accept: str = "*/*", allow_status: tuple[int, ...] = (304,)) -> Response:
        """GET ``url`` following redirects safely; the body is capped at ``max_bytes``.

        Returns 2xx responses and any status in ``allow_status`` (304 for conditional GETs).
        Raises :class:`FetchError` (or ``BlockedURLError``) for everything else.
        """
        session = self._get_session()
        cfg = self.config
        timeout = aiohttp.ClientTimeout(
            total=cfg.connect_timeout_s + 3 * cfg.read_timeout_s,
            sock_connect=cfg.connect_timeout_s,
            sock_read=cfg.read_timeout_s,
        )
        req_headers = {"Accept": accept, "Accept-Encoding": "gzip, deflate"}
        req_headers.update(headers or {})
        seen = [url]
        current = url
        while True:
            try:
                self.check_url(current)
            except BlockedURLError as exc:
                raise FetchError(str(exc), "blocked_address", url=current) from exc
            try:
                async with session.get(current, headers=req_headers, allow_redirects=False, timeout=timeout) as resp:
                    status = resp.status
                    hdrs = {k.lower(): v for k, v in resp.headers.items()}
                    if status in (301, 302, 303, 307, 308) and "location" in hdrs:
                        nxt = urljoin(current, hdrs["location"])
                        # One return to a URL is normal (a consent page that sets a cookie and sends the
                        # reader back); a second one is a loop.
                        if seen.count(nxt) >= 2:
                            raise FetchError(f"redirect loop at {nxt}", "redirect_loop", status=status, url=url)
                        if len(seen) > cfg.max_redirects:
                            raise FetchError(f"more than {cfg.max_redirects} redirects", "too_many_redirects",
                                             status=status, url=url)
                        seen.append(nxt)
                        current = nxt
                        # Validators belong to the first URL only.
                        req_headers.pop("If-None-Match", None)
                        req_headers.pop("If-Modified-Since", None)
                        continue
                    if not (200 <= status < 300 or status in allow_status):
                        retry = parse_retry_after(hdrs.get("retry-after"))
                        code = "rate_limited" if status == 429 else ("http_5xx" if status >= 500 else "http_4xx")
                        raise FetchError(f"HTTP {status} from {current}", code, status=status,
                                         retry_after_s=retry, url=url)
                    if status == 304:
                        body = b""
                    else:
                        body = await self._read_capped(resp, hdrs, max_bytes, current)
                    media, charset = split_content_type(hdrs.get("content-type"))
                    return Response(url=current, status=status, headers=hdrs, body=body,
                                    content_type=media, charset=charset, redirects=seen[1:])
            except FetchError:
                raise
            except BlockedURLError as exc:
                raise FetchError(str(exc), "blocked_address", url=current) from exc
            except aiohttp.ClientConnectorError as exc:
                # The guarded resolver's refusal surfaces as is; this is the network failing.
                raise FetchError(f"cannot connect to {current}: {exc}", "connect_error", url=current) from exc
            except (asyncio.TimeoutError, aiohttp.ServerTimeoutError) as exc:
                raise FetchError(f"timed out fetching {current}", "timeout", url=current) from exc
            except aiohttp.InvalidURL as exc:
                raise FetchError(f"not a valid URL: {current!r}", "bad_url", url=current) from exc
            except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
                raise FetchError(f"connection broken fetching {current}: {exc}", "connect_error", url=current) from exc
            except aiohttp.ClientResponseError as exc:
                raise FetchError(f"bad HTTP response from {current}: {exc.message}", "bad_response", url=current) from exc
            except aiohttp.ClientError as exc:
                raise FetchError(f"HTTP client error fetching {current}: {exc}", "connect_error", url=current) from exc

    async def _read_capped(self, resp: aiohttp.ClientResponse, hdrs: dict[str, str], max_bytes: int, url: str) -> bytes:
        declared = hdrs.get("content-length")
        encoding = hdrs.get("content-encoding", "identity").strip().lower()
        if declared and declared.isdigit() and encoding in ("", "identity") and int(declared) > max_bytes:
            raise FetchError(f"{url} declares {declared} bytes, more than the cap of {max_bytes}", "too_large", url=url)
        decoder = _Decoder(encoding)
        out = bytearray()
        try:
            async for chunk in resp.content.iter_chunked(CHUNK):
                out += decoder.feed(chunk, max_bytes + 1 - len(out))
                while decoder.pending() and len(out) <= max_bytes:
                    out += decoder.drain(max_bytes + 1 - len(out))
                if len(out) > max_bytes:
                    raise FetchError(f"{url} is larger than the cap of {max_bytes} bytes"
                                     + (" after decompression" if decoder.obj else ""), "too_large", url=url)
        except zlib.error as exc:
            raise FetchError(f"{url}: broken {encoding} encoding: {exc}", "decode_error", url=url) from exc
        return bytes(out)

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


# ------------------------------------------------------------------------------------------- robots


class RobotsCache:
    """robots.txt per host (scheme + authority), cached for ``ttl_s``; RFC 9309 semantics.

    A missing robots.txt (4xx) allows everything; an unreachable one (5xx, network error) disallows
    everything for a short while, as the RFC asks, then is tried again.
    """

    def __init__(self, client: SafeHttpClient, ttl_s: float = 3600.0, error_ttl_s: float = 300.0,
                 max_bytes: int = 500_000) -> None:
        self.client = client
        self.ttl_s = ttl_s
        self.error_ttl_s = error_ttl_s
        self.max_bytes = max_bytes
        self._cache: dict[str, tuple[float, urllib.robotparser.RobotFileParser | str | None]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @staticmethod
    def _origin(url: str) -> str:
        p = urlsplit(url)
        return f"{p.scheme}://{p.netloc}"

    async def allowed(self, url: str) -> bool:
        """May our user agent fetch ``url``?"""
        return await self.refusal(url) is None

    async def refusal(self, url: str) -> str | None:
        """None when ``url`` may be fetched, else why not (for the error record).

        Raises :class:`FetchError` with ``blocked_address`` when the host itself is refused."""
        origin = self._origin(url)
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:
            entry = self._cache.get(origin)
            now = time.monotonic()
            if entry is None or entry[0] < now:
                entry = await self._load(origin, now)
                self._cache[origin] = entry
        rules = entry[1]
        if isinstance(rules, str):
            return rules
        if rules is None or rules.can_fetch(self.client.user_agent, url):
            return None
        return f"robots.txt of {origin} disallows {url}"

    async def _load(self, origin: str, now: float):
        try:
            resp = await self.client.get(origin + "/robots.txt", max_bytes=self.max_bytes, accept="text/plain")
        except FetchError as exc:
            if exc.error_code == "blocked_address":
                raise
            if exc.error_code == "http_4xx":  # no robots.txt: everything is allowed (RFC 9309 2.3.1.3)
                return (now + self.ttl_s, None)
            # Unreachable (5xx, 429, network): assume complete disallow for a while (RFC 9309 2.3.1.4).
            return (now + self.error_ttl_s, f"robots.txt of {origin} is unreachable ({exc.error_code}): not fetching for now")
        parser = urllib.robotparser.RobotFileParser()
        parser.parse(resp.body.decode("utf-8", errors="replace").splitlines())
        return (now + self.ttl_s, parser)
