"""Link every report of the same incident (first version; replaced by the linking work).

:class:`Linker` assigns each incident mention of an :class:`Analysis` an ``incident_id`` and returns
the :class:`IncidentEvent` s that follow (``created`` for a new incident, ``updated`` when a report
adds to a known one). Pure: older incidents come from an :class:`IncidentLookup` given to it.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Protocol

from cashwatch.models import Analysis, Incident, IncidentEvent, Report
from cashwatch.places_table import region_of


class IncidentLookup(Protocol):
    """Where the linker finds incidents no longer in its memory (the store)."""

    def find_incidents(self, *, forces: list[str] | None, types: list[str] | None,
                       limit: int = 200) -> Iterable[Incident]: ...


class Linker:
    def __init__(self, lookup: IncidentLookup | None = None) -> None:
        self.lookup = lookup
        self.incidents: dict[str, Incident] = {}

    def load(self, incidents: Iterable[Incident]) -> None:
        """Warm the in-memory state (on start-up, from the store)."""
        for inc in incidents:
            self.incidents[inc.incident_id] = inc

    def link(self, analysis: Analysis, now: datetime | None = None) -> tuple[Analysis, list[IncidentEvent]]:
        now = now or datetime.now(timezone.utc)
        events: list[IncidentEvent] = []
        mentions = []
        for i, m in enumerate(analysis.incidents):
            iid = "i-" + hashlib.sha256(f"{analysis.article_id}:{i}".encode()).hexdigest()[:16]
            mentions.append(m.model_copy(update={"incident_id": iid}))
            if m.role == "primary" and iid not in self.incidents:
                inc = Incident(incident_id=iid, type=m.type, attempted=m.attempted, town=m.town,
                               force=m.force, region=m.region or region_of(m.force), country=m.country,
                               lat=m.lat, lon=m.lon, date=m.date, mo=list(m.mo), first_seen=now, last_seen=now,
                               confidence=m.confidence,
                               reports=[Report(article_id=analysis.article_id, url=analysis.url,
                                               source=analysis.source, title=analysis.title,
                                               published=analysis.published, kind=analysis.kind)])
                self.incidents[iid] = inc
                events.append(IncidentEvent(event="created", incident=inc, article_id=analysis.article_id))
        return analysis.model_copy(update={"incidents": mentions}), events
