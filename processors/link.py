"""Link every report of the same incident, and never merge two incidents.

:class:`Linker` gives each incident mention of an :class:`~cashwatch.models.Analysis` an
``incident_id`` and returns the :class:`~cashwatch.models.IncidentEvent` s that follow. It is the
domain core shared by both runtimes: pure Python, no I/O of its own; incidents it no longer holds in
memory come from the :class:`IncidentLookup` it was given (the store).

Contract of :meth:`Linker.link`:

* every **primary** mention gets an ``incident_id``: the known incident it reports (scored by
  :mod:`cashwatch.processors.linking_score`: type family, force, town and distance, dates, store or
  street, modus operandi, text similarity), or a new incident whose id is derived from this first
  report (``i-`` + 16 hex digits of SHA-256 of ``"{article_id}:{mention index}"``), so a replay in the
  same order gives the same ids;
* a **reference** mention (an attack mentioned for context) gets the id of the known incident it
  matches, attaching the article as a ``reference`` report; when it matches none its ``incident_id``
  stays ``None``: a reference never creates an incident;
* two mentions of one article never get the same incident (a round-up lists distinct attacks), and
  each mention takes at most one incident; a mention that scores nearly as well against two
  incidents is ambiguous and starts its own incident rather than guess;
* **court reports** (``Analysis.kind == "court"``) link to the attacks they are about however long
  ago (no time penalty, only "not before the attack"), and move the incident's stage forward
  (``reported`` -> ``arrest`` -> ``charged`` -> ``convicted`` -> ``sentenced``; a court report
  without a stage counts as ``arrest``). A court report about an attack the linker has never seen
  *creates* the incident (users still want it; its ``created`` event says so with the stage);
* events: ``created`` once per new incident; ``updated`` when a new article is attached (changes
  always include ``report``, plus ``source`` for a new outlet, ``stage``, and the consensus fields
  that moved: ``town``, ``date``, ``type``, ...); nothing when an article already linked is linked
  again unchanged (replays are idempotent: same ids, no events). An article re-sent with a changed
  analysis replaces its own report (``updated`` with ``report_revised``);
* the merged incident's place, date, type, store and attempted flag are the consensus of its
  primary reports (most reports win, ties go to the earliest report; a missing value never wins);
  ``mo`` is the union, ``confidence`` the maximum, ``first_seen``/``last_seen`` the ``now`` of the
  first and latest report.

State is bounded (:class:`LinkerConfig`): at most ``max_incidents``, the least recently active
forgotten first, and, when a lookup is given, only incidents active within ``memory_days`` of the
newest publication date seen (data time, so a replay of old articles behaves as live; without a
lookup nothing is forgotten by age, as nothing could bring it back). Whatever falls out is asked of
the lookup when a mention reaches further back (court reports always ask), and by id before an
incident is created (a replay of a long-forgotten first report). Every decision depends only on the
incidents (their reports carry what each said), so a linker restarted with :meth:`Linker.load` of
the stored incidents decides exactly as one that never stopped: each report keeps its article's text
signature, and the signatures of the latest ``max_signatures`` articles are held for text similarity.

Candidates: the incidents of the mention's force (or country) and type family whose dates fall in
a window around the mention's date or publication (see :class:`LinkerConfig`), those naming its town,
and undated ones; a mention with neither a date nor a publication date (a feed without dates) is
compared with every incident of its force and family held in memory, since nothing bounds it in
time (its score then rests on place, store, type and text alone).

An analyst's corrections (:meth:`Linker.apply`: merge, split, dismiss, edit) are kept on the incident
itself (``dismissed``, ``corrected``, ``kept_apart``), so that nothing later undoes them, in memory or
after a restart: a corrected field wins over the consensus of the reports; two incidents an analyst
split are never merged back; a dismissed incident is never merged and a later report of it attaches
to it silently (its event is ``retracted`` again, which consumers treat as "stays hidden"), instead of
creating it anew.

Failure: the lookup's errors propagate from :meth:`Linker.link` before anything is recorded, so a
retried analysis is linked as if the first attempt never happened.
"""
from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import heapq
import math
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from cashwatch import metrics
from cashwatch.errors import CorrectionError
from cashwatch.models import (
    STAGES, Analysis, CorrectedFields, Correction, Incident, IncidentEvent, IncidentMention, Report,
)
from cashwatch.places_table import region_of
from cashwatch.processors.linking_score import (
    FAMILY, FAMILY_TYPES, IncidentEvidence, MentionEvidence, day_of_year, features, normalise_store, normalise_town, score,
)
from cashwatch.processors.model import LinearModel, default_models

# Scores a (mention, incident) pair: above 0 means "the same attack" (the margin is how sure), None "never".
PairScorer = Callable[[MentionEvidence, IncidentEvidence, Sequence[Sequence[int]]], "float | None"]


def points_scorer(threshold: float = 4.0) -> PairScorer:
    """The hand-set points of :func:`linking_score.score`, less ``threshold`` (the linker before the model)."""
    def scorer(m: MentionEvidence, inc: IncidentEvidence, sigs: Sequence[Sequence[int]]) -> float | None:
        s = score(m, inc, sigs)
        return None if s is None else s - threshold
    return scorer


