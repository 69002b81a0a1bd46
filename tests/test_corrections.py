"""An analyst's corrections: the linker honours them (nothing later undoes them), the store and the
commands apply them (`cashwatch incidents merge|split|dismiss|edit`), subscribers get updated / merged /
retracted and never a second created, and `cashwatch corrections export` writes labelled records."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from cashwatch import corrections
from cashwatch.alerting import plan_alerts
from cashwatch.cli import app
from cashwatch.config import Settings, SubscriptionConfig
from cashwatch.errors import CorrectionError
from cashwatch.models import Analysis, Article, IncidentMention
from cashwatch.processors.link import Linker
from cashwatch.sinks.sqlite import Store
from cashwatch.sinks.webhook import DeliveryLog

DAY = dt.date(2026, 3, 2)
NOW = dt.datetime(2026, 3, 2, 12, tzinfo=dt.timezone.utc)


def analysis(aid: str, town: str = "Leicester", force: str = "leicestershire", *, type: str = "atm_explosive",
             date: dt.date | None = DAY, published: dt.date = DAY, lat: float = 52.636, lon: float = -1.139) -> Analysis:
    return Analysis(article_id=aid, url=f"https://news.example/{aid}", source="news.example", published=published,
                    title=f"Cash machine attacked in {town} ({aid})", kind="incident",
                    incidents=[IncidentMention(type=type, town=town, force=force, date=date, lat=lat, lon=lon,
                                               evidence=f"Thieves blew up a cash machine in {town}.")])


def make(action, iid, **kw):
    return corrections.make(action, iid, by="tester", now=NOW, **kw)


# ---------------------------------------------------------------- the linker honours corrections

def test_a_dismissed_incident_stays_dismissed_and_a_later_report_does_not_recreate_it():
    linker = Linker()
    a, _ = linker.link(analysis("a1"))
    iid = a.incidents[0].incident_id
    [ev] = linker.apply(make("dismiss", iid))
    assert ev.event == "retracted" and ev.incident.dismissed and ev.correction_id
    later, events = linker.link(analysis("a2"))
    assert later.incidents[0].incident_id == iid  # joins the dismissed incident, creates nothing
    assert [e.event for e in events] == ["retracted"] and events[0].event_key == ev.event_key
    assert linker.incidents[iid].dismissed and len(linker.incidents[iid].reports) == 2
    # and a replay of the first report changes nothing either
    again, events = linker.link(analysis("a1"))
    assert again.incidents[0].incident_id == iid and events == []


def test_an_edited_field_wins_over_the_consensus_of_later_reports():
    linker = Linker()
    a, _ = linker.link(analysis("a1"))
    iid = a.incidents[0].incident_id
    [ev] = linker.apply(make("edit", iid, fields={"type": "atm_break_in", "date": "2026-03-01", "attempted": "yes"}))
    assert ev.event == "updated" and {"corrected", "type", "date", "attempted"} <= set(ev.changes)
    for aid in ("a2", "a3"):  # two more reports say explosive, 2 March, carried out
        linker.link(analysis(aid, type="atm_break_in"))
    inc = linker.incidents[iid]
    assert (inc.type, inc.date, inc.attempted) == ("atm_break_in", dt.date(2026, 3, 1), True)
    assert len(inc.reports) == 3


def test_edit_town_takes_its_place_and_force_from_the_gazetteer():
    linker = Linker()
    a, _ = linker.link(analysis("a1"))
    [ev] = linker.apply(make("edit", a.incidents[0].incident_id, fields={"town": "Preston"}))
    inc = ev.incident
    assert (inc.town, inc.force, inc.region) == ("Preston", "lancashire", "north-west")
    assert inc.lat == pytest.approx(53.76, abs=0.1) and inc.lon == pytest.approx(-2.70, abs=0.1)


def test_a_split_report_gets_its_own_incident_and_is_never_merged_back():
    linker = Linker()
    a, _ = linker.link(analysis("a1"))
    iid = a.incidents[0].incident_id
    b, events = linker.link(analysis("a2"))
    assert b.incidents[0].incident_id == iid
    old, new = linker.apply(make("split", iid, article_id="a2"))
    assert (old.event, new.event) == ("updated", "created") and "report_removed" in old.changes
    new_id = new.incident.incident_id
    assert [r.article_id for r in linker.incidents[iid].reports] == ["a1"]
    assert [r.article_id for r in linker.incidents[new_id].reports] == ["a2"]
    # a replay of the moved report stays with its new incident; a third report fitting both merges nothing
    replay, events = linker.link(analysis("a2"))
    assert replay.incidents[0].incident_id == new_id and events == []
    _, events = linker.link(analysis("a3"))
    assert not [e for e in events if e.event == "merged"]
    assert iid in linker.incidents and new_id in linker.incidents


def test_a_merge_by_hand_keeps_the_first_seen_and_points_the_other_to_it():
    linker = Linker()
    a, _ = linker.link(analysis("a1", "Oakham", "leicestershire", lat=52.67, lon=-0.73), NOW)
    b, _ = linker.link(analysis("b1", "Chorley", "lancashire", type="atm_explosive", lat=53.65, lon=-2.63),
                       NOW + dt.timedelta(hours=1))
    first, second = a.incidents[0].incident_id, b.incidents[0].incident_id
    [ev] = linker.apply(make("merge", second, other_id=first))
    assert ev.event == "merged" and ev.incident.incident_id == first and ev.absorbed == second
    assert linker.resolve(second) == first


@pytest.mark.parametrize("action, kwargs, error", [
    ("merge", {"other_id": "i-nope"}, "no incident"),
    ("split", {"article_id": "a9"}, "not a report"),
    ("split", {"article_id": "a1"}, "only report"),
    ("edit", {"fields": {"type": "atm_break_in"}}, None),
])
def test_corrections_that_cannot_apply_are_refused_and_change_nothing(action, kwargs, error):
    linker = Linker()
    a, _ = linker.link(analysis("a1"))
    iid = a.incidents[0].incident_id
    before = linker.incidents[iid]
    if error is None:
        linker.apply(make(action, iid, **kwargs))
        return
    with pytest.raises(CorrectionError, match=error):
        linker.apply(make(action, iid, **kwargs))
    assert linker.incidents[iid] == before


@pytest.mark.parametrize("fields, error", [
    ({"type": "atm_skimming"}, "type"), ({"force": "lancs"}, "did you mean"), ({"date": "2/3/26"}, "YYYY-MM-DD"),
    ({"attempted": "maybe"}, "yes or no"), ({}, "nothing to edit"), ({"stage": "charged"}, "cannot edit"),
])
def test_edit_values_are_validated(fields, error):
    with pytest.raises(CorrectionError, match=error):
        make("edit", "i-1", fields=fields)


# ---------------------------------------------------------------- alerts

def test_subscribers_get_retracted_updated_and_merged_where_they_ask_and_never_a_second_created():
    everything = SubscriptionConfig(name="all", url="https://hooks.example/a",
                                    events=["created", "updated", "merged", "retracted"])
    created_only = SubscriptionConfig(name="created", url="https://hooks.example/b")
    elsewhere = SubscriptionConfig(name="wales", url="https://hooks.example/c", nations=["wales"],
                                   events=["created", "updated", "merged", "retracted"])
    linker = Linker()
    a, _ = linker.link(analysis("a1"))
    iid = a.incidents[0].incident_id
    b, _ = linker.link(analysis("a2"))
    events = [*linker.apply(make("edit", iid, fields={"date": "2026-03-01"})),
              *linker.apply(make("split", iid, article_id="a2")),
              *linker.apply(make("dismiss", iid))]
    got = [(a.subscription, a.event, a.incident_id) for ev in events
           for a in plan_alerts([everything, created_only, elsewhere], ev)]
    new_id = events[2].incident.incident_id
    assert got == [("all", "updated", iid),  # the edit
                   ("all", "updated", iid), ("all", "created", new_id), ("created", "created", new_id),  # the split
                   ("all", "retracted", iid)]  # the dismissal; never anything for Wales
    # a later report of the dismissed incident: the same retracted key, so no second alert
    _, later = linker.link(analysis("a3"))
    keys = {a.idempotency_key for ev in events for a in plan_alerts([everything], ev)}
    assert all(a.idempotency_key in keys for ev in later for a in plan_alerts([everything], ev)
               if a.event == "retracted")


# ---------------------------------------------------------------- the store and the commands

@pytest.fixture
def store_with_incidents(tmp_path):
    """A store holding three incidents (two reports of Leicester, one of Chorley, one of Oakham), as the
    monitor would have stored them, and a config file pointing at it with one subscription."""
    path = tmp_path / "cw.db"
    store = Store(path)
    linker = Linker(lookup=store)
    for an in (analysis("a1"), analysis("a2"), analysis("c1", "Chorley", "lancashire", lat=53.65, lon=-2.63),
               analysis("o1", "Oakham", "leicestershire", lat=52.67, lon=-0.73)):
        linked, events = linker.link(an, NOW)
        art = Article(article_id=an.article_id, url=an.url, source=an.source, published=an.published,
                      title=an.title, text=f"{an.incidents[0].evidence} Police appealed for witnesses.")
        store.store_analysis(art, linked, events, NOW)
    store.close()
    cfg = tmp_path / "cashwatch.yaml"
    cfg.write_text(f"store_path: {path}\nsubscriptions:\n  - name: all\n    url: https://hooks.example/x\n"
                   "    events: [created, updated, merged, retracted]\nops:\n  metrics_port: 0\n")
    return path, cfg


def _ids(path) -> dict[str, str]:
    s = Store(path)
    try:
        return {i.town: i.incident_id for i in s.list_incidents(include_dismissed=True)}
    finally:
        s.close()


def run(cfg, *args):
    return CliRunner().invoke(app, [*args, "--config", str(cfg)], env={"CASHWATCH_ANALYST": "cli-analyst"})


def test_cli_corrections_change_the_store_and_queue_alerts(store_with_incidents):
    path, cfg = store_with_incidents
    ids = _ids(path)
    r = run(cfg, "incidents", "merge", ids["Oakham"], ids["Leicester"])
    assert r.exit_code == 0, r.output
    assert "merged" in r.output
    r = run(cfg, "incidents", "dismiss", ids["Chorley"], "--note", "skimming")
    assert r.exit_code == 0, r.output
    store = Store(path)
    try:
        survivor = store.resolve(ids["Oakham"])
        assert survivor == store.resolve(ids["Leicester"])
        assert {i.incident_id for i in store.list_incidents()} == {survivor}  # Chorley hidden
        assert store.get_incident(ids["Chorley"]).dismissed
        rows = store.corrections()
        assert [(c.action, c.by, st["status"]) for st, c in rows] == [("merge", "cli-analyst", "applied"),
                                                                      ("dismiss", "cli-analyst", "applied")]
    finally:
        store.close()
    log = DeliveryLog(str(path))
    try:
        assert sorted(d.event for d in log.list()) == ["merged", "retracted"]
    finally:
        log.close()


def test_cli_split_and_edit(store_with_incidents):
    path, cfg = store_with_incidents
    ids = _ids(path)
    r = run(cfg, "incidents", "split", ids["Leicester"], "a2")
    assert r.exit_code == 0, r.output
    assert "created" in r.output
    r = run(cfg, "incidents", "edit", ids["Chorley"], "--town", "Preston", "--carried-out", "--date", "2026-02-28")
    assert r.exit_code == 0, r.output
    store = Store(path)
    try:
        leic = store.get_incident(ids["Leicester"])
        assert [x.article_id for x in leic.reports] == ["a1"]
        assert store.reports_of(ids["Leicester"])[0]["article_id"] == "a1"
        moved = next(i for i in store.list_incidents() if i.reports[0].article_id == "a2")
        assert moved.incident_id != ids["Leicester"] and ids["Leicester"] in moved.kept_apart
        pres = store.get_incident(ids["Chorley"])
        assert (pres.town, pres.force, pres.date, pres.corrected.town) == ("Preston", "lancashire", dt.date(2026, 2, 28), "Preston")
    finally:
        store.close()


@pytest.mark.parametrize("args, code, says", [
    (["incidents", "dismiss", "i-0000000000000000"], 1, "no incident"),
    (["incidents", "edit", "i-x", "--type", "skimming"], 2, "type"),
    (["incidents", "edit", "i-x"], 2, "nothing to edit"),
])
def test_cli_refusals_say_why(store_with_incidents, args, code, says):
    _, cfg = store_with_incidents
    r = run(cfg, *args)
    assert r.exit_code == code, r.output
    assert says in r.output


def test_corrections_survive_a_restarted_linker(store_with_incidents):
    """The monitor restarted (a linker loaded from the store) still honours them: a later report of the
    dismissed incident does not create it anew, and the edited type wins."""
    path, cfg = store_with_incidents
    ids = _ids(path)
    assert run(cfg, "incidents", "dismiss", ids["Chorley"]).exit_code == 0
    assert run(cfg, "incidents", "edit", ids["Oakham"], "--type", "atm_break_in").exit_code == 0
    store = Store(path)
    try:
        linker = Linker(lookup=store)
        linker.load(store.recent_incidents(days=100_000))
        a, events = linker.link(analysis("c2", "Chorley", "lancashire", lat=53.65, lon=-2.63), NOW)
        assert a.incidents[0].incident_id == ids["Chorley"] and [e.event for e in events] == ["retracted"]
        a, events = linker.link(analysis("o2", "Oakham", "leicestershire", type="atm_break_in", lat=52.67, lon=-0.73), NOW)
        assert a.incidents[0].incident_id == ids["Oakham"]
        assert linker.incidents[ids["Oakham"]].type == "atm_break_in"
    finally:
        store.close()


def test_a_running_monitor_applies_the_correction_and_the_command_waits(store_with_incidents):
    """With a fresh monitor heartbeat the command only queues; the monitor's applier does the work."""
    path, cfg = store_with_incidents
    ids = _ids(path)
    store = Store(path)
    settings = Settings.model_validate({"store_path": str(path)})
    store.set_meta(corrections.MONITOR_HEARTBEAT, str(__import__("time").time()))
    linker = Linker(lookup=store)
    applier = corrections.CorrectionApplier(store, linker)
    c = make("dismiss", ids["Oakham"])
    applied: list = []

    def monitor_tick(_s: float) -> None:  # what the monitor's loop does between two articles
        applied.extend(applier.apply_pending())

    status = corrections.submit(settings, store, c, timeout_s=5, sleep=monitor_tick)
    assert status["status"] == "applied" and len(applied) == 1
    assert store.get_incident(ids["Oakham"]).dismissed
    store.close()


