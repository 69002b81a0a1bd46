"""The pure alert core (cashwatch/alerting.py) and the subscription commands.

Fixture incidents are made up here (towns, forces and coordinates are real places; nothing is taken
from the evaluation articles).
"""
from __future__ import annotations

import datetime as dt
import json

import pytest
import yaml
from typer.testing import CliRunner

from cashwatch import alerting
from cashwatch.cli import app
from cashwatch.config import Settings, SubscriptionConfig, load_settings
from cashwatch.errors import ConfigError
from cashwatch.models import Incident, IncidentEvent, Report

T0 = dt.datetime(2026, 3, 2, 6, 30, tzinfo=dt.timezone.utc)

# (town, force, lat, lon)
PLACES = {
    "preston": ("Preston", "lancashire", 53.7632, -2.7031),
    "wrexham": ("Wrexham", "north-wales", 53.0466, -2.9925),
    "bolton": ("Bolton", "greater-manchester", 53.5769, -2.4282),
    "liverpool": ("Liverpool", "merseyside", 53.4084, -2.9916),
    "cardiff": ("Cardiff", "south-wales", 51.4816, -3.1791),
    "maidstone": ("Maidstone", "kent", 51.2704, 0.5227),
    "chester": ("Chester", "cheshire", 53.1934, -2.8931),
}


def make_incident(place: str = "preston", *, incident_id: str = "i-0001", type: str = "atm_theft",
                  attempted: bool = False, confidence: float = 0.8, region: str | None = None,
                  coords: bool = True, reports: int = 1, stage: str = "reported", country: str | None = None) -> Incident:
    town, force, lat, lon = PLACES[place]
    return Incident(
        incident_id=incident_id, type=type, attempted=attempted, town=town, force=force, region=region,
        country=country, lat=lat if coords else None, lon=lon if coords else None, date=dt.date(2026, 3, 2),
        confidence=confidence, stage=stage, first_seen=T0, last_seen=T0,
        reports=[Report(article_id=f"a-{incident_id}-{n}", url=f"https://news.example/{incident_id}/{n}",
                        source=f"Outlet {n}", title=f"Cash machine ripped from wall in {town} ({n})",
                        published=dt.date(2026, 3, 2)) for n in range(reports)],
    )


def make_event(place: str = "preston", *, event: str = "created", report: int = 0, changes: list[str] | None = None,
               **kw) -> IncidentEvent:
    inc = make_incident(place, reports=report + 1, **kw)
    return IncidentEvent(event=event, incident=inc, article_id=inc.reports[report].article_id,
                         changes=changes if changes is not None else ([] if event == "created" else ["report"]))


def sub(**kw) -> SubscriptionConfig:
    return SubscriptionConfig(name=kw.pop("name", "s1"), url=kw.pop("url", "https://hooks.example/x"), **kw)


# ---------------------------------------------------------------- matching

CIRCLE_MCR = {"lat": 53.4808, "lon": -2.2426, "km": 30}  # Manchester city centre, 30 km

