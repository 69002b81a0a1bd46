"""Alert matching, payloads and signatures: the pure core of webhook alerts (no I/O).

Both runtimes use this module unchanged; ``sinks/webhook.py`` (SQLite outbox + sender) and the Kafka
consumer are thin adapters around it. See ``docs/alerts.md`` for what a receiver sees.

Matching an :class:`~cashwatch.models.IncidentEvent` against a
:class:`~cashwatch.config.SubscriptionConfig`:

* **place** – ``regions``, ``forces`` and ``circle`` are alternatives: when any of them is set the
  incident must lie in one of the listed regions, *or* one of the listed forces, *or* inside the circle
  (great-circle distance from the incident's lat/lon; an incident without coordinates is never inside).
  The region is the incident's own or, when missing, the region of its force.
* **every other filter must hold** – ``types``, ``countries`` (ISO 3166-1 alpha-2 codes: the incident's
  country or its force's, ``GB`` for every UK force), ``nations`` (england, wales, scotland,
  northern-ireland: the nation of the incident's force),
  ``attempted`` (None: both), ``min_confidence``.
* **events** – a ``created`` event is the alert event ``created`` (or, for a subscription that did not
  ask for ``created``, the court stage the incident was created at, if any); an ``updated`` event whose
  ``changes`` contain ``"stage"`` while the incident's ``stage`` is a court stage (arrest, charged,
  convicted, sentenced) is that stage, otherwise ``updated``; a ``merged`` event (a report showed two
  incidents to be one) is ``merged``, else ``updated``, and never a second ``created``; a ``retracted``
  event (an analyst dismissed the incident) is ``retracted``, else ``updated``, once per incident (a later
  report of a dismissed incident is a ``retracted`` event again, with the same key). A subscription
  gets at most one alert per incident event: the court stage (or ``merged``) when it asked for it,
  else ``updated`` when it asked for that.

Idempotency: one key per (subscription, incident, event key) where the event key is
``IncidentEvent.event_key`` (``created`` once per incident, ``updated`` once per report) or
``<incident>:<stage>`` for a court stage (once per stage, however many outlets report the charge).
The key is all a sender needs to make a replay, a restart or a retry after a timeout harmless.

Signing: ``X-Cashwatch-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>." + body)>`` with
``X-Cashwatch-Timestamp: <unix seconds>``; :func:`verify_signature` is the receiver's check.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import math
import time
from collections.abc import Iterable
from urllib.parse import quote

from cashwatch.config import SubscriptionConfig
from cashwatch.models import Alert, Incident, IncidentEvent
from cashwatch.places_table import FORCES, country_code, nation_of, region_of

PAYLOAD_SCHEMA = 1  # bump when a change breaks receivers of the generic JSON body
COURT_STAGES: tuple[str, ...] = ("arrest", "charged", "convicted", "sentenced")
EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)

IDEMPOTENCY_HEADER = "Idempotency-Key"
SIGNATURE_HEADER = "X-Cashwatch-Signature"
TIMESTAMP_HEADER = "X-Cashwatch-Timestamp"
EVENT_HEADER = "X-Cashwatch-Event"
SUBSCRIPTION_HEADER = "X-Cashwatch-Subscription"
ATTEMPT_HEADER = "X-Cashwatch-Attempt"
DEFAULT_REPLAY_WINDOW_S = 300.0

TYPE_LABELS = {
    "atm_theft": "ATM theft",
    "atm_explosive": "ATM explosive attack",
    "atm_break_in": "ATM break-in",
    "cit_robbery": "Cash-in-transit robbery",
}


# ---------------------------------------------------------------- places

def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres between two WGS84 points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def incident_region(incident: Incident) -> str | None:
    """The incident's region id, falling back to its force's region."""
    return incident.region or region_of(incident.force)


def incident_country(incident: Incident) -> str | None:
    """The incident's ISO 3166-1 alpha-2 country code (``GB`` for the UK), falling back to its force's."""
    return country_code(incident.country, incident.force)


def incident_nation(incident: Incident) -> str | None:
    """The UK nation of the incident's force (england, wales, scotland, northern-ireland), or None."""
    return nation_of(incident.force)


