"""Durable producer state in SQLite: per-feed polling state and the items already done.

``ProducerState(path)`` opens its own ``sqlite3`` connection (WAL) on the store file it is given
(the embedded runtime shares one file with the article store) and keeps its own tables, all
prefixed ``producer_``:

- ``producer_feeds``: per feed: ETag and Last-Modified of the last 200, when it is next due,
  the current backoff, consecutive errors, the last error code and message, counters.
- ``producer_seen``: keys of items whose analysis is stored: ``url:<canonical url>`` and
  ``guid:<feed id>:<guid>``.
- ``producer_pending``: items emitted but not yet stored, with the id of the run (process) that
  emitted them. A feed with pending items of an *earlier* run is polled without validators
  (:meth:`needs_full_get`): after a crash a 304 must never hide the items that were in flight.

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
import uuid
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
    items_new INTEGER NOT NULL DEFAULT 0,
    first_new_at REAL,
    last_new_at REAL,
    new_polls INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS producer_seen (
    key TEXT PRIMARY KEY,
    article_id TEXT NOT NULL,
    feed_id TEXT,
    done_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS producer_seen_done_at ON producer_seen(done_at);
CREATE TABLE IF NOT EXISTS producer_pending (
    key TEXT PRIMARY KEY,
    feed_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    claimed_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS producer_pending_feed ON producer_pending(feed_id, run_id);
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
    last_outcome: str | None = None  # ok | empty | not_modified | unchanged | error
    last_polled: float | None = None
    last_ok: float | None = None
    polls: int = 0
    not_modified: int = 0
    errors: int = 0
    items_new: int = 0
    first_new_at: float | None = None  # when a poll first found new items
    last_new_at: float | None = None  # when a poll last found new items
    new_polls: int = 0  # polls that found new items (for the feed's usual gap between new items)

    @property
    def backing_off(self) -> bool:
        return self.consecutive_errors > 0

    def to_dict(self) -> dict:
        return asdict(self)


_FIELDS = tuple(FeedState.__dataclass_fields__)
# Columns added after the first release, with their SQL type: added to an older file when it is opened.
_ADDED_COLUMNS = {"first_new_at": "REAL", "last_new_at": "REAL", "new_polls": "INTEGER NOT NULL DEFAULT 0"}


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
        self.run_id = uuid.uuid4().hex  # tells this process's pending items from a dead one's
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, timeout=30, isolation_level=None)
            if path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
            have = {r[1] for r in self._db.execute("PRAGMA table_info(producer_feeds)")}
            for col, decl in _ADDED_COLUMNS.items():
                if col not in have:
                    self._db.execute(f"ALTER TABLE producer_feeds ADD COLUMN {col} {decl}")
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
        """Take one item for emission: False when it is done or already in flight in this process."""
        taken, _ = self.claim_many([item], item.feed_id)
        return bool(taken)

    def claim_many(self, items: list[FeedItem], feed_id: str | None = None) -> tuple[list[FeedItem], bool]:
        """Take a whole feed document's new items for emission, with one query.

        Returns (the items taken, in order; whether every item is already done). Taken items are
        recorded durably as *pending* for this run; rows left pending by an earlier run of ``feed_id``
        that this document no longer lists are dropped (they left the feed)."""
        keys = [k for it in items for k in item_keys(it)]
        seen: set[str] = set()
        now = time.time()
        with self._lock:
            try:
                for i in range(0, len(keys), 500):
                    chunk = keys[i:i + 500]
                    seen.update(r[0] for r in self._db.execute(
                        f"SELECT key FROM producer_seen WHERE key IN ({','.join('?' * len(chunk))})", chunk))
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
                self._db.execute("BEGIN")
                self._db.executemany(
                    "INSERT OR REPLACE INTO producer_pending(key, feed_id, run_id, claimed_at) VALUES (?, ?, ?, ?)",
                    [(f"url:{it.url}", it.feed_id, self.run_id, now) for it in taken])
                fid = feed_id or (items[0].feed_id if items else None)
                if fid is not None:
                    self._db.execute("DELETE FROM producer_pending WHERE feed_id = ? AND run_id != ?", (fid, self.run_id))
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise StoreError(f"{self.path}: producer state update failed: {exc}") from exc
            return taken, all_done

    def needs_full_get(self, feed_id: str) -> bool:
        """True when items of ``feed_id`` were emitted by an earlier run (or released) and never
        stored: its next poll must not be conditional, or a 304 would hide them."""
        with self._lock:
            row = self._db.execute("SELECT 1 FROM producer_pending WHERE feed_id = ? AND run_id != ? LIMIT 1",
                                   (feed_id, self.run_id)).fetchone()
        return row is not None

    def release(self, item: FeedItem) -> None:
        """Give back an in-flight item that was not stored, so a later poll emits it again."""
        with self._lock:
            self._in_flight.difference_update(item_keys(item))
            try:
                # No longer this run's: the feed's next poll is a full GET that finds it again.
                self._db.execute("UPDATE producer_pending SET run_id = '' WHERE key = ?", (f"url:{item.url}",))
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: cannot release {item.article_id}: {exc}") from exc

    def in_flight(self) -> int:
        with self._lock:
            return len(self._in_flight)

    def mark_done(self, item: FeedItem) -> None:
        """Record the item as seen, durably. Call only after its analysis is stored."""
        keys = item_keys(item)
        now = time.time()
        with self._lock:
            try:
                self._db.execute("BEGIN")
                self._db.executemany(
                    "INSERT OR IGNORE INTO producer_seen(key, article_id, feed_id, done_at) VALUES (?, ?, ?, ?)",
                    [(k, item.article_id, item.feed_id, now) for k in keys],
                )
                self._db.execute("DELETE FROM producer_pending WHERE key = ?", (f"url:{item.url}",))
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
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
