"""The embedded runtime's store: articles, analyses and incidents in one SQLite file (WAL, FTS5).

Lifecycle: ``Store(path)`` opens (and migrates) the file → ``store_analysis`` once per analysed
article, from the one processing thread → ``close``. Readers (``search``, ``list_incidents``,
``get_incident``, the linker's ``find_incidents``) may use their own ``Store`` on the same file.

Every write is an upsert keyed by a deterministic id inside one transaction, so a replay or a
restart after a crash never makes a second copy: an article is either stored with its analysis
and incidents, or not at all. Raises :class:`~cashwatch.errors.StoreError` on SQLite failures.
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from contextlib import contextmanager
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from cashwatch.errors import StoreError
from cashwatch.models import Analysis, Article, Correction, Incident, IncidentEvent
from cashwatch.places_table import country_code

SCHEMA_VERSION = 2  # 2: incidents.dismissed, corrections

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    article_id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    feed_id TEXT,
    published TEXT,
    title TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL DEFAULT '',
    language TEXT,
    kind TEXT NOT NULL,
    analysis TEXT NOT NULL,
    stored_at TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5(
    article_id UNINDEXED, title, text, tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS incidents (
    incident_id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    attempted INTEGER NOT NULL,
    town TEXT,
    force TEXT,
    region TEXT,
    country TEXT,
    date TEXT,
    stage TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incidents_force_type ON incidents(force, type);
CREATE INDEX IF NOT EXISTS incidents_last_seen ON incidents(last_seen);
CREATE TABLE IF NOT EXISTS incident_reports (
    incident_id TEXT NOT NULL,
    article_id TEXT NOT NULL,
    PRIMARY KEY (incident_id, article_id)
);
CREATE INDEX IF NOT EXISTS incident_reports_article ON incident_reports(article_id);
CREATE TABLE IF NOT EXISTS dead_letters (
    article_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    error_code TEXT NOT NULL,
    error TEXT NOT NULL,
    record TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (article_id, stage)
);
CREATE TABLE IF NOT EXISTS incident_aliases (
    absorbed TEXT PRIMARY KEY,
    survivor TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS incident_events (
    event_key TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL,
    event TEXT NOT NULL,
    article_id TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incident_events_incident ON incident_events(incident_id);
-- an analyst's corrections, in the order submitted: pending until the process that owns the linker
-- (the running monitor, else the command or page that submitted it) applies or rejects them
CREATE TABLE IF NOT EXISTS corrections (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    correction_id TEXT NOT NULL UNIQUE,
    action TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    body TEXT NOT NULL,
    by_whom TEXT NOT NULL,
    at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    result TEXT,
    done_at TEXT
);
CREATE INDEX IF NOT EXISTS corrections_status ON corrections(status, seq);
"""

_INCIDENT_COLUMNS = ("incident_id, type, attempted, town, force, region, country, date, stage, first_seen,"
                     " last_seen, body, dismissed")


def connect(path: str | Path) -> sqlite3.Connection:
    """Open ``path`` in WAL mode with a busy timeout (several connections share one file)."""
    try:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.row_factory = sqlite3.Row
        return conn
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open the SQLite store: {exc}") from exc


def _fts_query(text: str) -> str:
    """Turn free text into a safe FTS5 query: every word must match (prefix match on the last)."""
    words = [w for w in "".join(c if c.isalnum() else " " for c in text).split() if w]
    if not words:
        return ""
    return " ".join(f'"{w}"' for w in words[:-1]) + (" " if len(words) > 1 else "") + f'"{words[-1]}"*'