# ---------------------------------------------------------------- matching

def candidate_events(event: IncidentEvent) -> list[str]:
    """The alert events an incident event can be, in order of preference."""
    if event.event == "created":
        # a court report can be the first cashwatch hears of an attack: the incident is born at that stage
        return ["created", event.incident.stage] if event.incident.stage in COURT_STAGES else ["created"]
    if event.event == "merged":
        return ["merged", "updated"]
    if event.event == "retracted" or event.incident.dismissed:
        return ["retracted", "updated"]
    if "stage" in event.changes and event.incident.stage in COURT_STAGES:
        return [event.incident.stage, "updated"]
    return ["updated"]


def mismatches(sub: SubscriptionConfig, event: IncidentEvent) -> list[str]:
    """Why ``event`` does not match ``sub``: the names of the failing filters (empty: it matches)."""
    inc = event.incident
    failed: list[str] = []
    if sub.regions or sub.forces or sub.circle:
        in_place = (incident_region(inc) in sub.regions) or (inc.force in sub.forces)
        if not in_place and sub.circle is not None and inc.lat is not None and inc.lon is not None:
            in_place = haversine_km(sub.circle.lat, sub.circle.lon, inc.lat, inc.lon) <= sub.circle.km
        if not in_place:
            failed.append("place")
    if sub.types and inc.type not in sub.types:
        failed.append("types")
    if sub.countries and incident_country(inc) not in sub.countries:
        failed.append("countries")
    if sub.nations and incident_nation(inc) not in sub.nations:
        failed.append("nations")
    if sub.attempted is not None and inc.attempted != sub.attempted:
        failed.append("attempted")
    if inc.confidence < sub.min_confidence:
        failed.append("min_confidence")
    if not any(e in sub.events for e in candidate_events(event)):
        failed.append("events")
    return failed


def match(sub: SubscriptionConfig, event: IncidentEvent) -> str | None:
    """The alert event ``sub`` gets for ``event`` (``created``, ``updated`` or a court stage), or None."""
    if mismatches(sub, event):
        return None
    return next(e for e in candidate_events(event) if e in sub.events)


def alert_event_key(event: IncidentEvent, alert_event: str) -> str:
    """The event part of the idempotency key (see module docstring)."""
    if alert_event in COURT_STAGES:
        return f"{event.incident.incident_id}:{alert_event}"
    return event.event_key


def idempotency_key(subscription: str, event_key: str) -> str:
    """Deterministic, header-safe key of one alert: same subscription and event key, same key."""
    digest = hashlib.sha256(f"{subscription}\n{event_key}".encode("utf-8")).hexdigest()
    return "cw1-" + digest[:40]


# ---------------------------------------------------------------- payloads

def kibana_link(kibana_url: str | None, incident_id: str) -> str | None:
    """A Kibana Discover link that shows one incident, or None when Kibana is not configured."""
    if not kibana_url:
        return None
    query = quote(f"incident_id:\"{incident_id}\"", safe="")
    return f"{kibana_url.rstrip('/')}/app/discover#/?_a=(query:(language:kuery,query:'{query}'))"


def _report(r) -> dict:
    return {"article_id": r.article_id, "title": r.title, "url": r.url, "source": r.source,
            "published": r.published.isoformat() if r.published else None, "kind": r.kind, "role": r.role}


def incident_fields(inc: Incident) -> dict:
    """An incident's fields as alerts carry them (``payload["incident"]``), and as the ``incidents``
    command exports them (CSV, GeoJSON): one shape wherever an incident leaves cashwatch."""
    force = FORCES.get(inc.force or "")
    return {
        "id": inc.incident_id,
        "type": inc.type,
        "type_label": TYPE_LABELS.get(inc.type, inc.type),
        "attempted": inc.attempted,
        "town": inc.town,
        "force": inc.force,
        "force_name": force.name if force else None,
        "region": incident_region(inc),
        "country": incident_country(inc),
        "nation": incident_nation(inc),
        "lat": inc.lat,
        "lon": inc.lon,
        "date": inc.date.isoformat() if inc.date else None,
        # no date, but the day and month a report gave without a year ("--08-16", ISO 8601)
        "month_day": inc.month_day,
        "stage": inc.stage,
        "confidence": inc.confidence,
        "mo": list(inc.mo),
        "first_seen": inc.first_seen.isoformat(),
        "last_seen": inc.last_seen.isoformat(),
    }


