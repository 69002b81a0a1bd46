"""The monitor's health: each feed's state, the coverage of police force areas, and the verdict that
``/healthz``, ``/metrics``, ``cashwatch feeds`` and the summary log line share. Pure: the caller passes
the feeds' durable state (``producers/state.py``) and the time.

A feed is

* ``ok``        fetched successfully within its *window*: ``poll_interval_s × (1 + http.jitter_fraction)``
                plus one request's timeouts (``http.connect_timeout_s + http.read_timeout_s``);
* ``failing``   its last poll failed (it is backing off until ``next_due``);
* ``late``      its last poll succeeded, but longer ago than its window (the monitor was not running,
                or the feed is waiting its turn after a restart);
* ``pending``   never polled yet;
* ``disabled``  ``enabled: false`` in the configuration.

A working feed is *silent* when no poll has found a new item for much longer than usual: more than
``SILENT_FACTOR`` times its usual gap between new items (measured from ``SILENT_MIN_POLLS`` polls that
found some) and at least ``SILENT_MIN_S``.

Coverage, per police force area: ``ok``; ``silent`` (every working feed of the area is silent);
``no_working_feed`` (the area's feeds all fail or are late); ``not_polled`` (its feeds have never
been polled); ``no_feed`` (no enabled feed has the
force as its ``place_hint``). National and news-search feeds (no ``place_hint``) cover every area a
little and are counted apart.

The verdict (``/healthz``): ``ok`` (HTTP 200) when at least one feed is ``ok`` and no component
(the store, the alert outbox) is failing; ``starting`` (200) while no feed has succeeded yet, some
have not been polled since start-up and the start-up grace (``ops.health_grace_s``) has not passed;
otherwise ``degraded`` (HTTP 503), with the reasons.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

SILENT_FACTOR = 4.0
SILENT_MIN_S = 2 * 86400.0
SILENT_MIN_POLLS = 3

FEED_STATES = ("ok", "failing", "late", "pending", "disabled")
COVERAGE_STATES = ("ok", "silent", "no_working_feed", "not_polled", "no_feed")


@dataclass(frozen=True)
class FeedHealth:
    """One feed as ``cashwatch feeds`` shows it."""

    id: str
    url: str
    kind: str
    place_hint: str | None
    poll_interval_s: float
    status: str  # one of FEED_STATES
    silent: bool
    last_ok: float | None
    last_polled: float | None
    last_error_code: str | None
    last_error: str | None
    consecutive_errors: int
    backoff_until: float | None  # next poll of a failing feed
    items_seen: int
    last_new_at: float | None
    usual_gap_s: float | None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def window_s(feed, http) -> float:
    """How long after its last success a feed still counts as working (see module docstring)."""
    return feed.poll_interval_s * (1.0 + http.jitter_fraction) + http.connect_timeout_s + http.read_timeout_s


def usual_gap_s(st) -> float | None:
    """The feed's usual time between polls that find new items, once there is enough history."""
    if st.new_polls < SILENT_MIN_POLLS or not st.first_new_at or not st.last_new_at:
        return None
    return (st.last_new_at - st.first_new_at) / (st.new_polls - 1)


def feed_health(feed, st, http, now: float) -> FeedHealth:
    """The health of one configured feed from its durable state ``st`` (a ``FeedState``)."""
    if not feed.enabled:
        status = "disabled"
    elif st.consecutive_errors > 0:
        status = "failing"
    elif st.last_ok is not None and now - st.last_ok <= window_s(feed, http):
        status = "ok"
    elif st.last_ok is not None:
        status = "late"
    else:
        status = "pending"
    gap = usual_gap_s(st)
    silent = bool(status == "ok" and gap is not None and st.last_new_at
                  and now - st.last_new_at > max(SILENT_FACTOR * gap, SILENT_MIN_S))
    return FeedHealth(
        id=feed.id, url=feed.url, kind=feed.kind, place_hint=feed.place_hint, poll_interval_s=feed.poll_interval_s,
        status=status, silent=silent, last_ok=st.last_ok, last_polled=st.last_polled,
        last_error_code=st.last_error_code if status == "failing" else None,
        last_error=st.last_error if status == "failing" else None, consecutive_errors=st.consecutive_errors,
        backoff_until=st.next_due if status == "failing" else None, items_seen=st.items_new,
        last_new_at=st.last_new_at, usual_gap_s=gap)