def test_corrections_export_writes_the_labelled_corpus_format(store_with_incidents, tmp_path):
    path, cfg = store_with_incidents
    ids = _ids(path)
    assert run(cfg, "incidents", "edit", ids["Leicester"], "--type", "atm_break_in").exit_code == 0
    assert run(cfg, "incidents", "dismiss", ids["Chorley"]).exit_code == 0
    out = tmp_path / "corrected.jsonl"
    r = run(cfg, "corrections", "export", "-o", str(out))
    assert r.exit_code == 0, r.output
    records = {rec["id"]: rec for rec in map(json.loads, out.read_text().splitlines())}
    assert set(records) == {"a1", "a2", "c1"}
    for rec in records.values():
        assert set(rec) == {"id", "url", "source", "published", "title", "text", "label"}
        assert set(rec["label"]) == {"kind", "incidents", "notes"}
    [inc] = records["a1"]["label"]["incidents"]
    assert set(inc) == {"type", "attempted", "town", "force", "country", "date", "cluster", "role"}
    assert (inc["type"], inc["force"], inc["country"], inc["role"]) == ("atm_break_in", "leicestershire", "GB", "primary")
    assert records["a2"]["label"]["incidents"][0]["cluster"] == inc["cluster"]  # one incident: one cluster
    assert records["c1"]["label"] == {"kind": "other", "incidents": [], "notes": records["c1"]["label"]["notes"]}
