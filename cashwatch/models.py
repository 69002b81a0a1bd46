"""Typed, versioned records that travel between the stages (DESIGN.md, "Records between stages").

Every record is a frozen pydantic model with a ``schema`` version field and round-trips through JSON,
which is what travels on Kafka and what the embedded runtime keeps in SQLite::

    FeedItem ──► Page ──► Article ──► Analysis ──► IncidentEvent ──► Alert
    producers   producers processors  processors   processors        sinks

Ids are deterministic (``article_id`` from the canonical URL, ``incident_id`` from the first report),
so replays and restarts upsert instead of duplicating. A change that breaks readers of a record bumps
its ``SCHEMA`` constant.
"""
from __future__ import annotations

import hashlib
import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Kind = Literal["incident", "court", "campaign", "other"]
IncidentType = Literal["atm_theft", "atm_explosive", "atm_break_in", "cit_robbery"]
Role = Literal["primary", "reference"]
EventType = Literal["created", "updated", "merged", "retracted"]
Stage = Literal["reported", "arrest", "charged", "convicted", "sentenced"]
AlertEvent = Literal["created", "updated", "merged", "retracted", "arrest", "charged", "convicted", "sentenced"]  # what a subscription asks for

KINDS: tuple[str, ...] = ("incident", "court", "campaign", "other")
INCIDENT_TYPES: tuple[str, ...] = ("atm_theft", "atm_explosive", "atm_break_in", "cit_robbery")
STAGES: tuple[str, ...] = ("reported", "arrest", "charged", "convicted", "sentenced")


class Record(BaseModel):
    """Base of every record: frozen, unknown fields rejected, JSON on the wire."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, data: str | bytes):
        return cls.model_validate_json(data)


def article_id_for(canonical_url: str) -> str:
    """Deterministic article id: the first 16 hex digits of SHA-256 of the canonical URL."""
    return "a-" + hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:16]


class FeedItem(Record):
    """One entry of a feed, as the producer saw it. Titles and summaries are plain text."""

    schema_version: int = Field(1, alias="schema")
    article_id: str
    feed_id: str
    guid: str | None = None
    url: str
    title: str = ""
    summary: str = ""
    published: dt.datetime | None = None
    source: str = ""
    place_hint: str | None = None  # a police force id the feed covers, if any

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Page(Record):
    """A fetched article page, or the reason it could not be fetched (``error_code`` set, no html)."""

    schema_version: int = Field(1, alias="schema")
    article_id: str
    item: FeedItem
    html: str | None = None
    final_url: str | None = None
    status: int | None = None
    content_type: str | None = None
    error_code: str | None = None
    error: str | None = None

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Article(Record):
    """Extracted article text. ``text`` is the story body without boilerplate."""

    schema_version: int = Field(1, alias="schema")
    article_id: str
    url: str
    source: str = ""
    published: dt.date | None = None
    title: str = ""
    text: str = ""
    language: str | None = None
    place_hint: str | None = None
    feed_id: str | None = None

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Scene(Record):
    """Where and when an attack happened, as one article or the merged incident tells it."""

    town: str | None = None
    force: str | None = None
    country: str | None = None
    lat: float | None = None
    lon: float | None = None
    date: dt.date | None = None
    # when ``date`` is unknown but a day and month without a year are ("on August 16" in an undated
    # report): "--MM-DD" (ISO 8601). Not a day, but it tells two attacks apart.
    month_day: str | None = Field(None, pattern=r"^--(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
    store: str | None = None  # a shop, bank or street named at the scene, used for linking


class IncidentMention(Scene):
    """One attack an article reports (``primary``) or mentions for context (``reference``)."""

    type: IncidentType
    attempted: bool = False
    region: str | None = None
    mo: list[str] = Field(default_factory=list)
    evidence: str = ""
    confidence: float = 0.5
    role: Role = "primary"
    incident_id: str | None = None
    # the features that moved the primary/reference decision most (name -> log-odds contribution)
    signals: dict[str, float] = Field(default_factory=dict)


class Analysis(Record):
    """What the processors concluded about one article."""

    schema_version: int = Field(1, alias="schema")
    article_id: str
    url: str = ""
    source: str = ""
    published: dt.date | None = None
    title: str = ""
    kind: Kind
    stage: Stage | None = None  # for court reports: how far the case has got
    incidents: list[IncidentMention] = Field(default_factory=list)
    text_signature: list[int] | None = None  # MinHash of the body, for syndicated-copy linking
    # the kind model's probability for ``kind`` and the features that moved it most (None: the rules decided)
    kind_confidence: float | None = None
    kind_signals: dict[str, float] = Field(default_factory=dict)

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Report(Scene):
    """One article that reports an incident, as stored on the incident."""

    article_id: str
    url: str
    source: str = ""
    title: str = ""
    published: dt.date | None = None
    kind: Kind = "incident"
    role: Role = "primary"
    # What this report said about the incident (the linker recomputes the consensus from these, so a
    # restarted linker given the stored incidents decides exactly as before the restart).
    mention: int = 0  # index of the mention in the article's Analysis.incidents
    type: IncidentType | None = None
    attempted: bool | None = None
    stage: Stage | None = None
    # The article's Analysis.text_signature, so that a linker rebuilt from stored incidents (after a
    # restart or a rebalance) still recognises syndicated copies of it. Not sent in alerts or indexed.
    text_signature: list[int] | None = None


class CorrectedFields(Record):
    """The fields of an incident an analyst set by hand (None: not corrected, the reports decide)."""

    type: IncidentType | None = None
    attempted: bool | None = None
    town: str | None = None
    force: str | None = None
    date: dt.date | None = None
    lat: float | None = None
    lon: float | None = None

    def given(self) -> dict:
        """The corrected fields only."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