MATCH_CASES = [
    # (subscription filters, event kwargs, expected alert event or None)
    ({"regions": ["north-west"]}, {"place": "preston"}, "created"),
    ({"regions": ["north-west"]}, {"place": "wrexham"}, "created"),  # North Wales Police is in the NW ROCU area
    ({"regions": ["north-west"]}, {"place": "cardiff"}, None),
    ({"regions": ["north-west"]}, {"place": "maidstone"}, None),
    ({"regions": ["london"]}, {"place": "preston", "region": "london"}, "created"),  # the incident's own region wins
    ({"forces": ["cheshire"]}, {"place": "chester"}, "created"),
    ({"forces": ["cheshire"]}, {"place": "liverpool"}, None),
    ({"regions": ["london"], "forces": ["cheshire"]}, {"place": "chester"}, "created"),  # place filters are a union
    ({"circle": CIRCLE_MCR}, {"place": "bolton"}, "created"),  # ~17 km
    ({"circle": CIRCLE_MCR}, {"place": "liverpool"}, None),  # ~50 km
    ({"circle": CIRCLE_MCR}, {"place": "bolton", "coords": False}, None),  # no coordinates: never inside
    ({"circle": CIRCLE_MCR, "forces": ["merseyside"]}, {"place": "liverpool"}, "created"),
    ({"types": ["cit_robbery"]}, {"type": "atm_theft"}, None),
    ({"types": ["cit_robbery", "atm_theft"]}, {"type": "atm_theft"}, "created"),
    ({"nations": ["wales"]}, {"place": "wrexham"}, "created"),  # the nation of the force
    ({"nations": ["wales"]}, {"place": "chester"}, None),
    ({"regions": ["north-west"], "nations": ["wales"]}, {"place": "preston"}, None),  # other filters are AND
    ({"countries": ["GB"]}, {"place": "chester"}, "created"),  # country from the force: GB
    ({"countries": ["gb"]}, {"place": "chester", "country": "GB"}, "created"),  # codes are upper-cased
    ({"countries": ["GB"]}, {"place": "chester", "country": "gb"}, "created"),  # the incident's own, normalised
    ({"countries": ["IE"]}, {"place": "chester", "country": "GB"}, None),
    ({"countries": ["IE"]}, {"place": "chester", "country": "IE"}, "created"),
    ({"attempted": True}, {"attempted": False}, None),
    ({"attempted": False}, {"attempted": False}, "created"),
    ({"attempted": None}, {"attempted": True}, "created"),
    ({"min_confidence": 0.7}, {"confidence": 0.69}, None),
    ({"min_confidence": 0.7}, {"confidence": 0.7}, "created"),
    ({}, {"event": "updated", "report": 2}, None),  # default: created only
    ({"events": ["created", "updated"]}, {"event": "updated", "report": 2}, "updated"),
    ({"events": ["charged"]}, {"event": "updated", "report": 1, "changes": ["stage"], "stage": "charged"}, "charged"),
    ({"events": ["charged", "updated"]}, {"event": "updated", "report": 1, "changes": ["report"], "stage": "charged"},
     "updated"),  # the stage did not change with this report
    ({"events": ["updated"]}, {"event": "updated", "report": 1, "changes": ["stage"], "stage": "sentenced"}, "updated"),
    ({"events": ["created"]}, {"event": "updated", "report": 1, "changes": ["stage"], "stage": "charged"}, None),
    # an incident first heard of through a court report is created at that stage
    ({"events": ["charged"]}, {"event": "created", "stage": "charged"}, "charged"),
    ({"events": ["created", "charged"]}, {"event": "created", "stage": "charged"}, "created"),
    ({"events": ["sentenced"]}, {"event": "created", "stage": "charged"}, None),
]


@pytest.mark.parametrize("filters, event_kw, expected", MATCH_CASES)
def test_match(filters, event_kw, expected):
    s = sub(**filters)
    ev = make_event(**event_kw)
    assert alerting.match(s, ev) == expected
    assert (alerting.mismatches(s, ev) == []) == (expected is not None)


def test_mismatches_name_every_failing_filter():
    s = sub(regions=["london"], types=["cit_robbery"], min_confidence=0.9)
    assert alerting.mismatches(s, make_event("preston", confidence=0.5)) == ["place", "types", "min_confidence"]


@pytest.mark.parametrize("a, b, km", [
    ((51.5074, -0.1278), (48.8566, 2.3522), 343.5),  # London - Paris
    ((53.4808, -2.2426), (53.4808, -2.2426), 0.0),
    ((0.0, 0.0), (0.0, 180.0), 20015.1),  # half the equator
])
def test_haversine(a, b, km):
    assert alerting.haversine_km(*a, *b) == pytest.approx(km, abs=0.5)


# ---------------------------------------------------------------- idempotency keys

def _key(s, ev):
    alert_event = alerting.match(s, ev)
    return alerting.idempotency_key(s.name, alerting.alert_event_key(ev, alert_event))