def model_scorer(model: LinearModel) -> PairScorer:
    """The learned link model's log-odds that the pair is one attack, on :func:`linking_score.features`."""
    def scorer(m: MentionEvidence, inc: IncidentEvidence, sigs: Sequence[Sequence[int]]) -> float | None:
        x = features(m, inc, sigs)
        if x is None:
            return None
        p = model.proba(x)["same"]
        p = min(max(p, 1e-9), 1 - 1e-9)
        return math.log(p / (1 - p))
    return scorer


def default_scorer(config: "LinkerConfig") -> PairScorer:
    """The shipped link model when the model file has one, else the hand-set points."""
    model = default_models().get("link")
    return model_scorer(model) if model is not None else points_scorer(config.match_threshold)


class IncidentLookup(Protocol):
    """Where the linker finds incidents no longer in its memory (the store).

    ``find_incidents`` returns stored incidents matching every filter given (``None`` = any):
    ``forces`` (incident force in the list), ``types`` (incident type in the list), ``date_from`` /
    ``date_to`` (inclusive, on the incident's ``date``, or when it has none on when it was first
    seen), newest first, at most ``limit``. It may raise a :class:`~cashwatch.errors.StoreError`: the
    linker lets it propagate (an infrastructure error, retried by the runtime).
    """

    def find_incidents(self, *, forces: list[str] | None, types: list[str] | None,
                       date_from: dt.date | None = None, date_to: dt.date | None = None,
                       limit: int = 200) -> Iterable[Incident]: ...

    def get_incident(self, incident_id: str) -> Incident | None:
        """The stored incident with this id, or None (asked before creating an incident, so that a
        replay of a long-forgotten first report does not create it again)."""


