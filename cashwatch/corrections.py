"""An analyst's corrections: merge, split, dismiss, edit (``cashwatch incidents merge|split|dismiss|edit``
and the web page), and their export as labelled data.

Who applies a correction: the linker holds the incidents in memory, so only the process that links
may change them, or the next report it links would undo the correction. Every correction is therefore
first queued in the store (``corrections``, with who, when and what), then:

* a running embedded monitor (its heartbeat in the store is fresh) applies it on its linking thread
  between two articles (:meth:`CorrectionApplier.apply_pending`) and the submitter waits for the answer;
* with no monitor running, the submitter applies it itself with a linker built from the store.

Applying = :meth:`Linker.apply <cashwatch.processors.link.Linker.apply>` (the events that follow) →
alerts queued in the webhook outbox (``updated``, ``merged``, ``retracted`` where a subscription asks;
a sender delivers them: the monitor's, at once) → the store updated and the correction marked
``applied``. A correction that cannot apply (unknown incident, a report not of that incident, ...) is
marked ``rejected`` with the reason. The incidents keep the analyst's word (``dismissed``,
``corrected``, ``kept_apart``), so that no later report, analysis or replay undoes it.

In the distributed runtime a correction travels on the ``corrections`` topic to the worker that owns
the incident's force (see :mod:`cashwatch.processors.faust_app`).
"""
from __future__ import annotations

import datetime as dt
import getpass
import os
import secrets
import time
from collections.abc import Callable, Sequence

from cashwatch.errors import CorrectionError
from cashwatch.models import INCIDENT_TYPES, CorrectedFields, Correction, IncidentEvent

MONITOR_HEARTBEAT = "monitor_heartbeat"  # meta key: unix time the embedded monitor last said it runs
HEARTBEAT_S = 2.0
ALIVE_WITHIN_S = 10.0
EDITABLE = ("type", "attempted", "town", "force", "date")


def default_analyst() -> str:
    """Who the command line says made a correction: ``$CASHWATCH_ANALYST``, else the login name."""
    try:
        return os.environ.get("CASHWATCH_ANALYST") or getpass.getuser()
    except Exception:  # no login name (a container without a passwd entry)
        return "analyst"


def place_of(town: str, force: str | None = None) -> tuple[float, float, str | None] | None:
    """Coordinates and force of a UK town from the analyser's gazetteer (the most populous of that
    name, in ``force`` when given), or None."""
    from cashwatch.processors.places import default_gazetteer

    found = [p for p in default_gazetteer().lookup(town) if p.force]
    if force:
        found = [p for p in found if p.force == force] or found
    if not found:
        return None
    best = max(found, key=lambda p: p.population)
    return best.lat, best.lon, best.force


def make(action: str, incident_id: str, *, by: str, other_id: str | None = None, article_id: str | None = None,
         mention: int | None = None, fields: dict | None = None, note: str = "",
         now: dt.datetime | None = None) -> Correction:
    """A validated :class:`Correction` (raises :class:`CorrectionError` naming what is wrong).

    ``fields`` of an edit: ``type`` (an incident type), ``attempted`` (bool or yes/no), ``town`` (its
    coordinates, and its force when not given, from the gazetteer), ``force`` (a force id), ``date``
    (YYYY-MM-DD); empty values are ignored."""
    from cashwatch.places_table import FORCES

    if action not in ("merge", "split", "dismiss", "edit"):
        raise CorrectionError(f"unknown correction {action!r}: merge, split, dismiss or edit")
    incident_id = (incident_id or "").strip()
    if not incident_id:
        raise CorrectionError("which incident? (an incident id)")
    by = (by or "").strip()[:80]
    if not by:
        raise CorrectionError("who makes the correction? (a name)")
    if action == "merge" and not (other_id or "").strip():
        raise CorrectionError("merge with which incident? (the other incident's id)")
    if action == "split" and not (article_id or "").strip():
        raise CorrectionError("split which report? (its article id)")
    given: dict = {}
    for k, v in (fields or {}).items():
        if k not in EDITABLE:
            raise CorrectionError(f"cannot edit {k!r}: only {', '.join(EDITABLE)}")
        if v is None or (isinstance(v, str) and not v.strip()):
            continue
        v = v.strip() if isinstance(v, str) else v
        if k == "type" and v not in INCIDENT_TYPES:
            raise CorrectionError(f"type {v!r}: one of {', '.join(INCIDENT_TYPES)}")
        if k == "force" and v not in FORCES:
            from cashwatch.config import unknown_ids_message
            raise CorrectionError(unknown_ids_message("police force id", [v], FORCES))
        if k == "attempted" and not isinstance(v, bool):
            if str(v).lower() not in ("yes", "no", "true", "false", "1", "0"):
                raise CorrectionError(f"attempted {v!r}: yes or no")
            v = str(v).lower() in ("yes", "true", "1")
        if k == "date" and not isinstance(v, dt.date):
            try:
                v = dt.date.fromisoformat(str(v))
            except ValueError as exc:
                raise CorrectionError(f"date {v!r}: use YYYY-MM-DD") from exc
        given[k] = v
    if action == "edit":
        if not given:
            raise CorrectionError(f"nothing to edit: give at least one of {', '.join(EDITABLE)}")
        if "town" in given:
            place = place_of(given["town"], given.get("force"))
            if place is not None:
                given["lat"], given["lon"] = place[0], place[1]
                if "force" not in given and place[2]:
                    given["force"] = place[2]
    now = now or dt.datetime.now(dt.timezone.utc)
    return Correction(correction_id="c-" + now.strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(4),
                      action=action, incident_id=incident_id, other_id=(other_id or "").strip() or None,
                      article_id=(article_id or "").strip() or None, mention=mention,
                      fields=CorrectedFields(**given), by=by, at=now, note=note.strip()[:500])