class Store:
    """Articles, analyses and incidents of the embedded runtime (see module docstring)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._conn = connect(path)
        self._lock = threading.RLock()
        try:
            with self._lock:
                self._conn.executescript(_DDL)
                cols = {r[1] for r in self._conn.execute("PRAGMA table_info(incidents)")}
                if "dismissed" not in cols:  # schema 1 -> 2
                    self._conn.execute("ALTER TABLE incidents ADD COLUMN dismissed INTEGER NOT NULL DEFAULT 0")
                self._conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot create the store's tables: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- writes --------------------------------------------------------------------------------

    def store_analysis(self, article: Article, analysis: Analysis, events: Sequence[IncidentEvent],
                       now: dt.datetime | None = None) -> None:
        """Store one article with its analysis and the incidents its events carry, atomically."""
        now = now or dt.datetime.now(dt.timezone.utc)
        with self._transaction(f"store article {article.article_id}") as c:
            c.execute(
                "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(article_id) DO UPDATE SET "
                "url=excluded.url, source=excluded.source, feed_id=excluded.feed_id, published=excluded.published,"
                " title=excluded.title, text=excluded.text, language=excluded.language, kind=excluded.kind,"
                " analysis=excluded.analysis, stored_at=excluded.stored_at",
                (article.article_id, article.url, article.source, article.feed_id,
                 article.published.isoformat() if article.published else None, article.title, article.text,
                 article.language, analysis.kind, analysis.model_dump_json(by_alias=True), now.isoformat()),
            )
            c.execute("DELETE FROM articles_fts WHERE article_id = ?", (article.article_id,))
            c.execute("INSERT INTO articles_fts VALUES (?,?,?)", (article.article_id, article.title, article.text))
            for m in analysis.incidents:
                if m.incident_id:
                    c.execute("INSERT OR IGNORE INTO incident_reports VALUES (?,?)",
                              (m.incident_id, article.article_id))
            self._apply_events(events, now)

    @contextmanager
    def _transaction(self, what: str) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any error), under the
        store's lock; an SQLite error becomes a :class:`StoreError` saying it could not ``what``."""
        try:
            with self._lock:
                c = self._conn
                c.execute("BEGIN IMMEDIATE")
                try:
                    yield c
                    c.execute("COMMIT")
                except BaseException:
                    c.execute("ROLLBACK")
                    raise
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot {what}: {exc}") from exc

    def _apply_events(self, events: Sequence[IncidentEvent], now: dt.datetime) -> None:
        c = self._conn
        for ev in events:
            self._upsert_incident(ev.incident, exact_reports=ev.correction_id is not None)
            if ev.event == "merged" and ev.absorbed:
                self._absorb(ev.absorbed, ev.incident.incident_id)
            c.execute("INSERT OR IGNORE INTO incident_events VALUES (?,?,?,?,?)",
                      (ev.event_key, ev.incident.incident_id, ev.event, ev.article_id, now.isoformat()))

    def _upsert_incident(self, inc: Incident, exact_reports: bool = False) -> None:
        self._conn.execute(
            f"INSERT INTO incidents ({_INCIDENT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(incident_id) DO UPDATE SET "
            "type=excluded.type, attempted=excluded.attempted, town=excluded.town, force=excluded.force,"
            " region=excluded.region, country=excluded.country, date=excluded.date, stage=excluded.stage,"
            " first_seen=excluded.first_seen, last_seen=excluded.last_seen, body=excluded.body,"
            " dismissed=excluded.dismissed",
            (inc.incident_id, inc.type, int(inc.attempted), inc.town, inc.force, inc.region,
             country_code(inc.country, inc.force),
             inc.date.isoformat() if inc.date else None, inc.stage, inc.first_seen.isoformat(),
             inc.last_seen.isoformat(), inc.model_dump_json(), int(inc.dismissed)),
        )
        if exact_reports:  # a correction may have moved a report away (split)
            held = [r.article_id for r in inc.reports]
            self._conn.execute(f"DELETE FROM incident_reports WHERE incident_id = ? AND article_id NOT IN"
                               f" ({','.join('?' * len(held))})", (inc.incident_id, *held))
        for r in inc.reports:
            self._conn.execute("INSERT OR IGNORE INTO incident_reports VALUES (?,?)", (inc.incident_id, r.article_id))

    def _absorb(self, absorbed: str, survivor: str) -> None:
        """An incident found to be another: its row goes, its reports and any ids that pointed to it
        point to the survivor (``get_incident`` of the old id answers with the survivor)."""
        c = self._conn
        c.execute("DELETE FROM incidents WHERE incident_id = ?", (absorbed,))
        c.execute("INSERT OR IGNORE INTO incident_reports SELECT ?, article_id FROM incident_reports"
                  " WHERE incident_id = ?", (survivor, absorbed))
        c.execute("DELETE FROM incident_reports WHERE incident_id = ?", (absorbed,))
        c.execute("UPDATE incident_aliases SET survivor = ? WHERE survivor = ?", (survivor, absorbed))
        c.execute("INSERT OR REPLACE INTO incident_aliases VALUES (?,?)", (absorbed, survivor))

    def resolve(self, incident_id: str) -> str:
        """The id an incident is known by now: ``incident_id``, or the one it was merged into."""
        with self._lock:
            row = self._conn.execute("SELECT survivor FROM incident_aliases WHERE absorbed = ?",
                                     (incident_id,)).fetchone()
        return row["survivor"] if row else incident_id

    # -- an analyst's corrections ----------------------------------------------------------------

    def submit_correction(self, correction: Correction) -> int:
        """Queue a correction (``pending``); returns its sequence number. Idempotent by correction id."""
        try:
            with self._lock:
                self._conn.execute(
                    "INSERT OR IGNORE INTO corrections (correction_id, action, incident_id, body, by_whom, at)"
                    " VALUES (?,?,?,?,?,?)",
                    (correction.correction_id, correction.action, correction.incident_id,
                     correction.model_dump_json(by_alias=True), correction.by, correction.at.isoformat()))
                row = self._conn.execute("SELECT seq FROM corrections WHERE correction_id = ?",
                                         (correction.correction_id,)).fetchone()
            return int(row["seq"])
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot store correction {correction.correction_id}: {exc}") from exc

    def pending_corrections(self) -> list[Correction]:
        with self._lock:
            rows = self._conn.execute("SELECT body FROM corrections WHERE status = 'pending' ORDER BY seq").fetchall()
        return [Correction.model_validate_json(r["body"]) for r in rows]

    def apply_correction(self, correction: Correction, events: Sequence[IncidentEvent],
                         now: dt.datetime | None = None) -> None:
        """Store what a correction changed (its events) and mark it applied, atomically."""
        now = now or dt.datetime.now(dt.timezone.utc)
        summary = json.dumps([{"event": e.event, "incident_id": e.incident.incident_id, "absorbed": e.absorbed,
                               "changes": e.changes} for e in events])
        with self._transaction(f"apply correction {correction.correction_id}") as c:
            self._apply_events(events, now)
            c.execute("UPDATE corrections SET status = 'applied', result = ?, done_at = ?"
                      " WHERE correction_id = ?", (summary, now.isoformat(), correction.correction_id))

    def reject_correction(self, correction_id: str, reason: str) -> None:
        with self._lock:
            self._conn.execute("UPDATE corrections SET status = 'rejected', result = ?, done_at = ?"
                               " WHERE correction_id = ?",
                               (reason[:500], dt.datetime.now(dt.timezone.utc).isoformat(), correction_id))

    def correction_status(self, correction_id: str) -> dict | None:
        """``{status, result, ...}`` of one correction (``result``: the events, or why it was rejected)."""
        with self._lock:
            row = self._conn.execute("SELECT seq, correction_id, action, incident_id, by_whom, at, status, result,"
                                     " done_at FROM corrections WHERE correction_id = ?", (correction_id,)).fetchone()
        return dict(row) if row else None

    def corrections(self, *, incident_ids: Iterable[str] | None = None, status: str | None = None,
                    limit: int = 10_000) -> list[tuple[dict, Correction]]:
        """Corrections (oldest first) with their status row, optionally of some incidents only."""
        where, args = [], []
        ids = list(incident_ids or [])
        if ids:
            where.append(f"(incident_id IN ({','.join('?' * len(ids))}) OR body LIKE '%' || ? || '%')")
            args += ids
            args.append(ids[0])  # a merge names the other incident in its body
        if status:
            where.append("status = ?")
            args.append(status)
        sql = "SELECT seq, status, result, done_at, body FROM corrections"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq LIMIT ?"
        with self._lock:
            rows = self._conn.execute(sql, (*args, limit)).fetchall()
        return [({k: r[k] for k in ("seq", "status", "result", "done_at")}, Correction.model_validate_json(r["body"]))
                for r in rows]

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else None

    def events_of(self, incident_ids: Iterable[str]) -> list[dict]:
        """The stored incident events of these ids, oldest first (an incident's history)."""
        ids = list(incident_ids)
        if not ids:
            return []
        with self._lock:
            rows = self._conn.execute(
                f"SELECT event_key, incident_id, event, article_id, at FROM incident_events WHERE incident_id IN"
                f" ({','.join('?' * len(ids))}) ORDER BY at, rowid", ids).fetchall()
        return [dict(r) for r in rows]

    def dead_letter(self, article_id: str, stage: str, error_code: str, error: str, record: str) -> None:
        """Keep a record that cannot be processed, with the reason, instead of retrying it forever."""
        try:
            with self._lock:
                self._conn.execute(
                    "INSERT OR REPLACE INTO dead_letters VALUES (?,?,?,?,?,?)",
                    (article_id, stage, error_code, error[:2000], record,
                     dt.datetime.now(dt.timezone.utc).isoformat()),
                )
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot dead-letter {article_id}: {exc}") from exc

    def dead_letters(self, limit: int = 100) -> list[dict]:
        with self._lock:
            rows = self._conn.execute("SELECT article_id, stage, error_code, error, at FROM dead_letters"
                                      " ORDER BY at DESC LIMIT ?", (limit,)).fetchall()
        return [dict(r) for r in rows]

    # -- reads ---------------------------------------------------------------------------------

    def has_article(self, article_id: str) -> bool:
        with self._lock:
            row = self._conn.execute("SELECT 1 FROM articles WHERE article_id = ?", (article_id,)).fetchone()
        return row is not None

    def get_analysis(self, article_id: str) -> Analysis | None:
        with self._lock:
            row = self._conn.execute("SELECT analysis FROM articles WHERE article_id = ?", (article_id,)).fetchone()
        return Analysis.model_validate_json(row["analysis"]) if row else None

    def count(self, table: str) -> int:
        if table not in ("articles", "incidents", "incident_events", "dead_letters"):
            raise ValueError(f"unknown table {table!r}")
        with self._lock:
            return self._conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]

    def get_incident(self, incident_id: str) -> Incident | None:
        with self._lock:
            row = self._conn.execute("SELECT body FROM incidents WHERE incident_id = ?", (incident_id,)).fetchone()
            if row is None:  # merged into another since: that one
                row = self._conn.execute("SELECT i.body FROM incident_aliases a JOIN incidents i ON"
                                         " i.incident_id = a.survivor WHERE a.absorbed = ?", (incident_id,)).fetchone()
        return Incident.model_validate_json(row["body"]) if row else None

    @staticmethod
    def _where(*, forces=None, types=None, regions=None, ids=None, since=None, until=None, attempted=None,
               stages=None, include_dismissed: bool = False) -> tuple[list[str], list]:
        where, args = [], []
        for col, values in (("force", forces), ("type", types), ("region", regions), ("incident_id", ids),
                            ("stage", stages)):
            vals = list(values or [])
            if vals:
                where.append(f"{col} IN ({','.join('?' * len(vals))})")
                args += vals
        if since:
            where.append("COALESCE(date, substr(first_seen, 1, 10)) >= ?")
            args.append(since.isoformat())
        if until:
            where.append("COALESCE(date, substr(first_seen, 1, 10)) <= ?")
            args.append(until.isoformat())
        if attempted is not None:
            where.append("attempted = ?")
            args.append(int(attempted))
        if not include_dismissed:
            where.append("dismissed = 0")
        return where, args

    def list_incidents(self, *, forces: Iterable[str] | None = None, types: Iterable[str] | None = None,
                       regions: Iterable[str] | None = None, since: dt.date | None = None,
                       until: dt.date | None = None, ids: Iterable[str] | None = None,
                       attempted: bool | None = None, stages: Iterable[str] | None = None,
                       include_dismissed: bool = False, limit: int = 100) -> list[Incident]:
        """Incidents, newest first, filtered by force, type, region, stage, attempted and incident date (or
        first seen). Incidents an analyst dismissed are left out unless ``include_dismissed``."""
        where, args = self._where(forces=forces, types=types, regions=regions, ids=ids, since=since, until=until,
                                  attempted=attempted, stages=stages, include_dismissed=include_dismissed)
        sql = "SELECT body FROM incidents"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY COALESCE(date, substr(first_seen, 1, 10)) DESC, first_seen DESC LIMIT ?"
        args.append(int(limit))
        with self._lock:
            rows = self._conn.execute(sql, args).fetchall()
        return [Incident.model_validate_json(r["body"]) for r in rows]

    def incident_counts(self, **filters) -> dict[str, dict[str, int]]:
        """How many incidents match ``filters`` (those of :meth:`list_incidents`, without a limit):
        ``{"total": {"": n}, "type": {type: n}, "region": {region: n}}``."""
        where, args = self._where(**filters)
        sql_where = (" WHERE " + " AND ".join(where)) if where else ""
        out: dict[str, dict[str, int]] = {}
        with self._lock:
            out["total"] = {"": self._conn.execute(f"SELECT COUNT(*) FROM incidents{sql_where}", args).fetchone()[0]}
            for col in ("type", "region"):
                rows = self._conn.execute(f"SELECT COALESCE({col}, ''), COUNT(*) FROM incidents{sql_where}"
                                          f" GROUP BY 1 ORDER BY 2 DESC", args).fetchall()
                out[col] = {r[0]: r[1] for r in rows}
        return out

    def find_incidents(self, *, forces: list[str] | None = None, types: list[str] | None = None,
                       date_from: dt.date | None = None, date_to: dt.date | None = None,
                       limit: int = 200) -> list[Incident]:
        """The linker's look-up of incidents no longer in its memory (``IncidentLookup``)."""
        return self.list_incidents(forces=forces, types=types, since=date_from, until=date_to, limit=limit,
                                   include_dismissed=True)  # a later report of a dismissed one joins it

    def recent_incidents(self, days: int = 120, limit: int = 50_000) -> list[Incident]:
        """Incidents last seen in the past ``days`` days, oldest first (to warm the linker)."""
        cutoff = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)).isoformat()
        with self._lock:
            rows = self._conn.execute(
                "SELECT body FROM incidents WHERE last_seen >= ? ORDER BY first_seen LIMIT ?", (cutoff, limit)
            ).fetchall()
        return [Incident.model_validate_json(r["body"]) for r in rows]

    def all_incidents(self) -> list[Incident]:
        with self._lock:
            rows = self._conn.execute("SELECT body FROM incidents ORDER BY first_seen").fetchall()
        return [Incident.model_validate_json(r["body"]) for r in rows]

    def search(self, query: str, *, forces: Iterable[str] | None = None, types: Iterable[str] | None = None,
               regions: Iterable[str] | None = None, since: dt.date | None = None,
               limit: int = 50, **filters) -> list[Incident]:
        """Incidents whose town, force or reports' text match ``query`` (every word; FTS5)."""
        q = _fts_query(query)
        ids: set[str] = set()
        if q:
            with self._lock:
                rows = self._conn.execute(
                    "SELECT DISTINCT r.incident_id FROM articles_fts f JOIN incident_reports r"
                    " ON r.article_id = f.article_id WHERE articles_fts MATCH ?", (q,)
                ).fetchall()
                ids.update(r[0] for r in rows)
                like = f"%{query.strip().lower()}%"
                rows = self._conn.execute(
                    "SELECT incident_id FROM incidents WHERE lower(town) LIKE ? OR lower(force) LIKE ?", (like, like)
                ).fetchall()
                ids.update(r[0] for r in rows)
            if not ids:
                return []
        return self.list_incidents(forces=forces, types=types, regions=regions, since=since,
                                   ids=sorted(ids) if q else None, limit=limit, **filters)

    def search_ids(self, query: str) -> list[str] | None:
        """The ids of incidents whose reports' text, town or force match ``query`` (None: no words)."""
        q = _fts_query(query)
        if not q:
            return None
        with self._lock:
            rows = self._conn.execute(
                "SELECT DISTINCT r.incident_id FROM articles_fts f JOIN incident_reports r"
                " ON r.article_id = f.article_id WHERE articles_fts MATCH ?", (q,)).fetchall()
            ids = {r[0] for r in rows}
            like = f"%{query.strip().lower()}%"
            rows = self._conn.execute("SELECT incident_id FROM incidents WHERE lower(town) LIKE ? OR lower(force)"
                                      " LIKE ?", (like, like)).fetchall()
        return sorted(ids | {r[0] for r in rows})

    def incidents_of_article(self, article_id: str) -> list[str]:
        """The ids of the incidents an article reports (or mentions)."""
        with self._lock:
            rows = self._conn.execute("SELECT DISTINCT incident_id FROM incident_reports WHERE article_id = ?",
                                      (article_id,)).fetchall()
        return [r[0] for r in rows]

    def article(self, article_id: str) -> dict | None:
        """One stored article: url, source, published, title, text, kind and its analysis (JSON)."""
        with self._lock:
            row = self._conn.execute("SELECT article_id, url, source, feed_id, published, title, text, kind, analysis,"
                                     " stored_at FROM articles WHERE article_id = ?", (article_id,)).fetchone()
        return dict(row) if row else None

    def reports_of(self, incident_id: str) -> list[dict]:
        """The stored articles that report an incident, in publication order."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT a.article_id, a.url, a.source, a.published, a.title, a.kind, a.stored_at FROM articles a"
                " JOIN incident_reports r ON r.article_id = a.article_id WHERE r.incident_id = ?"
                " ORDER BY COALESCE(a.published, a.stored_at), a.stored_at", (incident_id,)
            ).fetchall()
        return [dict(r) for r in rows]

    def analyses(self) -> list[tuple[str, str, Analysis]]:
        """Every stored ``(article_id, url, analysis)``, in the order they were stored."""
        with self._lock:
            rows = self._conn.execute("SELECT article_id, url, analysis FROM articles ORDER BY stored_at, rowid").fetchall()
        return [(r["article_id"], r["url"], Analysis.model_validate_json(r["analysis"])) for r in rows]


def dumps_incident(inc: Incident) -> dict:
    return json.loads(inc.model_dump_json())