def build_payload(sub_name: str, event: IncidentEvent, alert_event: str, key: str,
                  kibana_url: str | None = None) -> dict:
    """The generic, versioned JSON body of one alert (documented field by field in docs/alerts.md).

    Deterministic for a given input (no send time inside), so every retry carries the same body.
    """
    inc = event.incident
    first = inc.reports[0] if inc.reports else None
    payload = {
        "schema": PAYLOAD_SCHEMA,
        "idempotency_key": key,
        "subscription": sub_name,
        "event": alert_event,
        "incident_event": event.event,
        "changes": list(event.changes),
        "absorbed": event.absorbed,  # merged: the incident id (alerted before) that is this incident
        "correction_id": event.correction_id,  # an analyst's correction caused it (null otherwise)
        "triggered_by": event.article_id,
        "incident": incident_fields(inc),
        "first_report": _report(first) if first else None,
        "reports": [_report(r) for r in inc.reports],
        "report_count": len(inc.reports),
        "links": {"kibana": kibana_link(kibana_url, inc.incident_id)},
    }
    payload["summary"] = _headline(payload)
    return payload


def _headline(payload: dict) -> str:
    inc = payload["incident"]
    what = inc["type_label"] + (" (attempted)" if inc["attempted"] else "")
    where = ", ".join(x for x in (inc["town"], inc["force_name"] or inc["force"]) if x) or "place unknown"
    verb = {"created": "New", "updated": "Update", "merged": "Same incident:", "retracted": "Dismissed:"}.get(
        payload["event"], payload["event"].capitalize() + ":")
    return f"{verb} {what} – {where}"


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_body(payload: dict) -> dict:
    """A Slack incoming-webhook message (``text`` fallback + Block Kit blocks)."""
    inc = payload["incident"]
    headline = _headline(payload)
    fields = [f"*Date:* {inc['date'] or 'unknown'}", f"*Region:* {inc['region'] or 'unknown'}",
              f"*Reports:* {payload['report_count']}", f"*Confidence:* {inc['confidence']:.2f}"]
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": headline[:150]}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": _slack_escape(f)} for f in fields]},
    ]
    first = payload["first_report"]
    if first:
        title = _slack_escape(first["title"] or first["url"])
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"<{first['url']}|{title}>"
                                                    + (f" – {_slack_escape(first['source'])}" if first["source"] else "")}})
    if payload["links"]["kibana"]:
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"<{payload['links']['kibana']}|Open in Kibana> · {inc['id']}"}]})
    return {"text": _slack_escape(headline), "blocks": blocks}


def teams_body(payload: dict) -> dict:
    """A Microsoft Teams message with an Adaptive Card (Teams Workflows / incoming webhook format)."""
    inc = payload["incident"]
    facts = [{"title": "Date", "value": inc["date"] or "unknown"},
             {"title": "Force", "value": inc["force_name"] or inc["force"] or "unknown"},
             {"title": "Region", "value": inc["region"] or "unknown"},
             {"title": "Reports", "value": str(payload["report_count"])},
             {"title": "Incident", "value": inc["id"]}]
    body: list[dict] = [
        {"type": "TextBlock", "size": "Medium", "weight": "Bolder", "wrap": True, "text": _headline(payload)},
        {"type": "FactSet", "facts": facts},
    ]
    actions = []
    first = payload["first_report"]
    if first:
        body.append({"type": "TextBlock", "wrap": True, "text": first["title"] or first["url"]})
        actions.append({"type": "Action.OpenUrl", "title": "First report", "url": first["url"]})
    if payload["links"]["kibana"]:
        actions.append({"type": "Action.OpenUrl", "title": "Open in Kibana", "url": payload["links"]["kibana"]})
    card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.4", "body": body, "actions": actions}
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}]}