def feeds_health(settings, states: dict, now: float | None = None) -> list[FeedHealth]:
    """Every configured feed's health; ``states`` maps feed id → ``FeedState`` (missing: never polled)."""
    from cashwatch.producers.state import FeedState

    now = time.time() if now is None else now
    return [feed_health(f, states.get(f.id) or FeedState(feed_id=f.id), settings.http, now) for f in settings.feeds]


@dataclass(frozen=True)
class ForceCoverage:
    force: str
    name: str
    region: str
    status: str  # one of COVERAGE_STATES
    feeds: tuple[str, ...]  # enabled feeds with this force as place_hint
    working: tuple[str, ...]


def coverage(feeds: list[FeedHealth]) -> list[ForceCoverage]:
    """Every police force area with the state of the feeds that cover it (``place_hint``)."""
    from cashwatch.places_table import FORCES

    out = []
    for f in sorted(FORCES.values(), key=lambda f: (f.region, f.id)):
        mine = [h for h in feeds if h.place_hint == f.id and h.status != "disabled"]
        working = [h for h in mine if h.status == "ok"]
        if not mine:
            status = "no_feed"
        elif all(h.status == "pending" for h in mine):
            status = "not_polled"
        elif not working:
            status = "no_working_feed"
        elif all(h.silent for h in working):
            status = "silent"
        else:
            status = "ok"
        out.append(ForceCoverage(f.id, f.name, f.region, status, tuple(h.id for h in mine),
                                 tuple(h.id for h in working)))
    return out


class ComponentHealth:
    """Whether a component (the store, the alert outbox) is failing: its latest operation failed.
    Thread-safe; ``ok()`` and ``failed(error)`` are called where the component is used."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.error: str | None = None
        self.failed_at: float | None = None

    def ok(self) -> None:
        if self.error is not None:
            with self._lock:
                self.error, self.failed_at = None, None

    def failed(self, error: str) -> None:
        with self._lock:
            self.error, self.failed_at = error[:300], time.time()

    @property
    def failing(self) -> bool:
        return self.error is not None


@dataclass
class Verdict:
    status: str  # ok | starting | degraded
    reasons: list[str] = field(default_factory=list)
    summary: dict = field(default_factory=dict)

    @property
    def http_status(self) -> int:
        return 503 if self.status == "degraded" else 200


def reachability_line(feeds: list[FeedHealth]) -> str:
    """``0 of 46 feeds reachable — check the network or proxy`` or ``44 of 46 feeds reachable``."""
    enabled = [h for h in feeds if h.status != "disabled"]
    ok = sum(h.status == "ok" for h in enabled)
    line = f"{ok} of {len(enabled)} feeds reachable"
    if enabled and not ok:
        line += " — check the network or proxy"
    return line


def assess(feeds: list[FeedHealth], *, started_at: float, now: float, grace_s: float,
           components: dict[str, ComponentHealth] | None = None) -> Verdict:
    """The monitor's verdict (see module docstring) with a bounded summary for ``/healthz``."""
    enabled = [h for h in feeds if h.status != "disabled"]
    counts = Counter(h.status for h in enabled)
    polled_since_start = [h for h in enabled if h.last_polled is not None and h.last_polled >= started_at]
    cover = coverage(feeds)
    cover_counts = Counter(c.status for c in cover)
    errors = Counter(h.last_error_code for h in enabled if h.status == "failing")
    summary = {
        "feeds": len(enabled), "feeds_ok": counts["ok"], "feeds_failing": counts["failing"],
        "feeds_late": counts["late"], "feeds_pending": counts["pending"],
        "feeds_silent": sum(h.silent for h in enabled),
        "feed_errors": dict(errors.most_common(5)),
        "forces_covered": cover_counts["ok"], "forces_silent": cover_counts["silent"],
        "forces_without_working_feed": cover_counts["no_working_feed"], "forces_without_feed": cover_counts["no_feed"],
    }
    reasons: list[str] = []
    status = "ok"
    if not enabled:
        reasons.append("no feeds enabled in the configuration")
    elif not counts["ok"]:
        undecided = len(polled_since_start) < len(enabled) and counts["failing"] < len(enabled)
        if undecided and now - started_at < grace_s:
            status = "starting"
        else:
            reasons.append(reachability_line(feeds))
    for name, comp in (components or {}).items():
        if comp.failing:
            reasons.append(f"{name} failing: {comp.error}")
    if reasons:
        status = "degraded"
    return Verdict(status, reasons, summary)


