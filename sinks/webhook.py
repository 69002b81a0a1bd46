"""Webhook alerts: a durable outbox in SQLite and a sender that delivers each alert once, in order.

Lifecycle (both runtimes)::

    sink = WebhookSink(settings, path)      # opens/creates the alert_* tables in the SQLite file `path`
    sink.enqueue(events)                    # sync: match, build, record durably; returns deliveries queued
    await sink.run(stop)                    # sender loop until `stop` is set (or: await sink.deliver_due())
    sink.close()

* The embedded runtime calls ``enqueue`` with the ``IncidentEvent`` s the pipeline produced, right after
  the incident store has them, and runs ``run`` as one of its tasks. The Kafka runtime calls ``enqueue``
  from its incident-event consumer and commits the offset only after ``enqueue`` returned: a record is
  then either in the outbox or will be consumed again, and a replay is harmless (below).
* ``enqueue`` commits every matching delivery (``alert_deliveries``, unique on the idempotency key) with
  ``synchronous=FULL`` *before* anything is sent, so a restart, a replay or five reports of one incident
  never make a second alert: a repeated key is ignored.
* The sender delivers per subscription in queue order (a delivery waits until the one before it, for
  the same subscription, is delivered or dead), subscriptions in parallel. Before each attempt it
  records the attempt ("claims" the row and schedules the retry); if the process dies after sending
  but before recording the answer, the next attempt re-sends the *same* body with the *same*
  idempotency key, which is what lets the receiver drop the repeat.
* Answers: 2xx delivered; 408/425/429/5xx, timeouts and connection errors are retried with exponential
  backoff and jitter (``AlertsConfig``), honouring ``Retry-After``; any other status (3xx are not
  followed, 4xx) is dead-lettered at once; a delivery that would still be retrying past its
  subscription's ``max_age_s`` is dead-lettered as ``expired``. ``cashwatch alerts retry`` revives
  dead letters.
* Target URLs are checked before every attempt (SSRF guard): an address that is private, loopback,
  link-local, multicast or reserved is refused unless ``http.allow_private`` or listed (host name,
  address or CIDR) in ``http.allow_hosts``; the connection itself only goes to checked addresses, so
  DNS rebinding cannot slip past. A refused URL is dead-lettered as ``blocked_address``.
* Secrets are read from the configuration at each attempt and never stored or logged; URLs are logged
  as scheme and host only (Slack and Teams put credentials in the path).

One sender per store file: concurrent senders would not send an attempt twice (rows are claimed with
a conditional update) but could reorder a subscription's deliveries.
"""
from __future__ import annotations

import asyncio
import ipaddress
import random
import socket
import sqlite3
import threading
import time
from collections.abc import Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp

from cashwatch import metrics
from cashwatch.alerting import plan_alerts, render_body, request_headers
from cashwatch.config import HttpConfig, Settings, SubscriptionConfig
from cashwatch.errors import BlockedURLError, StoreError
from cashwatch.logs import get_logger
from cashwatch.producers.http import AddressPolicy, GuardedResolver, parse_retry_after, user_agent
from cashwatch.models import IncidentEvent


class _Log:
    """Resolves the structlog logger at each call, so ``cashwatch.logs.configure`` applies whenever it runs."""

    def __getattr__(self, level: str):
        return getattr(get_logger("cashwatch.alerts", stage="alerts"), level)


log = _Log()

SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,   -- queue order
    idempotency_key TEXT NOT NULL UNIQUE,
    subscription    TEXT NOT NULL,
    incident_id     TEXT NOT NULL,
    event           TEXT NOT NULL,                       -- created, updated or a court stage
    format          TEXT NOT NULL,
    body            BLOB NOT NULL,                       -- exactly what every attempt sends
    status          TEXT NOT NULL DEFAULT 'pending',     -- pending, delivered, dead
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      REAL NOT NULL,                       -- unix time queued (age limit counts from here)
    next_attempt_at REAL NOT NULL,
    last_attempt_at REAL,
    delivered_at    REAL,
    last_status     INTEGER,
    last_error      TEXT,                                -- bounded error code: timeout, connect, http_500, ...
    dead_reason     TEXT
);
CREATE INDEX IF NOT EXISTS alert_deliveries_queue ON alert_deliveries(status, subscription, id);
CREATE TABLE IF NOT EXISTS alert_attempts (
    delivery_id INTEGER NOT NULL REFERENCES alert_deliveries(id),
    attempt     INTEGER NOT NULL,
    started_at  REAL NOT NULL,
    duration_s  REAL,
    status      INTEGER,
    outcome     TEXT NOT NULL,                           -- ok, retry, dead
    error_code  TEXT,
    PRIMARY KEY (delivery_id, attempt)
);
"""

RETRYABLE_STATUSES = frozenset({408, 425, 429}) | frozenset(range(500, 600))
MAX_ANSWER_BYTES = 64 * 1024


# ---------------------------------------------------------------- SSRF guard
# The address policy and the connector's resolver are the producers' (one policy for every outbound
# request cashwatch makes); this module adds the URL-level checks and redaction.

def redact_url(url: str) -> str:
    """``scheme://host[:port]/…``: safe to log (webhook paths and queries often carry credentials)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}/…"


def _host_of(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BlockedURLError(f"{redact_url(url)}: not an http(s) URL with a host", "bad_url")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise BlockedURLError(f"{redact_url(url)}: bad port", "bad_url") from exc
    return parts.hostname.lower().rstrip("."), port


def _check_addresses(url: str, host: str, addresses: list[str], http: HttpConfig) -> None:
    if not addresses:
        raise BlockedURLError(f"{redact_url(url)}: {host} has no address", "no_address")
    try:
        AddressPolicy(http).check(host, addresses)
    except BlockedURLError as exc:
        raise BlockedURLError(f"{redact_url(url)}: {exc}; allow it with http.allow_hosts "
                              "(host, address or CIDR) or http.allow_private") from exc


def _literal(host: str) -> list[str] | None:
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        return None


def check_url(url: str, http: HttpConfig) -> None:
    """Raise :class:`BlockedURLError` unless every address of the URL's host is allowed (blocking DNS)."""
    host, port = _host_of(url)
    if AddressPolicy(http).host_allowed(host):
        return
    addresses = _literal(host)
    if addresses is None:
        try:
            addresses = [i[4][0] for i in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)]
        except socket.gaierror as exc:
            raise BlockedURLError(f"{redact_url(url)}: cannot resolve {host}: {exc}", "dns") from exc
    _check_addresses(url, host, addresses, http)


async def acheck_url(url: str, http: HttpConfig) -> None:
    """Async :func:`check_url`. A failed DNS lookup raises ``OSError`` (retryable), not ``BlockedURLError``.

    Host names are checked again by the connector's resolver when connecting (rebinding-proof);
    address literals skip aiohttp's resolver, so this check is what guards them.
    """
    host, port = _host_of(url)
    if AddressPolicy(http).host_allowed(host):
        return
    addresses = _literal(host)
    if addresses is None:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
        addresses = [i[4][0] for i in infos]
    _check_addresses(url, host, addresses, http)


# ---------------------------------------------------------------- the delivery log

@dataclass(frozen=True)
class Delivery:
    """One row of ``alert_deliveries``."""

    id: int
    idempotency_key: str
    subscription: str
    incident_id: str
    event: str
    format: str
    body: bytes
    status: str
    attempts: int
    created_at: float
    next_attempt_at: float
    last_attempt_at: float | None
    delivered_at: float | None
    last_status: int | None
    last_error: str | None
    dead_reason: str | None


_COLUMNS = ", ".join(Delivery.__dataclass_fields__)


def _row(r: tuple) -> Delivery:
    d = Delivery(*r)
    return d if isinstance(d.body, bytes) else Delivery(**{**d.__dict__, "body": bytes(d.body)})