def render_body(payload: dict, fmt: str) -> bytes:
    """The HTTP body for a subscription format (``json``, ``slack`` or ``teams``), UTF-8 JSON bytes."""
    if fmt == "json":
        doc = payload
    elif fmt == "slack":
        doc = slack_body(payload)
    elif fmt == "teams":
        doc = teams_body(payload)
    else:
        raise ValueError(f"unknown alert format {fmt!r}")
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def plan_alerts(subscriptions: Iterable[SubscriptionConfig], event: IncidentEvent,
                kibana_url: str | None = None) -> list[Alert]:
    """Every alert ``event`` causes: at most one per matching subscription, in subscription order."""
    alerts = [build_alert(sub, event, kibana_url) for sub in subscriptions]
    return [a for a in alerts if a is not None]


def build_alert(sub: SubscriptionConfig, event: IncidentEvent, kibana_url: str | None = None, *,
                key: str | None = None) -> Alert | None:
    """The alert ``sub`` gets for ``event``, or None when it does not match. ``key`` replaces the
    deterministic idempotency key (``cashwatch subscriptions test`` sends a fresh ``test-`` key): the
    test alert is otherwise built by exactly this code, as real ones are."""
    alert_event = match(sub, event)
    if alert_event is None:
        return None
    key = key or idempotency_key(sub.name, alert_event_key(event, alert_event))
    return Alert(subscription=sub.name, incident_id=event.incident.incident_id, event=alert_event,
                 idempotency_key=key, payload=build_payload(sub.name, event, alert_event, key, kibana_url))


# ---------------------------------------------------------------- signatures

def sign(secret: str | bytes, timestamp: int | str, body: bytes) -> str:
    """The signature header value: ``v1=`` + hex HMAC-SHA256 of ``b"<timestamp>." + body``."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    mac = hmac.new(key, str(timestamp).encode("ascii") + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def signature_problem(secret: str | bytes, body: bytes, timestamp: str | None, signature: str | None, *,
                      now: float | None = None, tolerance_s: float = DEFAULT_REPLAY_WINDOW_S) -> str | None:
    """Why a request's signature is not acceptable (``missing``, ``bad_timestamp``, ``stale``, ``mismatch``),
    or None when it is valid and its timestamp is within ``tolerance_s`` of ``now``.

    ``signature`` may hold several comma-separated ``v1=`` values (secret rotation): one match suffices.
    Comparison is constant-time.
    """
    if not timestamp or not signature:
        return "missing"
    try:
        ts = int(timestamp)
    except ValueError:
        return "bad_timestamp"
    now = time.time() if now is None else now
    if abs(now - ts) > tolerance_s:
        return "stale"
    expected = sign(secret, ts, body)
    candidates = [s.strip() for s in signature.split(",")]
    if any(hmac.compare_digest(expected, c) for c in candidates):
        return None
    return "mismatch"


def verify_signature(secret: str | bytes, body: bytes, timestamp: str | None, signature: str | None, *,
                     now: float | None = None, tolerance_s: float = DEFAULT_REPLAY_WINDOW_S) -> bool:
    """True when the request was signed with ``secret`` within the replay window (see :func:`signature_problem`)."""
    return signature_problem(secret, body, timestamp, signature, now=now, tolerance_s=tolerance_s) is None


def request_headers(*, subscription: str, key: str, event: str, body: bytes, secret: str | None,
                    attempt: int, now: float | None = None, user_agent: str = "cashwatch") -> dict[str, str]:
    """The headers of one delivery attempt. The signature is fresh per attempt (new timestamp);
    the idempotency key and body never change between attempts."""
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": user_agent,
        IDEMPOTENCY_HEADER: key,
        EVENT_HEADER: event,
        SUBSCRIPTION_HEADER: subscription,
        ATTEMPT_HEADER: str(attempt),
    }
    if secret:
        ts = int(time.time() if now is None else now)
        headers[TIMESTAMP_HEADER] = str(ts)
        headers[SIGNATURE_HEADER] = sign(secret, ts, body)
    return headers