class HealthLog:
    """Logs one summary line when the feeds' reachability changes, instead of a line per failing feed:
    ``0 of 46 feeds reachable — check the network or proxy`` (warning), or ``44 of 46 feeds reachable``
    with the feeds that started or stopped failing (info)."""

    def __init__(self, log) -> None:
        self.log = log
        self._last: tuple | None = None
        self._failing: set[str] = set()

    def update(self, feeds: list[FeedHealth], verdict: Verdict) -> bool:
        """Log if something changed since the last call; returns whether it logged."""
        if verdict.status == "starting":
            return False
        failing = {h.id for h in feeds if h.status == "failing"}
        key = (verdict.status, verdict.summary.get("feeds_ok"), tuple(sorted(failing)), tuple(verdict.reasons))
        if key == self._last:
            return False
        newly, recovered = sorted(failing - self._failing), sorted(self._failing - failing)
        self._last, self._failing = key, failing
        codes = {h.id: h.last_error_code for h in feeds if h.id in failing}
        fields: dict = {"health": verdict.status, "errors": verdict.summary.get("feed_errors")}
        if newly and verdict.summary.get("feeds_ok"):  # with none reachable, the error counts say it all
            fields["newly_failing"] = [f"{i} ({codes[i]})" for i in newly[:10]] + (
                [f"... {len(newly) - 10} more"] if len(newly) > 10 else [])
        if recovered:
            fields["recovered"] = recovered[:10]
        line = reachability_line(feeds)
        others = [r for r in verdict.reasons if r != line]
        if others:
            fields["reasons"] = others
        if verdict.status == "degraded":
            self.log.warning(line, **fields)
        else:
            self.log.info(line, **fields)
        return True


def publish_metrics(feeds: list[FeedHealth], verdict: Verdict) -> None:
    """Set the health gauges of ``cashwatch/metrics.py`` (the same numbers as ``/healthz``)."""
    from cashwatch import metrics

    counts = Counter(h.status for h in feeds)
    for st in FEED_STATES:
        metrics.FEEDS_BY_STATUS.labels(st).set(counts[st])
    metrics.FEEDS_SILENT.set(sum(h.silent for h in feeds))
    for h in feeds:
        if h.last_ok is not None:
            metrics.FEED_LAST_SUCCESS.labels(h.id).set(h.last_ok)
    cover = Counter(c.status for c in coverage(feeds))
    for st in COVERAGE_STATES:
        metrics.FORCES_BY_COVERAGE.labels(st).set(cover[st])
    metrics.HEALTHY.set(0 if verdict.status == "degraded" else 1)


async def watch(settings, state, stop, log, *, started_at: float, components: dict | None = None,
                every_s: float = 5.0) -> None:
    """Until ``stop`` is set: every ``every_s``, assess the feeds from ``state`` (a ``ProducerState``),
    set the health metrics and log the summary line when it changed (:class:`HealthLog`)."""
    import asyncio

    health_log = HealthLog(log)
    while not stop.is_set():
        try:
            now = time.time()
            feeds = feeds_health(settings, {st.feed_id: st for st in state.all_feed_states()}, now)
            verdict = assess(feeds, started_at=started_at, now=now, grace_s=settings.ops.health_grace_s,
                             components=components)
            publish_metrics(feeds, verdict)
            health_log.update(feeds, verdict)
        except Exception as exc:  # the health check must never stop the monitor
            log.error("health_check_failed", error=f"{type(exc).__name__}: {exc}")
        try:
            await asyncio.wait_for(stop.wait(), timeout=every_s)
        except asyncio.TimeoutError:
            pass