CorrectionAction = Literal["merge", "split", "dismiss", "edit"]


class Correction(Record):
    """An analyst's correction of the linker's or the analyser's work (``cashwatch incidents
    merge|split|dismiss|edit`` or the web page), stored with who, when and what.

    * ``merge``: ``incident_id`` and ``other_id`` are one attack (the one seen first survives);
    * ``split``: report ``article_id`` (mention ``mention``) of ``incident_id`` is another attack: it
      becomes an incident of its own, never merged back;
    * ``dismiss``: ``incident_id`` is not an ATM or CIT attack (a ``retracted`` event);
    * ``edit``: ``fields`` (type, attempted, town, force, date) win over what the reports say.
    """

    schema_version: int = Field(1, alias="schema")
    correction_id: str
    action: CorrectionAction
    incident_id: str
    other_id: str | None = None
    article_id: str | None = None
    mention: int | None = None
    fields: CorrectedFields = Field(default_factory=lambda: CorrectedFields())
    by: str
    at: dt.datetime
    note: str = ""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Incident(Scene):
    """The merged view of one real-world incident across all its reports."""

    incident_id: str
    type: IncidentType
    attempted: bool = False
    region: str | None = None
    mo: list[str] = Field(default_factory=list)
    stage: Stage = "reported"
    confidence: float = 0.5
    first_seen: dt.datetime
    last_seen: dt.datetime
    reports: list[Report] = Field(default_factory=list)
    # ids of incidents found later to be this one and merged into it (they point here from then on)
    merged_ids: list[str] = Field(default_factory=list)
    # An analyst's corrections, which no later report, analysis or replay undoes (the linker honours them):
    dismissed: bool = False  # not an ATM or CIT attack: hidden, its later reports attach silently
    corrected: "CorrectedFields" = Field(default_factory=lambda: CorrectedFields())  # win over the consensus
    kept_apart: list[str] = Field(default_factory=list)  # incidents split from this one: never merged back
    corrections: int = 0  # how many corrections changed it (orders its versions in Elasticsearch)


class IncidentEvent(Record):
    """``created`` when an incident first appears, ``updated`` when a report adds something, ``merged``
    when a report shows two incidents to be one: ``incident`` is the survivor (the one seen first, with
    every report of both) and ``absorbed`` the id that now points to it; ``retracted`` when an analyst
    dismissed the incident (and for a later report of it: it stays dismissed). An event caused by an
    analyst's correction carries its ``correction_id`` and ``article_id`` ``"correction:<id>"``."""

    schema_version: int = Field(1, alias="schema")
    event: EventType
    incident: Incident
    article_id: str
    changes: list[str] = Field(default_factory=list)
    absorbed: str | None = None  # merged: the id merged into ``incident``
    correction_id: str | None = None  # the analyst's correction that caused it, if any

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @property
    def event_key(self) -> str:
        """Stable key of this event: ``created`` once per incident, ``updated`` once per report."""
        if self.event == "created":
            return f"{self.incident.incident_id}:created"
        if self.event == "merged":
            return f"{self.incident.incident_id}:merged:{self.absorbed}"
        if self.event == "retracted":
            return f"{self.incident.incident_id}:retracted"
        return f"{self.incident.incident_id}:updated:{self.article_id}"


class Alert(Record):
    """What a webhook subscription receives for one incident event."""

    schema_version: int = Field(1, alias="schema")
    subscription: str
    incident_id: str
    event: AlertEvent  # created / updated, or the court stage an update reached
    idempotency_key: str
    payload: dict

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