class CorrectionApplier:
    """Applies the store's pending corrections with ``linker`` (see the module docstring).

    ``enqueue``: queues the alerts of the events (``WebhookSink.enqueue``), or None. Call from the thread
    that links (the linker is not thread-safe)."""

    def __init__(self, store, linker, enqueue: Callable[[list[IncidentEvent]], object] | None = None) -> None:
        self.store, self.linker, self.enqueue = store, linker, enqueue

    def apply_pending(self) -> list[tuple[Correction, Sequence[IncidentEvent] | str]]:
        """Apply every pending correction in order; ``(correction, events or the reason it was rejected)``."""
        from cashwatch import metrics

        done: list[tuple[Correction, Sequence[IncidentEvent] | str]] = []
        for c in self.store.pending_corrections():
            try:
                events = self.linker.apply(c)
            except CorrectionError as exc:
                self.store.reject_correction(c.correction_id, str(exc))
                metrics.CORRECTIONS.labels(c.action, "rejected").inc()
                done.append((c, str(exc)))
                continue
            if self.enqueue is not None and events:
                self.enqueue(list(events))
            self.store.apply_correction(c, events)
            metrics.CORRECTIONS.labels(c.action, "applied").inc()
            for ev in events:
                metrics.INCIDENT_EVENTS.labels(ev.event).inc()
            done.append((c, events))
        return done


def monitor_alive(store, within_s: float = ALIVE_WITHIN_S) -> bool:
    """Whether an embedded monitor is running on this store (its heartbeat is recent)."""
    value = store.get_meta(MONITOR_HEARTBEAT)
    try:
        return value is not None and time.time() - float(value) <= within_s
    except ValueError:
        return False


def submit(settings, store, correction: Correction, *, timeout_s: float = 15.0,
           sleep: Callable[[float], None] = time.sleep) -> dict:
    """Queue ``correction`` and see it applied: by the running monitor (waiting up to ``timeout_s``), else
    here. Returns its status row (``status``: applied / rejected / pending, ``result``)."""
    store.submit_correction(correction)
    if monitor_alive(store):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            st = store.correction_status(correction.correction_id)
            if st and st["status"] != "pending":
                return st
            sleep(0.1)
        return store.correction_status(correction.correction_id) or {"status": "pending"}
    apply_here(settings, store)
    return store.correction_status(correction.correction_id) or {"status": "pending"}


def apply_here(settings, store) -> list:
    """Apply the pending corrections with a linker built from the store (no monitor is running)."""
    from cashwatch.processors.link import Linker
    from cashwatch.sinks.webhook import WebhookSink

    sink = WebhookSink(settings, store.path) if settings.subscriptions else None
    try:
        return CorrectionApplier(store, Linker(lookup=store), sink.enqueue if sink else None).apply_pending()
    finally:
        if sink is not None:
            sink.close()
