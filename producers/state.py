"""Durable producer state in SQLite: per-feed polling state and the items already done.

``ProducerState(path)`` opens its own ``sqlite3`` connection (WAL) on the store file it is given
(the embedded runtime shares one file with the article store) and keeps its own tables, all
prefixed ``producer_``:

- ``producer_feeds``: per feed: ETag and Last-Modified of the last 200 whose items were all done
  (so a 304 never hides an item lost in a crash), when it is next due,
  the current backoff, consecutive errors, the last error code and message, counters.
- ``producer_seen``: keys of items whose analysis is stored: ``url:<canonical url>`` and
  ``guid:<feed id>:<guid>``.

Contract with the sinks: an item counts as seen only after :meth:`mark_done`, which the store sink
calls *after* the item's analysis is stored. A crash (even ``kill -9``) before that leaves it
unseen, so the next start fetches it again (and the store upserts by id: no duplicate). Items
that are emitted but not yet done are kept in an in-memory *in-flight* set so a later poll in the
same process does not emit them twice; :meth:`release` returns one to the pool after a failure.

Thread-safe: the embedded runtime calls :meth:`mark_done` from a worker thread while the producer
reads on the event loop thread; one lock serialises the connection.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import asdict, dataclass

from cashwatch.errors import StoreError
from cashwatch.models import FeedItem

SCHEMA = """
CREATE TABLE IF NOT EXISTS producer_feeds (
    feed_id TEXT PRIMARY KEY,
    url TEXT,
    etag TEXT,
    last_modified TEXT,
    next_due REAL NOT NULL DEFAULT 0,
    backoff_s REAL NOT NULL DEFAULT 0,
    consecutive_errors INTEGER NOT NULL DEFAULT 0,
    last_error_code TEXT,
    last_error TEXT,
    last_outcome TEXT,
    last_polled REAL,
    last_ok REAL,
    polls INTEGER NOT NULL DEFAULT 0,
    not_modified INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    items_new INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS producer_seen (
    key TEXT PRIMARY KEY,
    article_id TEXT NOT NULL,
    feed_id TEXT,
    done_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS producer_seen_done_at ON producer_seen(done_at);
"""


@dataclass(frozen=True)
class FeedState:
    """The polling state of one feed (what ``cashwatch status`` and /metrics show)."""

    feed_id: str
    url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    next_due: float = 0.0  # unix time
    backoff_s: float = 0.0  # current backoff; 0 when healthy
    consecutive_errors: int = 0
    last_error_code: str | None = None
    last_error: str | None = None
    last_outcome: str | None = None  # ok | empty | not_modified | error
    last_polled: float | None = None
    last_ok: float | None = None
    polls: int = 0
    not_modified: int = 0
    errors: int = 0
    items_new: int = 0

    @property
    def backing_off(self) -> bool:
        return self.consecutive_errors > 0

    def to_dict(self) -> dict:
        return asdict(self)


_FIELDS = tuple(FeedState.__dataclass_fields__)


def item_keys(item: FeedItem) -> list[str]:
    """The seen-keys of an item: its canonical URL, and its GUID within its feed when it has one."""
    keys = [f"url:{item.url}"]
    if item.guid:
        keys.append(f"guid:{item.feed_id}:{item.guid}")
    return keys


class ProducerState:
    """See the module docstring. ``close()`` when done."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._in_flight: set[str] = set()
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, timeout=30, isolation_level=None)
            if path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open producer state: {exc}") from exc

    # ------------------------------------------------------------------ seen items

    def is_seen(self, item: FeedItem) -> bool:
        """True when the item's analysis is stored (by canonical URL, or by GUID in its feed)."""
        keys = item_keys(item)
        with self._lock:
            try:
                row = self._db.execute(
                    f"SELECT 1 FROM producer_seen WHERE key IN ({','.join('?' * len(keys))}) LIMIT 1", keys
                ).fetchone()
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: producer state read failed: {exc}") from exc
        return row is not None

    def claim(self, item: FeedItem) -> bool:
        """Take the item for emission: False when it is seen or already in flight in this process."""
        keys = item_keys(item)
        with self._lock:
            if any(k in self._in_flight for k in keys) or self.is_seen(item):
                return False
            self._in_flight.update(keys)
            return True

    def claim_many(self, items: list[FeedItem]) -> tuple[list[FeedItem], bool]:
        """:meth:`claim` for a whole feed document with one query.

        Returns (the items taken, in order; whether *every* item is already done). The producer
        keeps a document's ETag/Last-Modified only when every item in it is done: a 304 must never
        hide an item that was emitted but not stored before a crash."""
        if not items:
            return [], True
        keys = [k for it in items for k in item_keys(it)]
        seen: set[str] = set()
        with self._lock:
            try:
                for i in range(0, len(keys), 500):
                    chunk = keys[i:i + 500]
                    seen.update(r[0] for r in self._db.execute(
                        f"SELECT key FROM producer_seen WHERE key IN ({','.join('?' * len(chunk))})", chunk))
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: producer state read failed: {exc}") from exc
            taken = []
            all_done = True
            for it in items:
                ks = item_keys(it)
                if any(k in seen for k in ks):
                    continue
                all_done = False
                if any(k in self._in_flight for k in ks):
                    continue
                self._in_flight.update(ks)
                taken.append(it)
            return taken, all_done

    def release(self, item: FeedItem) -> None:
        """Give back an in-flight item that was not stored (so a later poll may emit it again)."""
        with self._lock:
            self._in_flight.difference_update(item_keys(item))

    def in_flight(self) -> int:
        with self._lock:
            return len(self._in_flight)

    def mark_done(self, item: FeedItem) -> None:
        """Record the item as seen, durably. Call only after its analysis is stored."""
        keys = item_keys(item)
        now = time.time()
        with self._lock:
            try:
                self._db.executemany(
                    "INSERT OR IGNORE INTO producer_seen(key, article_id, feed_id, done_at) VALUES (?, ?, ?, ?)",
                    [(k, item.article_id, item.feed_id, now) for k in keys],
                )
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: cannot mark {item.article_id} done: {exc}") from exc
            self._in_flight.difference_update(keys)

    def seen_count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(DISTINCT article_id) FROM producer_seen").fetchone()[0]

    # ------------------------------------------------------------------ feed state

    def feed_state(self, feed_id: str) -> FeedState:
        """The state of one feed (a fresh default when never polled)."""
        with self._lock:
            row = self._db.execute(f"SELECT {','.join(_FIELDS)} FROM producer_feeds WHERE feed_id = ?",
                                   (feed_id,)).fetchone()
        if row is None:
            return FeedState(feed_id=feed_id)
        return FeedState(**dict(zip(_FIELDS, row)))

    def all_feed_states(self) -> list[FeedState]:
        """Every feed ever polled, by id."""
        with self._lock:
            rows = self._db.execute(f"SELECT {','.join(_FIELDS)} FROM producer_feeds ORDER BY feed_id").fetchall()
        return [FeedState(**dict(zip(_FIELDS, r))) for r in rows]

    def save_feed_state(self, state: FeedState) -> None:
        """Upsert one feed's state."""
        values = [getattr(state, f) for f in _FIELDS]
        cols = ",".join(_FIELDS)
        updates = ",".join(f"{f}=excluded.{f}" for f in _FIELDS[1:])
        with self._lock:
            try:
                self._db.execute(
                    f"INSERT INTO producer_feeds({cols}) VALUES ({','.join('?' * len(_FIELDS))}) "
                    f"ON CONFLICT(feed_id) DO UPDATE SET {updates}", values)
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: cannot save state of feed {state.feed_id}: {exc}") from exc

    def backing_off_count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM producer_feeds WHERE consecutive_errors > 0").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