class LinkerConfig(BaseModel):
    """Tuning of the linker. The defaults are what the dev set was measured with."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    match_threshold: float = Field(4.0, description="Points a mention needs to join a known incident "
                                   "(the hand-set points, used when the model file has no link model).")
    reference_extra: float = Field(1.0, ge=0, description="How much surer than a report (points, or log-odds "
                                   "with the link model) a reference mention must be to join an incident.")
    ambiguity_margin: float = Field(0.5, ge=0, description="A mention scoring within this of two "
                                    "incidents is ambiguous and joins neither.")
    merge_margin: float = Field(0.0, ge=0, description="How far above the threshold a report must score "
                                "against each of two known incidents for them to be merged into one.")
    memory_days: int = Field(400, ge=1, description="Keep incidents active within this many days of "
                             "the newest publication date seen.")
    max_incidents: int = Field(100_000, ge=1, description="Hard cap on incidents held in memory.")
    max_signatures: int = Field(20_000, ge=0, description="Text signatures of recent articles kept.")
    lookup_limit: int = Field(500, ge=1, description="Incidents asked of the store per look-up.")
    dated_window_days: int = Field(30, ge=3, description="Candidates reported up to this many days "
                                   "after a dated mention's attack.")
    undated_window_days: int = Field(60, ge=1, description="Candidates up to this many days before an "
                                     "undated mention's publication.")


_ANY = 10**7  # beyond any date ordinal: a window without bounds


def incident_id_for(article_id: str, index: int) -> str:
    """Deterministic id of an incident first reported by mention ``index`` of ``article_id``."""
    return "i-" + hashlib.sha256(f"{article_id}:{index}".encode("utf-8")).hexdigest()[:16]


_STAGE_RANK = {s: i for i, s in enumerate(STAGES)}
_CONSENSUS_FIELDS = ("type", "attempted", "town", "force", "region", "country", "lat", "lon", "date",
                     "month_day", "store", "stage")


def _ordinal(day: dt.date | None) -> int | None:
    return day.toordinal() if day is not None else None


@dataclass(slots=True)
class _State:
    incident: Incident
    ev: IncidentEvidence
    key: tuple[str, str]  # (place, family) bucket
    entries: tuple[tuple[str, int], ...]  # (index name, ordinal) in the bucket's date indexes
    towns: frozenset[str]  # entries in the town index
    activity: int  # latest date or publication (data time), for eviction


def _place_key(force: str | None, country: str | None) -> str:
    return force or (f"c:{country.upper()}" if country else "?")


class Linker:
    """Assigns incident ids to mentions and keeps the merged incidents (see the module docstring).

    Lifecycle: construct (optionally with a lookup and a config) -> :meth:`load` the stored recent
    incidents once at start-up -> :meth:`link` each analysis in publication order. Not thread-safe;
    the distributed runtime gives each worker its own linker for the forces it owns.
    """

    def __init__(self, lookup: IncidentLookup | None = None, config: LinkerConfig | None = None,
                 scorer: PairScorer | None = None) -> None:
        self.lookup = lookup
        self.config = config or LinkerConfig()
        # how sure a pair is one attack: the link model of the model file, else the hand-set points
        self.scorer = scorer or default_scorer(self.config)
        self._states: dict[str, _State] = {}
        # per (index, place, family), sorted (ordinal, id): "date" = attack date of dated incidents,
        # "seen" = first non-court report of undated ones, "court" = each court report's publication
        self._dated: dict[tuple[str, str, str], list[tuple[int, str]]] = {}
        self._undated: dict[tuple[str, str], set[str]] = {}  # nothing to place them in time
        self._towns: dict[tuple[str, str], set[str]] = {}
        self._by_article: dict[str, set[str]] = {}
        self._aliases: dict[str, str] = {}  # merged-away incident id -> the id it was merged into
        self._signatures: OrderedDict[str, Sequence[int]] = OrderedDict()
        self._newest: int | None = None
        self._activity: list[tuple[int, str]] = []  # min-heap of (activity, incident id)

    # -- public API -------------------------------------------------------------------------

    @property
    def incidents(self) -> dict[str, Incident]:
        """The incidents held in memory, by id (a fresh dict; the records are immutable)."""
        return {iid: st.incident for iid, st in self._states.items()}

    def load(self, incidents: Iterable[Incident]) -> None:
        """Warm the in-memory state from stored incidents (on start-up). A later copy of an incident
        replaces an earlier one; the memory bounds apply afterwards."""
        for inc in incidents:
            self._put(inc)
            for old in inc.merged_ids:
                self._aliases[old] = inc.incident_id
            for r in inc.reports:
                if r.published is not None:
                    o = r.published.toordinal()
                    self._newest = o if self._newest is None else max(self._newest, o)
        self._evict()

    def link(self, analysis: Analysis, now: dt.datetime | None = None) -> tuple[Analysis, list[IncidentEvent]]:
        """Link every mention of ``analysis``; returns it with ``incident_id`` set on its mentions and
        the events for the incidents it created or changed (see the module docstring)."""
        now = now or dt.datetime.now(dt.timezone.utc)
        published = _ordinal(analysis.published)
        if published is not None:
            self._newest = published if self._newest is None else max(self._newest, published)
        if analysis.text_signature:
            self._remember_signature(analysis.article_id, analysis.text_signature)

        evidence = [self._mention_evidence(analysis, i, m) for i, m in enumerate(analysis.incidents)]
        merges: list[tuple[str, str]] = []
        assignment, how = self._assign(evidence, merges)

        events: list[IncidentEvent] = []
        for a, b in merges:
            event = self._merge(self.resolve(a), self.resolve(b), analysis.article_id, now)
            if event is not None:
                events.append(event)
        ids: list[str | None] = []
        for i, m in enumerate(analysis.incidents):
            iid = assignment.get(i)
            iid = self.resolve(iid) if iid is not None else None
            if m.role != "primary":
                outcome = "reference_unmatched" if iid is None else "reference_linked"
            elif iid is None:
                iid = incident_id_for(analysis.article_id, i)
                outcome = "ambiguous_created" if how.get(i) == "ambiguous" else "created"
            else:
                outcome = how.get(i, "linked")
            metrics.LINK_MENTIONS.labels(outcome).inc()
            if iid is None:
                ids.append(None)
                continue
            event = self._record(iid, analysis, i, m, now)
            if event is not None and event.incident.dismissed:
                # a later report of a dismissed incident: it attaches, and the incident stays dismissed
                events.append(event.model_copy(update={"event": "retracted"}))
            elif event is not None:
                events.append(event)
                if m.role == "primary":
                    # what this report added may show that the incident and another are one
                    events.extend(self._heal(iid, analysis.article_id, now))
                    iid = self.resolve(iid)
            ids.append(iid)

        self._evict()
        metrics.LINK_MEMORY.set(len(self._states))
        mentions = [m.model_copy(update={"incident_id": iid}) for m, iid in zip(analysis.incidents, ids)]
        return analysis.model_copy(update={"incidents": mentions}), events

    def resolve(self, incident_id: str) -> str:
        """The id an incident is known by now: ``incident_id``, or the incident it was merged into."""
        seen = set()
        while incident_id in self._aliases and incident_id not in seen:
            seen.add(incident_id)
            incident_id = self._aliases[incident_id]
        return incident_id

    # -- merging ----------------------------------------------------------------------------

    def _compatible(self, a: str, b: str) -> bool:
        """Whether known incidents ``a`` and ``b`` could be one attack: no article reports both (two
        mentions of one article are two attacks), and ``b``'s consensus would not be ruled out as a report
        of ``a`` (another force, a date more than a day apart, places more than 10 km apart)."""
        sa, sb = self._states.get(a), self._states.get(b)
        if sa is None or sb is None or a == b:
            return False
        if sa.incident.dismissed or sb.incident.dismissed or b in sa.incident.kept_apart \
                or a in sb.incident.kept_apart:
            return False  # an analyst's word: dismissed, or split apart
        if set(sa.ev.articles) & set(sb.ev.articles):
            return False
        ev = sb.ev
        as_report = MentionEvidence(
            article_id="", index=0, role="primary", kind="incident", type=ev.type, force=ev.force,
            country=ev.country, town=next(iter(sorted(ev.towns)), None), lat=ev.lat, lon=ev.lon, date=ev.date,
            published=ev.seen, store=ev.stores[0] if ev.stores else None, mo=ev.mo, signature=None,
            month_day=ev.month_day)
        if ev.date is not None and sa.ev.date is not None and abs(ev.date - sa.ev.date) > 1:
            return False
        x = features(as_report, sa.ev)
        # the places must agree (the same town, a district and its city, or one side placed only by force)
        # and no two different shops
        return x is not None and not x.get("town_other") and not x.get("store_other_shop")

    def _heal(self, iid: str, article_id: str, now: dt.datetime) -> list[IncidentEvent]:
        """Merge with ``iid`` the known incident that a primary report of either would have joined had it
        come in last (it scores at least ``merge_margin`` above the threshold, clearly better than against
        any other incident) and that could be the same attack (:meth:`_compatible`). Linking then depends
        much less on the order reports arrive in: a vague first report and a precise later one, or two
        reports bridged by a third, end up as one incident either way."""
        events: list[IncidentEvent] = []
        while True:
            iid = self.resolve(iid)
            st = self._states.get(iid)
            if st is None:
                return events
            mine = self._report_evidence(st.incident)
            candidates: set[str] = set()
            for m in mine:
                candidates |= self._candidates(m)
            fits: list[tuple[float, str, MentionEvidence]] = []
            for other in sorted(candidates):
                ost = self._states.get(other)
                if other == iid or ost is None or set(ost.ev.articles) & set(st.ev.articles):
                    continue
                best: tuple[float, MentionEvidence] | None = None
                for m, inc, holder in ([(m, ost.ev, ost) for m in mine] +
                                       [(m, st.ev, st) for m in self._report_evidence(ost.incident)]):
                    sigs = ([x for a in holder.ev.articles if (x := self._signatures.get(a)) is not None]
                            if m.signature else ())
                    v = self.scorer(m, inc, sigs)
                    if v is not None and (best is None or v > best[0]):
                        best = (v, m)
                if best is not None and best[0] >= self.config.merge_margin:
                    fits.append((best[0], other, best[1]))
            fits.sort(key=lambda f: (-f[0], f[1]))
            if not fits or (len(fits) > 1 and fits[1][0] >= fits[0][0] - self.config.ambiguity_margin):
                return events  # fits none, or two others equally well: no guess
            _, other, m = fits[0]
            if not (self._compatible(iid, other) and self._dates_settled(m, iid, other)):
                return events
            event = self._merge(iid, other, article_id, now)
            if event is None:
                return events
            events.append(event)

    @staticmethod
    def _report_evidence(inc: Incident) -> list[MentionEvidence]:
        """The primary reports of ``inc`` that name a town or a shop, as mentions (a report placed only by
        its force area shows nothing about which attack it is)."""
        return [report_as_mention(r, inc) for r in inc.reports if r.role == "primary" and (r.town or r.store)]

    def _dates_settled(self, m: MentionEvidence, a: str, b: str) -> bool:
        """An undated report cannot show that two attacks dated on different days are one."""
        da, db = self._states[a].ev.date, self._states[b].ev.date
        return m.date is not None or da is None or db is None or da == db

    def _merge(self, a: str, b: str, article_id: str, now: dt.datetime) -> IncidentEvent | None:
        """Merge known incidents ``a`` and ``b``: the one seen first survives with every report of both;
        the other id points to it from now on (:meth:`resolve`)."""
        if a == b or a not in self._states or b not in self._states:
            return None
        ia, ib = self._states[a].incident, self._states[b].incident
        keep, gone = (ia, ib) if (ia.first_seen, ia.incident_id) <= (ib.first_seen, ib.incident_id) else (ib, ia)
        held = {(r.article_id, r.mention) for r in keep.reports}
        reports = list(keep.reports) + [r for r in gone.reports if (r.article_id, r.mention) not in held]
        reports.sort(key=lambda r: (r.published is None, r.published or dt.date.min))
        base = keep.model_copy(update={
            "mo": list(dict.fromkeys([*keep.mo, *gone.mo])),
            "confidence": max(keep.confidence, gone.confidence),
            "first_seen": min(keep.first_seen, gone.first_seen),
            "merged_ids": list(dict.fromkeys([*keep.merged_ids, gone.incident_id, *gone.merged_ids])),
            "last_seen": now,
            "corrected": CorrectedFields(**{**gone.corrected.given(), **keep.corrected.given()}),
            "kept_apart": [i for i in dict.fromkeys([*keep.kept_apart, *gone.kept_apart])
                           if i not in (keep.incident_id, gone.incident_id)],
        })
        merged = _consensus(base, reports, now)
        self._drop(gone.incident_id)
        self._aliases[gone.incident_id] = keep.incident_id
        for old in gone.merged_ids:
            self._aliases[old] = keep.incident_id
        self._put(merged)
        metrics.LINK_MENTIONS.labels("merged").inc()
        return IncidentEvent(event="merged", incident=merged, article_id=article_id,
                             changes=["merged"], absorbed=gone.incident_id)

    # -- an analyst's corrections -------------------------------------------------------------

    def apply(self, correction: Correction, now: dt.datetime | None = None) -> list[IncidentEvent]:
        """Apply an analyst's correction; returns the events that follow (each carrying the correction's
        id, ``article_id`` ``"correction:<id>"``). Incidents not in memory are asked of the lookup.

        * ``merge`` -> one ``merged`` event (the incident seen first survives);
        * ``split`` -> ``updated`` for the incident that loses the report (``report_removed``) and
          ``created`` for the new incident that report now makes alone (id: ``i-`` + SHA-256 of
          ``"{article}:{mention}:split"``); the two are kept apart from then on;
        * ``dismiss`` -> ``retracted``;
        * ``edit`` -> ``updated`` with ``corrected`` and the fields that moved.

        Raises :class:`~cashwatch.errors.CorrectionError` (nothing changed) when it cannot apply."""
        now = now or correction.at
        cid, tag = correction.correction_id, f"correction:{correction.correction_id}"
        iid = self._bring(correction.incident_id)
        old = self._states[iid].incident
        if correction.action == "merge":
            other = self._bring(correction.other_id or "")
            if other == iid:
                raise CorrectionError(f"{correction.incident_id} and {correction.other_id} are already one incident")
            theirs = self._states[other].incident
            if old.dismissed or theirs.dismissed:
                raise CorrectionError("a dismissed incident cannot be merged")
            shared = set(_incident_evidence(old).articles) & set(_incident_evidence(theirs).articles)
            if shared:
                raise CorrectionError(f"one article ({sorted(shared)[0]}) reports both: they are two attacks; "
                                      "split that report first")
            # the analyst's word replaces an earlier split of these two
            for a, b in ((iid, other), (other, iid)):
                inc = self._states[a].incident
                if b in inc.kept_apart:
                    self._put(inc.model_copy(update={"kept_apart": [x for x in inc.kept_apart if x != b]}))
            event = self._merge(iid, other, tag, now)
            assert event is not None  # both held, distinct
            inc = event.incident.model_copy(update={"corrections": max(old.corrections, theirs.corrections) + 1})
            self._put(inc)
            return [event.model_copy(update={"incident": inc, "correction_id": cid, "changes": ["merged", "corrected"]})]
        if correction.action == "dismiss":
            if old.dismissed:
                raise CorrectionError(f"{iid} is already dismissed")
            inc = old.model_copy(update={"dismissed": True, "last_seen": now, "corrections": old.corrections + 1})
            self._put(inc)
            return [IncidentEvent(event="retracted", incident=inc, article_id=tag, changes=["dismissed"],
                                  correction_id=cid)]
        if old.dismissed:
            raise CorrectionError(f"{iid} is dismissed")
        if correction.action == "edit":
            given = correction.fields.given()
            if not given:
                raise CorrectionError("nothing to edit: give at least one of type, attempted, town, force, date")
            fixed = {**old.corrected.given(), **given}
            if "town" in given and "lat" not in given:  # a new town's place is not the old one's
                fixed.pop("lat", None)
                fixed.pop("lon", None)
            base = old.model_copy(update={"corrected": CorrectedFields(**fixed), "corrections": old.corrections + 1})
            inc = _consensus(base, list(old.reports), now)
            changes = ["corrected", *(f for f in _CONSENSUS_FIELDS if getattr(inc, f) != getattr(old, f))]
            inc = inc.model_copy(update={"last_seen": now})
            self._put(inc)
            return [IncidentEvent(event="updated", incident=inc, article_id=tag, changes=changes, correction_id=cid)]
        # split
        moved = [r for r in old.reports if r.article_id == correction.article_id
                 and (correction.mention is None or r.mention == correction.mention)]
        if not moved:
            raise CorrectionError(f"article {correction.article_id} is not a report of {iid}")
        report = moved[0]
        rest = [r for r in old.reports if r is not report]
        if not any(r.role == "primary" for r in rest):
            raise CorrectionError(f"{correction.article_id} is the only report of {iid}: nothing to split it from "
                                  "(dismiss or edit the incident instead)")
        new_id = "i-" + hashlib.sha256(f"{report.article_id}:{report.mention}:split".encode()).hexdigest()[:16]
        if new_id in self._states:
            raise CorrectionError(f"{report.article_id} was already split into {new_id}")
        report = report.model_copy(update={"role": "primary"})
        base = Incident(incident_id=new_id, type=report.type or old.type, region=region_of(report.force),
                        country=report.country, confidence=old.confidence, first_seen=now, last_seen=now,
                        reports=[report], kept_apart=[iid], corrections=1)
        new = _consensus(base, [report], now)
        kept = _consensus(old.model_copy(update={"kept_apart": [*old.kept_apart, new_id],
                                                 "corrections": old.corrections + 1}), rest, now)
        changes = ["corrected", "report_removed",
                   *(f for f in _CONSENSUS_FIELDS if getattr(kept, f) != getattr(old, f))]
        kept = kept.model_copy(update={"last_seen": now})
        self._put(kept)
        self._put(new)
        return [IncidentEvent(event="updated", incident=kept, article_id=tag, changes=changes, correction_id=cid),
                IncidentEvent(event="created", incident=new, article_id=tag, changes=["created", "split"],
                              correction_id=cid)]

    def _bring(self, incident_id: str) -> str:
        """The id ``incident_id`` is known by now, its incident in memory (from the lookup if need be)."""
        iid = self.resolve(incident_id)
        if iid in self._states:
            return iid
        stored = self.lookup.get_incident(iid) if self.lookup is not None and iid else None
        if stored is None:
            raise CorrectionError(f"no incident {incident_id!r}", "unknown_incident")
        self._put(stored)
        return stored.incident_id

    # -- matching ---------------------------------------------------------------------------

    def _mention_evidence(self, analysis: Analysis, i: int, m: IncidentMention) -> MentionEvidence:
        return MentionEvidence(
            article_id=analysis.article_id, index=i, role=m.role, kind=analysis.kind, type=m.type,
            force=m.force, country=m.country, town=normalise_town(m.town), lat=m.lat, lon=m.lon,
            date=_ordinal(m.date), published=_ordinal(analysis.published), store=normalise_store(m.store),
            mo=frozenset(m.mo), signature=analysis.text_signature,
            month_day=day_of_year(_ordinal(m.date), m.month_day))

    def _assign(self, evidence: list[MentionEvidence],
                merges: list[tuple[str, str]] | None = None) -> tuple[dict[int, str], dict[int, str]]:
        """(mention index -> incident id, one-to-one, best-scoring pairs first; mention index ->
        "replayed", "ambiguous" or "merged" where that decided it). A report that fits two known incidents
        well (``merge_margin`` above the threshold each) that could be one attack shows they are one:
        the pair goes to ``merges`` and the report joins the better one."""
        cfg = self.config
        how: dict[int, str] = {}
        pairs: list[tuple[int, float, int, int, str]] = []
        for m in evidence:
            candidates = self._candidates(m)  # first: it may bring incidents back from the store
            replayed = self._replayed(m)
            if replayed is not None:
                pairs.append((0, -1e9, m.index, 0, replayed))
                how[m.index] = "replayed"
                continue
            scored: list[tuple[float, str]] = []
            # a reference is a passing mention, often vague: it must fit better than a report does
            threshold = 0.0 if m.role == "primary" else cfg.reference_extra
            for iid in candidates:
                st = self._states[iid]
                if m.article_id in st.ev.articles:
                    continue  # another mention of this same article: a different attack
                sigs = ([s for a in st.ev.articles if (s := self._signatures.get(a)) is not None]
                        if m.signature else ())
                s = self.scorer(m, st.ev, sigs)
                if s is not None and s >= threshold:
                    scored.append((s, iid))
            if not scored:
                continue
            scored.sort(key=lambda p: (-p[0], -self._states[p[1]].ev.n_primary, p[1]))
            if merges is not None and m.role == "primary" and m.town and len(scored) > 1 and \
                    scored[1][0] >= cfg.merge_margin:
                best = scored[0][1]
                same = [iid for s, iid in scored[1:] if s >= cfg.merge_margin and self._compatible(best, iid)
                        and self._dates_settled(m, best, iid)]
                if same:
                    merges.extend((best, iid) for iid in same)
                    how[m.index] = "merged"
                    scored = [p for p in scored if p[1] not in same]
            if len(scored) > 1 and scored[1][0] >= scored[0][0] - cfg.ambiguity_margin:
                how[m.index] = "ambiguous"
                continue  # two incidents fit equally well: do not guess
            for s, iid in scored:
                pairs.append((0 if m.role == "primary" else 1, -s, m.index,
                              -self._states[iid].ev.n_primary, iid))
        pairs.sort()
        assigned: dict[int, str] = {}
        taken: set[str] = set()
        for _, _, i, _, iid in pairs:
            if i in assigned or iid in taken:
                continue
            assigned[i] = iid
            taken.add(iid)
        return assigned, how

    def _replayed(self, m: MentionEvidence) -> str | None:
        """The incident that already holds this very mention (a replay), if in memory."""
        for iid in self._by_article.get(m.article_id, ()):
            if m.index in self._states[iid].ev.articles.get(m.article_id, ()):
                return iid
        own = self.resolve(incident_id_for(m.article_id, m.index))
        if own in self._states:
            return own
        if self.lookup is not None and m.role == "primary":
            metrics.LINK_LOOKUPS.labels("id").inc()
            stored = self.lookup.get_incident(own)
            if stored is not None:  # (merged into another since: the store answers with the survivor)
                self._put(stored)
                return stored.incident_id
        return None

    def _candidates(self, m: MentionEvidence) -> set[str]:
        cfg = self.config
        family = FAMILY[m.type]
        key = (_place_key(m.force, m.country), family)
        if m.date is not None:
            windows = [("date", m.date - 3, m.date + 3), ("seen", m.date - 3, m.date + cfg.dated_window_days)]
        elif m.kind != "court" and m.published is not None:
            # both ways: the other reports of an undated attack may have been published before or after this one
            lo, hi = m.published - cfg.undated_window_days, m.published + cfg.undated_window_days
            windows = [("date", lo, hi), ("seen", lo, hi)]
        elif m.published is not None:  # court, undated: other reports of the same hearing
            windows = [("court", m.published - 3, m.published + 3)]
        else:
            # nothing places the mention in time (no date, no publication date): every incident of its
            # force and family held in memory is a candidate; the score still needs place and store
            # or text evidence, as date points are 0
            windows = [("date", -_ANY, _ANY), ("seen", -_ANY, _ANY)]
        if m.kind == "court":  # a court report may be about an attack of any age: reach back
            self._consult_store(m, family, None if m.date is None else m.date - 3,
                                None if m.date is None else m.date + 3)
        elif m.date is None and m.published is None:
            self._consult_store(m, family, None, None)
        elif windows:
            self._consult_store(m, family, min(w[1] for w in windows), max(w[2] for w in windows))
        else:
            self._consult_store(m, family, None, None)
        found: set[str] = set()
        for name, lo, hi in windows:
            index = self._dated.get((name, *key))
            if not index:
                continue
            start = bisect.bisect_left(index, (lo, ""))
            for when, iid in index[start:]:
                if when > hi:
                    break
                found.add(iid)
        found.update(self._undated.get(key, ()))
        if m.town:
            found.update(self._towns.get((family, m.town), ()))
        return found

    def _consult_store(self, m: MentionEvidence, family: str, lo: int | None, hi: int | None) -> None:
        """Ask the lookup for incidents older than memory when the mention reaches back that far
        (``lo`` None: any age, as for an undated court report: the force's most recent incidents of
        the family, up to ``lookup_limit``)."""
        if self.lookup is None:
            return
        horizon = None if self._newest is None else self._newest - self.config.memory_days
        if lo is not None and (horizon is None or lo >= horizon):
            return
        if lo is None and not m.force:
            return  # nothing to narrow a look-up by
        date_to = hi if hi is not None else m.published
        metrics.LINK_LOOKUPS.labels("window").inc()
        found = self.lookup.find_incidents(
            forces=[m.force] if m.force else None, types=list(FAMILY_TYPES[family]),
            date_from=dt.date.fromordinal(max(lo, 1)) if lo is not None else None,
            date_to=dt.date.fromordinal(date_to) if date_to is not None else None,
            limit=self.config.lookup_limit)
        for inc in found:
            if inc.incident_id not in self._states:
                self._put(inc)

    # -- recording --------------------------------------------------------------------------

    def _record(self, iid: str, analysis: Analysis, i: int, m: IncidentMention,
                now: dt.datetime) -> IncidentEvent | None:
        report = Report(
            article_id=analysis.article_id, url=analysis.url, source=analysis.source, title=analysis.title,
            published=analysis.published, kind=analysis.kind, role=m.role, mention=i, type=m.type,
            attempted=m.attempted, town=m.town, force=m.force, country=m.country, lat=m.lat, lon=m.lon,
            date=m.date, month_day=m.month_day, store=m.store, stage=analysis.stage, text_signature=analysis.text_signature)
        st = self._states.get(iid)
        if st is None:
            base = Incident(incident_id=iid, type=m.type, region=m.region or region_of(m.force),
                            country=m.country, mo=list(m.mo), confidence=m.confidence,
                            first_seen=now, last_seen=now, reports=[report])
            inc = _consensus(base, [report], now)
            self._put(inc)
            return IncidentEvent(event="created", incident=inc, article_id=analysis.article_id,
                                 changes=["created"])
        old = st.incident
        reports = list(old.reports)
        at = next((k for k, r in enumerate(reports)
                   if r.article_id == report.article_id and r.mention == i), None)
        changes: list[str] = []
        if at is None:
            if old.reports and report.source and all(r.source != report.source for r in reports):
                changes.append("source")
            changes.insert(0, "report" if m.role == "primary" else "reference")
            reports.append(report)
        elif reports[at] == report and all(t in old.mo for t in m.mo):
            return None  # a replay: nothing new
        else:
            if reports[at] != report:
                changes.append("report_revised")
            reports[at] = report
        mo = list(dict.fromkeys([*old.mo, *m.mo]))
        base = old.model_copy(update={"mo": mo, "confidence": max(old.confidence, m.confidence)})
        inc = _consensus(base, reports, now)
        changes += [f for f in _CONSENSUS_FIELDS if getattr(inc, f) != getattr(old, f)]
        if mo != old.mo:
            changes.append("mo")
        if not changes:
            return None
        inc = inc.model_copy(update={"last_seen": now})
        self._put(inc)
        return IncidentEvent(event="updated", incident=inc, article_id=analysis.article_id, changes=changes)

    # -- in-memory state and its indexes ------------------------------------------------------

    def _remember_signature(self, article_id: str, signature: Sequence[int]) -> None:
        if not self.config.max_signatures:
            return
        self._signatures[article_id] = signature
        self._signatures.move_to_end(article_id)
        while len(self._signatures) > self.config.max_signatures:
            self._signatures.popitem(last=False)

    def _put(self, inc: Incident) -> None:
        for r in inc.reports:  # an incident loaded or brought back from the store brings its texts' signatures
            if r.text_signature and r.article_id not in self._signatures:
                self._remember_signature(r.article_id, r.text_signature)
        self._drop(inc.incident_id)
        for old in inc.merged_ids:
            self._aliases[old] = inc.incident_id
            self._drop(old)  # (a copy from before the merge, brought back from the store)
        ev = _incident_evidence(inc)
        family = FAMILY[inc.type]
        key = (_place_key(inc.force, inc.country), family)
        published = [r.published.toordinal() for r in inc.reports if r.published is not None]
        entries: list[tuple[str, int]] = []
        if ev.date is not None:
            entries.append(("date", ev.date))
        elif ev.seen is not None:
            entries.append(("seen", ev.seen))
        entries += [("court", c) for c in ev.courts]
        towns = ev.towns
        activity = max([o for o in (ev.date, *published) if o is not None], default=self._newest or 0)
        st = _State(incident=inc, ev=ev, key=key, entries=tuple(entries), towns=towns, activity=activity)
        self._states[inc.incident_id] = st
        heapq.heappush(self._activity, (activity, inc.incident_id))
        if not entries:
            self._undated.setdefault(key, set()).add(inc.incident_id)
        for name, when in entries:
            bisect.insort(self._dated.setdefault((name, *key), []), (when, inc.incident_id))
        for t in towns:
            self._towns.setdefault((family, t), set()).add(inc.incident_id)
        for a in ev.articles:
            self._by_article.setdefault(a, set()).add(inc.incident_id)

    def _drop(self, iid: str) -> None:
        st = self._states.pop(iid, None)
        if st is None:
            return
        if not st.entries:
            self._undated.get(st.key, set()).discard(iid)
        for name, when in st.entries:
            index = self._dated.get((name, *st.key), [])
            k = bisect.bisect_left(index, (when, iid))
            if k < len(index) and index[k] == (when, iid):
                del index[k]
        for t in st.towns:
            bucket = self._towns.get((st.key[1], t))
            if bucket is not None:
                bucket.discard(iid)
                if not bucket:
                    del self._towns[(st.key[1], t)]
        for a in st.ev.articles:
            holders = self._by_article.get(a)
            if holders is not None:
                holders.discard(iid)
                if not holders:
                    del self._by_article[a]

    def _evict(self) -> None:
        """Forget incidents inactive for ``memory_days`` (by data time), then the least recently
        active beyond ``max_incidents``; the store still has them. The heap holds one entry per
        ``_put``; entries whose incident was dropped or re-put since are stale and skipped."""
        cfg = self.config
        if len(self._activity) > 2 * len(self._states) + 1024:  # mostly stale entries: rebuild
            self._activity = [(st.activity, iid) for iid, st in self._states.items()]
            heapq.heapify(self._activity)
        # without a store to fall back on, forgetting by age would lose incidents: only the cap applies
        horizon = None if self._newest is None or self.lookup is None else self._newest - cfg.memory_days
        heap = self._activity
        while heap:
            activity, iid = heap[0]
            st = self._states.get(iid)
            if st is None or st.activity != activity:
                heapq.heappop(heap)  # stale
                continue
            if (horizon is not None and activity < horizon) or len(self._states) > cfg.max_incidents:
                heapq.heappop(heap)
                self._drop(iid)
                continue
            break


def _vote(values: Sequence, key=None):
    """Most frequent non-missing value; ties go to the earliest."""
    counts: dict = {}
    first: dict = {}
    for v in values:
        if v is None:
            continue
        k = key(v) if key else v
        counts[k] = counts.get(k, 0) + 1
        first.setdefault(k, v)
    if not counts:
        return None
    best = max(counts.values())
    return next(first[k] for k in counts if counts[k] == best)


def _consensus(base: Incident, reports: list[Report], now: dt.datetime) -> Incident:
    """The merged incident: ``base`` (id, mo, confidence, first_seen) with the consensus of ``reports``.
    Where no report says anything about a field (reports stored before they carried what they
    said), ``base`` keeps its value; the stage never moves backwards."""
    votes = [r for r in reports if r.role == "primary"] or reports
    fixed = base.corrected.given()  # an analyst's corrections win over the reports
    itype = fixed.get("type") or _vote([r.type for r in votes]) or base.type
    town = fixed.get("town") or _vote([r.town for r in votes], key=normalise_town) or base.town
    force = fixed.get("force") or _vote([r.force for r in votes]) or base.force
    norm = normalise_town(town)
    placed = next((r for r in votes if normalise_town(r.town) == norm and r.lat is not None
                   and r.lon is not None), None)
    if placed is not None:
        lat, lon = placed.lat, placed.lon
    else:
        lat, lon = (base.lat, base.lon) if normalise_town(base.town) == norm else (None, None)
    if "lat" in fixed and "lon" in fixed:
        lat, lon = fixed["lat"], fixed["lon"]
    stages = [base.stage, *(r.stage or ("arrest" if r.kind == "court" else "reported") for r in reports)]
    attempted = fixed.get("attempted", _vote([r.attempted for r in votes]))
    date = fixed.get("date") or _vote([r.date for r in votes])
    date = base.date if date is None else date
    # a day and month without a year only stand in while no report gives the date
    month_day = None if date is not None else _vote([r.month_day for r in votes]) or base.month_day
    return base.model_copy(update={
        "type": itype,
        "attempted": base.attempted if attempted is None else attempted,
        "town": town,
        "force": force,
        "region": region_of(force) or base.region,
        "country": _vote([r.country for r in votes]) or base.country,
        "lat": lat,
        "lon": lon,
        "date": date,
        "month_day": month_day,
        "store": _vote([r.store for r in votes], key=normalise_store) or base.store,
        "stage": max(stages, key=_STAGE_RANK.__getitem__),
        "reports": reports,
    })


def report_as_mention(r: Report, inc: Incident) -> MentionEvidence:
    """One stored report of ``inc``, as the mention it was when it was linked (the linker's healing and the
    incident page's "why linked" compare it again)."""
    return MentionEvidence(
        article_id=r.article_id, index=r.mention, role=r.role, kind=r.kind, type=r.type or inc.type,
        force=r.force, country=r.country, town=normalise_town(r.town), lat=r.lat, lon=r.lon,
        date=_ordinal(r.date), published=_ordinal(r.published), store=normalise_store(r.store),
        mo=frozenset(inc.mo), signature=r.text_signature, month_day=day_of_year(_ordinal(r.date), r.month_day))


def _incident_evidence(inc: Incident) -> IncidentEvidence:
    primary = [r for r in inc.reports if r.role == "primary"]
    votes = primary or inc.reports
    seen = [r.published for r in votes if r.published is not None and r.kind != "court"]
    articles: dict[str, set[int]] = {}
    for r in inc.reports:
        articles.setdefault(r.article_id, set()).add(r.mention)
    towns = {normalise_town(r.town) for r in votes} | {normalise_town(inc.town)}
    if inc.corrected.town:  # an analyst placed it: what the reports said about the town no longer counts
        towns = {normalise_town(inc.corrected.town)}
    stores = {normalise_store(r.store) for r in votes} | {normalise_store(inc.store)}
    return IncidentEvidence(
        incident_id=inc.incident_id, type=inc.type, force=inc.force, country=inc.country,
        towns=frozenset(t for t in towns if t), lat=inc.lat, lon=inc.lon, date=_ordinal(inc.date),
        seen=min(seen).toordinal() if seen else None, stores=tuple(s for s in stores if s),
        mo=frozenset(inc.mo), n_primary=len(primary), articles=articles,
        month_day=day_of_year(_ordinal(inc.date), inc.month_day),
        courts=tuple(sorted({r.published.toordinal() for r in votes
                             if r.kind == "court" and r.published is not None})))