def test_one_key_per_subscription_incident_and_event():
    everything = sub(events=["created", "updated", "charged"])
    other = sub(name="s2", events=["created", "updated", "charged"])
    created = make_event(report=0)
    created_again = make_event(report=3, event="created")  # a replayed/linked-late created event
    up1, up2 = make_event(event="updated", report=1), make_event(event="updated", report=2)
    ch1 = make_event(event="updated", report=1, changes=["stage"], stage="charged")
    ch2 = make_event(event="updated", report=2, changes=["stage"], stage="charged")
    assert _key(everything, created) == _key(everything, created_again)
    assert _key(everything, created) != _key(other, created)
    assert _key(everything, up1) != _key(everything, up2)
    assert _key(everything, ch1) == _key(everything, ch2)  # one alert per court stage, however many outlets
    assert len({_key(everything, e) for e in (created, up1, ch1)}) == 3
    assert all(_key(everything, e).isascii() and len(_key(everything, e)) < 64 for e in (created, up1, ch1))


def test_five_reports_plan_one_created_alert_per_matching_subscription():
    subs = [sub(name="nw", regions=["north-west"]), sub(name="lancs", forces=["lancashire"]),
            sub(name="london", regions=["london"]), sub(name="all-updates", events=["created", "updated"])]
    events = [make_event(event="created")] + [make_event(event="updated", report=n) for n in range(1, 5)]
    alerts = [a for ev in events for a in alerting.plan_alerts(subs, ev)]
    created = [(a.subscription, a.event) for a in alerts if a.event == "created"]
    assert sorted(created) == [("all-updates", "created"), ("lancs", "created"), ("nw", "created")]
    assert [a.event for a in alerts if a.subscription == "all-updates"] == ["created"] + ["updated"] * 4
    assert len({a.idempotency_key for a in alerts}) == len(alerts)


# ---------------------------------------------------------------- payloads

def test_payload_fields():
    ev = make_event("wrexham", report=2, event="updated")
    p = alerting.build_payload("nw", ev, "updated", "cw1-k", kibana_url="http://kibana.local:5601/")
    assert p["schema"] == alerting.PAYLOAD_SCHEMA
    inc = p["incident"]
    assert (inc["force"], inc["region"], inc["country"], inc["nation"], inc["town"]) == (
        "north-wales", "north-west", "GB", "wales", "Wrexham")
    assert inc["force_name"] == "North Wales Police"
    assert (inc["lat"], inc["lon"]) == (53.0466, -2.9925)
    assert p["first_report"]["url"] == ev.incident.reports[0].url
    assert p["report_count"] == 3 and [r["url"] for r in p["reports"]] == [r.url for r in ev.incident.reports]
    assert p["links"]["kibana"].startswith("http://kibana.local:5601/app/discover#/")
    assert ev.incident.incident_id in p["links"]["kibana"]
    assert alerting.build_payload("nw", ev, "updated", "cw1-k")["links"]["kibana"] is None
    assert inc["month_day"] is None  # (a dated incident)
    undated = ev.model_copy(update={"incident": ev.incident.model_copy(update={"date": None, "month_day": "--08-16"})})
    p_undated = alerting.build_payload("nw", undated, "updated", "cw1-k")["incident"]
    assert (p_undated["date"], p_undated["month_day"]) == (None, "--08-16")
    # deterministic: every retry carries the same bytes
    assert alerting.render_body(p, "json") == alerting.render_body(
        alerting.build_payload("nw", ev, "updated", "cw1-k", kibana_url="http://kibana.local:5601/"), "json")
    json.dumps(p)  # plain JSON types only