class DeliveryLog:
    """The ``alert_*`` tables of a SQLite file: what was queued, attempted, delivered and dead-lettered.

    Thread-safe (one connection behind a lock). Used by :class:`WebhookSink` and the ``cashwatch
    alerts`` commands.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self.conn = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
            self._sync = "FULL"
            self.conn.execute("PRAGMA busy_timeout=30000")
            self.conn.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open the alert delivery log: {exc}") from exc
        self.lock = threading.RLock()

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    def _tx(self, fn, durable: bool = False):
        """Run ``fn(conn)`` in one write transaction. ``durable``: fsync at commit (synchronous=FULL), so the
        write survives power loss; otherwise (NORMAL, WAL) it survives a killed process but the last commits
        may roll back on power loss, which for attempt records only means a re-send with the same key."""
        with self.lock:
            try:
                want = "FULL" if durable else "NORMAL"
                if self._sync != want:
                    self.conn.execute(f"PRAGMA synchronous={want}")
                    self._sync = want
                self.conn.execute("BEGIN IMMEDIATE")
                try:
                    out = fn(self.conn)
                except BaseException:
                    self.conn.execute("ROLLBACK")
                    raise
                self.conn.execute("COMMIT")
                return out
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: alert delivery log: {exc}") from exc

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self.lock:
            try:
                return self.conn.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: alert delivery log: {exc}") from exc

    # ------------------------------------------------------------ reads

    def get(self, delivery_id: int) -> Delivery | None:
        rows = self._query(f"SELECT {_COLUMNS} FROM alert_deliveries WHERE id = ?", (delivery_id,))
        return _row(rows[0]) if rows else None

    def list(self, *, subscription: str | None = None, status: str | None = None,
             incident_id: str | None = None, limit: int = 50) -> list[Delivery]:
        """Newest first."""
        where, args = [], []
        for col, val in (("subscription", subscription), ("status", status), ("incident_id", incident_id)):
            if val is not None:
                where.append(f"{col} = ?")
                args.append(val)
        sql = f"SELECT {_COLUMNS} FROM alert_deliveries"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC LIMIT ?"
        return [_row(r) for r in self._query(sql, (*args, limit))]

    def attempts(self, delivery_id: int) -> list[tuple]:
        return self._query("SELECT attempt, started_at, duration_s, status, outcome, error_code FROM alert_attempts "
                           "WHERE delivery_id = ? ORDER BY attempt", (delivery_id,))

    def counts(self) -> dict[str, int]:
        return dict(self._query("SELECT status, COUNT(*) FROM alert_deliveries GROUP BY status"))

    def pending(self) -> int:
        return self._query("SELECT COUNT(*) FROM alert_deliveries WHERE status = 'pending'")[0][0]

    def heads(self) -> list[tuple[str, int, float]]:
        """(subscription, delivery id, next attempt time) of the first pending delivery of each subscription."""
        return self._query(
            "SELECT subscription, id, next_attempt_at FROM alert_deliveries WHERE id IN "
            "(SELECT MIN(id) FROM alert_deliveries WHERE status = 'pending' GROUP BY subscription)")

    def head(self, subscription: str) -> Delivery | None:
        rows = self._query(f"SELECT {_COLUMNS} FROM alert_deliveries WHERE status = 'pending' AND subscription = ? "
                           "ORDER BY id LIMIT 1", (subscription,))
        return _row(rows[0]) if rows else None

    # ------------------------------------------------------------ writes

    def insert(self, rows: list[tuple]) -> int:
        """Insert new deliveries ``(key, subscription, incident, event, format, body, now)``; known keys are ignored."""
        def do(conn: sqlite3.Connection) -> int:
            n = 0
            for key, sub, incident, event, fmt, body, now in rows:
                cur = conn.execute(
                    "INSERT OR IGNORE INTO alert_deliveries (idempotency_key, subscription, incident_id, event, "
                    "format, body, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (key, sub, incident, event, fmt, body, now, now))
                n += cur.rowcount
            return n
        return self._tx(do, durable=True)  # an enqueued alert must survive power loss, not just kill -9

    def claim(self, d: Delivery, now: float, retry_at: float) -> int | None:
        """Record that attempt ``d.attempts + 1`` starts now, and when to retry if nobody records its end.

        Returns the attempt number, or None when the row is no longer due (another sender took it).
        """
        def do(conn: sqlite3.Connection) -> int | None:
            cur = conn.execute(
                "UPDATE alert_deliveries SET attempts = attempts + 1, last_attempt_at = ?, next_attempt_at = ? "
                "WHERE id = ? AND status = 'pending' AND attempts = ?", (now, retry_at, d.id, d.attempts))
            if cur.rowcount != 1:
                return None
            conn.execute("INSERT INTO alert_attempts (delivery_id, attempt, started_at, outcome) VALUES (?, ?, ?, ?)",
                         (d.id, d.attempts + 1, now, "sending"))
            return d.attempts + 1
        return self._tx(do)

    def finish(self, delivery_id: int, attempt: int, *, outcome: str, now: float, duration_s: float | None,
               status: int | None, error_code: str | None, next_attempt_at: float | None = None,
               dead_reason: str | None = None) -> None:
        """Record the end of an attempt: ``ok`` (delivered), ``retry`` (at ``next_attempt_at``) or ``dead``."""
        def do(conn: sqlite3.Connection) -> None:
            if outcome == "ok":
                conn.execute("UPDATE alert_deliveries SET status = 'delivered', delivered_at = ?, last_status = ?, "
                             "last_error = NULL WHERE id = ?", (now, status, delivery_id))
            elif outcome == "retry":
                conn.execute("UPDATE alert_deliveries SET next_attempt_at = ?, last_status = ?, last_error = ? "
                             "WHERE id = ?", (next_attempt_at, status, error_code, delivery_id))
            else:
                conn.execute("UPDATE alert_deliveries SET status = 'dead', last_status = ?, last_error = ?, "
                             "dead_reason = ? WHERE id = ?", (status, error_code, dead_reason, delivery_id))
            if attempt:
                conn.execute("UPDATE alert_attempts SET duration_s = ?, status = ?, outcome = ?, error_code = ? "
                             "WHERE delivery_id = ? AND attempt = ?",
                             (duration_s, status, outcome, error_code, delivery_id, attempt))
        self._tx(do)

    def recover(self, now: float) -> int:
        """Attempts a dead sender started and never finished (kill -9, power loss) are marked ``lost`` and
        their deliveries made due now, to be re-sent with the same key. Only the one sender may call this,
        at start. Returns how many deliveries were recovered."""
        def do(conn: sqlite3.Connection) -> int:
            n = conn.execute("UPDATE alert_deliveries SET next_attempt_at = ? WHERE status = 'pending' AND id IN "
                             "(SELECT delivery_id FROM alert_attempts WHERE outcome = 'sending')", (now,)).rowcount
            conn.execute("UPDATE alert_attempts SET outcome = 'lost', error_code = 'sender_died' "
                         "WHERE outcome = 'sending'")
            return n
        return self._tx(do)

    def retry_dead(self, *, ids: Iterable[int] = (), subscription: str | None = None, all_dead: bool = False,
                   now: float | None = None) -> int:
        """Put dead letters back in the queue (age counted afresh, attempts kept). Returns how many."""
        now = time.time() if now is None else now
        ids = list(ids)

        def do(conn: sqlite3.Connection) -> int:
            sql = ("UPDATE alert_deliveries SET status = 'pending', created_at = ?, next_attempt_at = ?, "
                   "dead_reason = NULL WHERE status = 'dead'")
            args: list = [now, now]
            if ids:
                sql += f" AND id IN ({','.join('?' * len(ids))})"
                args += ids
            elif subscription is not None:
                sql += " AND subscription = ?"
                args.append(subscription)
            elif not all_dead:
                return 0
            return conn.execute(sql, args).rowcount
        return self._tx(do)


# ---------------------------------------------------------------- the sink

def _bounded(error_code: str, status: int | None) -> str:
    """A metric label value from a small fixed set: http_4xx/http_5xx instead of every status."""
    return f"http_{status // 100}xx" if status is not None else error_code


class WebhookSink:
    """Matches incident events to subscriptions and delivers the alerts (see the module docstring).

    ``settings``: the whole configuration (subscriptions, ``alerts`` timings, ``http`` SSRF allow-list,
    ``kibana.url`` for links). ``path``: the SQLite file holding the ``alert_*`` tables (the store file
    of the embedded runtime; any file for the Kafka runtime).
    """

    def __init__(self, settings: Settings, path: str, *, clock=time.time, rng: random.Random | None = None) -> None:
        self.settings = settings
        self.cfg = settings.alerts
        self.subs: dict[str, SubscriptionConfig] = {s.name: s for s in settings.subscriptions}
        self.log = DeliveryLog(path)
        self.clock = clock
        self.rng = rng or random.Random()
        self._session: aiohttp.ClientSession | None = None
        self._draining: set[str] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._user_agent = user_agent(settings.http)
        from cashwatch.health import ComponentHealth

        self.health = ComponentHealth()  # failing while the outbox (SQLite) cannot be read or written
        self._update_pending()

    # ------------------------------------------------------------ enqueue

    def enqueue(self, events: list[IncidentEvent]) -> int:
        """Record every alert these events cause, durably, and return how many are new.

        Sync and safe from any thread. A delivery whose idempotency key is already in the log (a replay,
        a restart, another report of the same incident) is not queued again. Raises ``StoreError`` when
        the log cannot be written: nothing is then recorded, and the caller must not commit its input.
        """
        now = self.clock()
        rows: list[tuple] = []
        kibana = self.settings.kibana.url
        for ev in events:
            try:
                for alert in plan_alerts(self.subs.values(), ev, kibana):
                    fmt = self.subs[alert.subscription].format
                    rows.append((alert.idempotency_key, alert.subscription, alert.incident_id, alert.event, fmt,
                                 render_body(alert.payload, fmt), now))
            except Exception as exc:  # one malformed event must not block the others; it is logged and counted
                metrics.ERRORS.labels(stage="alerts", error_code="bad_event").inc()
                log.error("alert_event_rejected", incident_id=getattr(getattr(ev, "incident", None), "incident_id", None),
                          error_code="bad_event", error=str(exc))
        if not rows:
            return 0
        try:
            n = self.log.insert(rows)
        except StoreError as exc:
            self.health.failed(str(exc))
            raise
        self.health.ok()
        metrics.ALERTS.labels(outcome="queued").inc(n)
        if len(rows) > n:
            metrics.ALERTS.labels(outcome="duplicate").inc(len(rows) - n)
        if n:
            metrics.ALERTS_PENDING.inc(n)
            self._notify()
        return n

    def _notify(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(wake.set)
            except RuntimeError:  # loop closed meanwhile
                pass

    def _update_pending(self) -> None:
        metrics.ALERTS_PENDING.set(self.log.pending())

    # ------------------------------------------------------------ sending

    @asynccontextmanager
    async def _session_scope(self):
        if self._session is not None and not self._session.closed:
            yield self._session
            return
        connector = aiohttp.TCPConnector(resolver=GuardedResolver(AddressPolicy(self.settings.http)), limit=100,
                                         limit_per_host=10)
        session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=self.cfg.timeout_s))
        self._session = session
        try:
            yield session
        finally:
            self._session = None
            await session.close()

    def _backoff(self, attempt: int) -> float:
        exponent = min(max(0, attempt - 1), 64)  # a day of retries must not overflow the float
        base = min(self.cfg.retry_max_s, self.cfg.retry_initial_s * self.cfg.retry_multiplier ** exponent)
        j = self.cfg.jitter_fraction
        return base * (1 + self.rng.uniform(-j, j))

    async def deliver_due(self) -> int:
        """One pass: send every due delivery, each subscription in order until it reaches one that is not
        due or fails. Returns how many deliveries were settled (delivered or dead-lettered). Safe to call
        while :meth:`run` is active (a subscription being sent by it is skipped). For tests and tools;
        unlike :meth:`run` it does not recover attempts of a killed sender early."""
        async with self._session_scope():
            subs = sorted({sub for sub, _id, _at in self.log.heads()} - self._draining)
            done = await asyncio.gather(*(self._drain(s) for s in subs))
        return sum(done)

    async def _drain(self, sub_name: str) -> int:
        if sub_name in self._draining:
            return 0
        self._draining.add(sub_name)
        settled = 0
        try:
            while True:
                d = self.log.head(sub_name)
                if d is None or d.next_attempt_at > self.clock():
                    break
                outcome = await self._attempt(d)
                if outcome == "retry":
                    break  # later deliveries of this subscription wait: order is kept
                if outcome in ("ok", "dead"):
                    settled += 1
        finally:
            self._draining.discard(sub_name)
            if self._wake is not None:
                self._wake.set()
        return settled

    async def _attempt(self, d: Delivery) -> str:
        """One HTTP attempt of ``d``: returns ``ok``, ``retry``, ``dead`` or ``skipped`` (claimed elsewhere)."""
        now = self.clock()
        sub = self.subs.get(d.subscription)
        ctx = dict(subscription=d.subscription, delivery_id=d.id, incident_id=d.incident_id, alert_event=d.event)
        if sub is None:
            return self._dead(d, 0, now, None, "unknown_subscription",
                              "the subscription is no longer in the configuration", ctx)
        deadline = d.created_at + sub.max_age_s
        if now > deadline:
            return self._dead(d, 0, now, d.last_status, d.last_error or "expired", "expired", ctx)
        # If we die after sending, the retry is due after the request could have timed out plus a backoff.
        attempt = self.log.claim(d, now, now + self.cfg.timeout_s + self._backoff(d.attempts + 1))
        if attempt is None:
            return "skipped"
        ctx["attempt"] = attempt
        status: int | None = None
        retry_after: float | None = None
        error_code: str | None = None
        started = time.monotonic()
        try:
            await acheck_url(sub.url, self.settings.http)
            headers = request_headers(subscription=sub.name, key=d.idempotency_key, event=d.event, body=d.body,
                                      secret=sub.secret.get_secret_value() if sub.secret else None,
                                      attempt=attempt, user_agent=self._user_agent)
            assert self._session is not None
            async with self._session.post(sub.url, data=d.body, headers=headers, allow_redirects=False) as resp:
                status = resp.status
                retry_after = parse_retry_after(resp.headers.get("Retry-After"), self.clock())
                await resp.content.read(MAX_ANSWER_BYTES)  # drain a little so the connection can be reused
        except BlockedURLError as exc:
            return self._dead(d, attempt, self.clock(), None, exc.error_code, str(exc), ctx,
                              time.monotonic() - started)
        except (asyncio.TimeoutError, TimeoutError):
            error_code = "timeout"
        except socket.gaierror:
            error_code = "dns"
        except (aiohttp.ClientError, OSError) as exc:
            error_code = "connect" if isinstance(exc, (aiohttp.ClientConnectionError, OSError)) else "http_client"
            ctx["error"] = type(exc).__name__
        duration = time.monotonic() - started
        now = self.clock()
        if status is not None and 200 <= status < 300:
            self.log.finish(d.id, attempt, outcome="ok", now=now, duration_s=duration, status=status, error_code=None)
            metrics.ALERT_ATTEMPTS.labels(outcome="ok").inc()
            metrics.ALERTS.labels(outcome="delivered").inc()
            metrics.ALERT_DELIVERY_SECONDS.observe(max(0.0, now - d.created_at))
            metrics.ALERTS_PENDING.dec()
            log.info("alert_delivered", status=status, duration_s=round(duration, 4), **ctx)
            return "ok"
        if status is not None:
            error_code = f"http_{status}"
            if status not in RETRYABLE_STATUSES:
                return self._dead(d, attempt, now, status, error_code, f"answered {status}", ctx, duration)
        metrics.ALERT_ATTEMPTS.labels(outcome=_bounded(error_code, status)).inc()
        delay = min(retry_after, self.cfg.max_retry_after_s) if retry_after is not None else self._backoff(attempt)
        if now + delay > deadline:
            return self._dead(d, attempt, now, status, error_code,
                              f"expired: still failing ({error_code}) after {attempt} attempts", ctx, duration)
        self.log.finish(d.id, attempt, outcome="retry", now=now, duration_s=duration, status=status,
                        error_code=error_code, next_attempt_at=now + delay)
        log.warning("alert_retry", status=status, error_code=error_code, retry_in_s=round(delay, 3), **ctx)
        return "retry"

    def _dead(self, d: Delivery, attempt: int, now: float, status: int | None, error_code: str, reason: str,
              ctx: dict, duration: float | None = None) -> str:
        self.log.finish(d.id, attempt, outcome="dead", now=now, duration_s=duration, status=status,
                        error_code=error_code, dead_reason=reason)
        if attempt:
            metrics.ALERT_ATTEMPTS.labels(outcome=_bounded(error_code, status)).inc()
        metrics.ALERTS.labels(outcome="dead").inc()
        metrics.ERRORS.labels(stage="alerts", error_code=_bounded(error_code, status)).inc()
        metrics.ALERTS_PENDING.dec()
        log.error("alert_dead_lettered", status=status, error_code=error_code, reason=reason, **ctx)
        return "dead"

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set: each subscription drained by its own task (a hanging receiver
        delays only its own subscription), woken by :meth:`enqueue`, by a retry falling due, or every
        ``alerts.poll_interval_s`` (work queued by another process). At start, attempts a previous sender
        began and never recorded (it was killed) are made due at once (:meth:`DeliveryLog.recover`).
        In-flight attempts are abandoned on stop; their deliveries stay queued and are re-sent with the
        same idempotency key by the next sender. Store and HTTP failures are logged and retried, never
        raised: ``run`` returns when ``stop`` is set (it raises ``StoreError`` only if the log cannot be
        read at start)."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        recovered = self.log.recover(self.clock())
        if recovered:
            log.warning("alert_attempts_recovered", deliveries=recovered,
                        note="a previous sender died mid-attempt; re-sending with the same idempotency keys")
        tasks: dict[str, asyncio.Task] = {}
        paused_until: dict[str, float] = {}  # a subscription whose sender task failed rests for a poll interval
        stop_wait = asyncio.ensure_future(stop.wait())
        try:
            async with self._session_scope():
                try:
                    synced = 0.0
                    while not stop.is_set():
                        self._wake.clear()
                        now = self.clock()
                        try:
                            if now - synced >= self.cfg.poll_interval_s:  # other processes (alerts retry) change it
                                self._update_pending()
                                synced = now
                            heads = self.log.heads()
                            self.health.ok()
                        except StoreError as exc:  # e.g. locked beyond busy_timeout: keep the loop alive, retry
                            self.health.failed(str(exc))
                            log.error("alert_store_failed", error_code="store", error=str(exc))
                            heads = []
                        for sub, t in list(tasks.items()):
                            if t.done():
                                del tasks[sub]
                                if not t.cancelled() and t.exception() is not None:
                                    # an infrastructure failure (the store): log it, try again a little later
                                    paused_until[sub] = now + self.cfg.poll_interval_s
                                    log.error("alert_sender_failed", subscription=sub, error_code="sender",
                                              error=repr(t.exception()))
                        next_due = now + self.cfg.poll_interval_s
                        for sub, _id, at in heads:
                            if sub in tasks:
                                continue
                            at = max(at, paused_until.get(sub, 0.0))
                            if at <= now:
                                tasks[sub] = asyncio.create_task(self._drain(sub), name=f"alerts:{sub}")
                            else:
                                next_due = min(next_due, at)
                        wake_wait = asyncio.ensure_future(self._wake.wait())
                        await asyncio.wait({wake_wait, stop_wait}, timeout=max(0.0, next_due - self.clock()),
                                           return_when=asyncio.FIRST_COMPLETED)
                        wake_wait.cancel()
                finally:  # abandon in-flight attempts before the session closes under them
                    for t in tasks.values():
                        t.cancel()
                    await asyncio.gather(*tasks.values(), return_exceptions=True)
        finally:
            stop_wait.cancel()
            self._wake = None
            self._loop = None

    def close(self) -> None:
        """Close the delivery log. Call after :meth:`run` has returned."""
        self.log.close()


async def send_once(settings: Settings, sub: SubscriptionConfig, body: bytes, key: str, event: str, *,
                    test: bool = False) -> tuple[int | None, str | None]:
    """POST one body to a subscription outside the outbox (``cashwatch subscriptions test``).

    Returns ``(status, None)`` or ``(None, error)``; the SSRF guard applies as for real alerts.
    """
    try:
        await acheck_url(sub.url, settings.http)
    except BlockedURLError as exc:
        return None, str(exc)
    except OSError as exc:
        return None, f"cannot resolve the host: {exc}"
    headers = request_headers(subscription=sub.name, key=key, event=event, body=body,
                              secret=sub.secret.get_secret_value() if sub.secret else None, attempt=1,
                              user_agent=user_agent(settings.http))
    if test:
        headers["X-Cashwatch-Test"] = "1"
    connector = aiohttp.TCPConnector(resolver=GuardedResolver(AddressPolicy(settings.http)))
    async with aiohttp.ClientSession(connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=settings.alerts.timeout_s)) as session:
        try:
            async with session.post(sub.url, data=body, headers=headers, allow_redirects=False) as resp:
                return resp.status, None
        except (asyncio.TimeoutError, TimeoutError):
            return None, "timeout"
        except (aiohttp.ClientError, OSError, BlockedURLError) as exc:
            return None, f"{type(exc).__name__}: {exc}"