@pytest.mark.parametrize("fmt", ["json", "slack", "teams"])
def test_formats_are_json_and_name_the_place(fmt):
    ev = make_event("bolton", type="cit_robbery", attempted=True)
    body = alerting.render_body(alerting.build_payload("s", ev, "created", "k"), fmt)
    doc = json.loads(body)
    text = json.dumps(doc)
    assert "Bolton" in text and "Cash-in-transit robbery (attempted)" in text
    if fmt == "slack":
        assert doc["text"].startswith("New Cash-in-transit robbery") and doc["blocks"][0]["type"] == "header"
    if fmt == "teams":
        assert doc["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"


def test_slack_escapes_control_characters():
    inc = make_incident().model_copy(update={"town": "A<b>&c"})
    ev = IncidentEvent(event="created", incident=inc, article_id=inc.reports[0].article_id)
    doc = alerting.slack_body(alerting.build_payload("s", ev, "created", "k"))
    assert "A&lt;b&gt;&amp;c" in doc["text"] and "<b>" not in doc["text"]


# ---------------------------------------------------------------- signatures

BODY = b'{"schema":1,"incident":{"id":"i-1"}}'


@pytest.mark.parametrize("secret, body, ts, sig_of, now, problem", [
    ("s3cret", BODY, 1_700_000_000, ("s3cret", 1_700_000_000, BODY), 1_700_000_010, None),
    ("s3cret", BODY + b" ", 1_700_000_000, ("s3cret", 1_700_000_000, BODY), 1_700_000_010, "mismatch"),  # body tampered
    ("s3cret", BODY, 1_700_000_000, ("other", 1_700_000_000, BODY), 1_700_000_010, "mismatch"),  # wrong secret
    ("s3cret", BODY, 1_700_000_001, ("s3cret", 1_700_000_000, BODY), 1_700_000_010, "mismatch"),  # timestamp changed
    ("s3cret", BODY, 1_700_000_000, ("s3cret", 1_700_000_000, BODY), 1_700_000_301, "stale"),  # replayed too late
    ("s3cret", BODY, 1_700_000_000, ("s3cret", 1_700_000_000, BODY), 1_699_999_600, "stale"),  # from the future
    ("s3cret", BODY, "soon", ("s3cret", 1_700_000_000, BODY), 1_700_000_010, "bad_timestamp"),
    ("s3cret", BODY, None, ("s3cret", 1_700_000_000, BODY), 1_700_000_010, "missing"),
])
def test_signature_verification(secret, body, ts, sig_of, now, problem):
    signature = alerting.sign(*sig_of)
    got = alerting.signature_problem(secret, body, None if ts is None else str(ts), signature, now=now)
    assert got == problem
    assert alerting.verify_signature(secret, body, None if ts is None else str(ts), signature, now=now) == (problem is None)


def test_signature_accepts_any_of_several_during_rotation():
    sig = alerting.sign("new", 100, BODY) + ", " + alerting.sign("old", 100, BODY)
    assert alerting.verify_signature("old", BODY, "100", sig, now=100)
    assert alerting.verify_signature("new", BODY, "100", sig, now=100)
    assert not alerting.verify_signature("neither", BODY, "100", sig, now=100)


def test_request_headers_sign_only_with_a_secret():
    h = alerting.request_headers(subscription="s", key="k1", event="created", body=BODY, secret="x", attempt=2, now=500)
    assert h["Idempotency-Key"] == "k1" and h["X-Cashwatch-Attempt"] == "2"
    assert alerting.verify_signature("x", BODY, h["X-Cashwatch-Timestamp"], h["X-Cashwatch-Signature"], now=500)
    bare = alerting.request_headers(subscription="s", key="k1", event="created", body=BODY, secret=None, attempt=1)
    assert alerting.SIGNATURE_HEADER not in bare and alerting.TIMESTAMP_HEADER not in bare


# ---------------------------------------------------------------- configuration

@pytest.mark.parametrize("entry, field", [
    ({"regions": ["north-west", "narnia"]}, "subscriptions[nw].regions"),
    ({"forces": ["lancs"]}, "subscriptions[nw].forces"),
    ({"countries": ["england"]}, "subscriptions[nw].countries"),  # a nation: nations: [england]
    ({"countries": ["France"]}, "subscriptions[nw].countries"),
    ({"nations": ["cornwall"]}, "subscriptions[nw].nations"),
    ({"types": ["bank_robbery"]}, "subscriptions[nw].types"),
    ({"events": ["created", "acquitted"]}, "subscriptions[nw].events"),
    ({"circle": {"lat": 53.4, "lon": -2.2}}, "subscriptions[nw].circle.km"),
    ({"url": "ftp://hooks.example/x"}, "subscriptions[nw].url"),
    ({"min_confidence": 1.5}, "subscriptions[nw].min_confidence"),
    ({"colour": "red"}, "subscriptions[nw].colour"),
])
def test_bad_subscriptions_are_refused_naming_the_field(tmp_path, entry, field):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"subscriptions": [{"name": "nw", "url": "https://hooks.example/x", **entry}]}))
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, env={})
    assert str(cfg) in str(err.value) and field in str(err.value)


# ---------------------------------------------------------------- `cashwatch subscriptions`

def _cli(*args, env=None):
    return CliRunner().invoke(app, list(args), env=env or {}, catch_exceptions=False)


def test_subscriptions_add_list_remove(tmp_path):
    cfg = tmp_path / "cashwatch.yaml"
    cfg.write_text("store_path: cw.db\nfeeds: []\n")
    r = _cli("subscriptions", "add", "nw-rocu", "https://hooks.example/T0/B0/XyZsecretpath", "--region", "north-west",
             "--type", "atm_theft", "--type", "atm_explosive", "--circle", "53.48,-2.24,30", "--min-confidence", "0.6",
             "--event", "created", "--event", "charged", "--secret-env", "NW_HOOK_SECRET", "--config", str(cfg),
             env={"NW_HOOK_SECRET": "hunter2"})
    assert r.exit_code == 0, r.output
    s = load_settings(cfg, env={})
    (nw,) = s.subscriptions
    assert nw.regions == ["north-west"] and nw.types == ["atm_theft", "atm_explosive"]
    assert (nw.circle.lat, nw.circle.lon, nw.circle.km) == (53.48, -2.24, 30)
    assert nw.events == ["created", "charged"] and nw.secret.get_secret_value() == "hunter2"
    assert s.store_path.endswith("cw.db")  # the rest of the file is kept

    r = _cli("subscriptions", "list", "--config", str(cfg))
    assert r.exit_code == 0 and "nw-rocu" in r.output and "north-west" in r.output
    assert "hunter2" not in r.output and "XyZsecretpath" not in r.output  # secrets and URL paths are not shown

    r = CliRunner().invoke(app, ["subscriptions", "add", "nw-rocu", "https://hooks.example/y", "--config", str(cfg)],
                           env={})
    assert r.exit_code != 0 and "already" in r.output

    r = _cli("subscriptions", "remove", "nw-rocu", "--config", str(cfg))
    assert r.exit_code == 0
    assert load_settings(cfg, env={}).subscriptions == []


@pytest.mark.parametrize("args, message", [
    (["--region", "narnia"], "regions"),
    (["--circle", "53.4,-2.2"], "--circle"),
    (["--type", "bank_job"], "types"),
])
def test_subscriptions_add_refuses_bad_input_and_leaves_the_file(tmp_path, args, message):
    cfg = tmp_path / "cashwatch.yaml"
    cfg.write_text("subscriptions: []\n")
    r = CliRunner().invoke(app, ["subscriptions", "add", "x", "https://hooks.example/x", *args, "--config", str(cfg)],
                           env={})
    assert r.exit_code != 0 and message in r.output
    assert cfg.read_text() == "subscriptions: []\n"


def test_subscriptions_add_refuses_private_targets_unless_allow_listed(tmp_path):
    cfg = tmp_path / "cashwatch.yaml"
    cfg.write_text("subscriptions: []\n")
    r = CliRunner().invoke(app, ["subscriptions", "add", "x", "http://127.0.0.1:9/hook", "--config", str(cfg)], env={})
    assert r.exit_code != 0 and "allow_hosts" in r.output
    cfg.write_text("http: {allow_hosts: ['127.0.0.1']}\nsubscriptions: []\n")
    r = _cli("subscriptions", "add", "x", "http://127.0.0.1:9/hook", "--config", str(cfg))
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("place, matches", [("preston", True), ("maidstone", False)])
def test_subscriptions_test_explains_a_match(tmp_path, place, matches):
    cfg = tmp_path / "cashwatch.yaml"
    cfg.write_text(yaml.safe_dump({"subscriptions": [
        {"name": "nw", "url": "https://hooks.example/x", "regions": ["north-west"]}]}))
    ev_file = tmp_path / "event.json"
    ev_file.write_text(make_event(place).to_json())
    r = CliRunner().invoke(app, ["subscriptions", "test", "nw", "--event-file", str(ev_file), "--dry-run",
                                 "--config", str(cfg)], env={})
    assert r.exit_code == 0, r.output
    if matches:
        assert "matches: created" in r.output and '"force": "lancashire"' in r.output
    else:
        assert "no match" in r.output and "place" in r.output


def test_settings_default_has_alerts_section():
    assert Settings().alerts.retry_initial_s > 0


# ---------------------------------------------------------------- one country value everywhere (issue 15)

def test_country_is_iso_gb_in_real_alerts_the_test_alert_and_both_stores(tmp_path):
    import json as _json

    from cashwatch.sinks.elasticsearch import incident_doc
    from cashwatch.sinks.sqlite import Store

    nw = sub(name="nw", regions=["north-west"])
    real_ev = make_event("preston", country="GB")  # as the analyser writes it
    (real,) = alerting.plan_alerts([nw], real_ev)
    assert (real.payload["incident"]["country"], real.payload["incident"]["nation"]) == ("GB", "england")
    # a force alone is enough to know the country
    (bare,) = alerting.plan_alerts([nw], make_event("wrexham"))
    assert (bare.payload["incident"]["country"], bare.payload["incident"]["nation"]) == ("GB", "wales")

    cfg = tmp_path / "cashwatch.yaml"
    cfg.write_text(yaml.safe_dump({"subscriptions": [{"name": "nw", "url": "https://hooks.example/x",
                                                      "regions": ["north-west"]}]}))
    r = CliRunner().invoke(app, ["subscriptions", "test", "nw", "--dry-run", "--config", str(cfg)], env={})
    assert r.exit_code == 0, r.output
    test_body = _json.loads(r.output.split("\n", 1)[1])
    assert test_body["incident"]["country"] == "GB" and test_body["incident"]["region"] == "north-west"
    # built by the same code: the same fields, at every level
    assert set(test_body) == set(real.payload) and set(test_body["incident"]) == set(real.payload["incident"])

    assert incident_doc(make_event("wrexham"))["country"] == "GB"
    store = Store(tmp_path / "cw.db")
    try:
        from cashwatch.models import Analysis, Article
        ev = make_event("chester", country="gb")
        article = Article(article_id=ev.article_id, url=ev.incident.reports[0].url, title="t", text="x")
        store.store_analysis(article, Analysis(article_id=ev.article_id, kind="incident"), [ev])
        row = store._conn.execute("SELECT country FROM incidents").fetchone()
        assert row[0] == "GB"
    finally:
        store.close()


def test_the_docs_show_the_country_as_gb():
    from tests.conftest import REPO

    for doc in (REPO / "docs" / "alerts.md", REPO / "README.md"):
        text = doc.read_text(encoding="utf-8")
        assert '"country": "GB"' in text, doc
        assert '"country": "england"' not in text and '"country": "gb"' not in text, doc


@pytest.mark.parametrize("events, expected", [
    (["created"], None),  # the default subscription: a merge is not a new incident
    (["created", "updated"], "updated"),
    (["created", "merged"], "merged"),
    (["created", "updated", "merged"], "merged"),
])
def test_merged_event_alerts_as_merged_or_updated_and_never_created(events, expected):
    ev = make_event(event="merged", report=1, changes=["merged"]).model_copy(update={"absorbed": "i-older-copy"})
    s = sub(events=events)
    assert alerting.match(s, ev) == expected
    if expected:
        alert = alerting.build_alert(s, ev)
        assert alert.event == expected and alert.payload["absorbed"] == "i-older-copy"
        assert alert.payload["incident_event"] == "merged"
        created = alerting.build_alert(sub(events=["created"]), make_event())
        assert alert.idempotency_key != created.idempotency_key
