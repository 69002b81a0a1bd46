"""`search`, `incidents` and `forces` on a real SQLite store: unknown filter ids are refused (never an
empty table read as "no incidents"), search takes several words, and incidents export as CSV, GeoJSON
and JSONL with the alert payload's fields."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from typer.testing import CliRunner

from cashwatch.cli import app
from cashwatch.models import Analysis, Article, Incident, IncidentEvent, Report
from cashwatch.sinks.sqlite import Store

T0 = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.timezone.utc)


def _incident(iid, type, town, force, region, lat, lon, title, text_date):
    return Incident(incident_id=iid, type=type, town=town, force=force, region=region, country="GB", lat=lat, lon=lon,
                    date=text_date, confidence=0.9, mo=["gas"] if type == "atm_explosive" else [],
                    first_seen=T0, last_seen=T0,
                    reports=[Report(article_id=f"a-{iid}", url=f"https://news.example/{iid}", source="Example News",
                                    title=title, published=text_date)])


@pytest.fixture
def cfg(tmp_path):
    store = Store(tmp_path / "cw.db")
    rows = [
        ("i-1", "atm_explosive", "Chorley", "lancashire", "north-west", 53.65, -2.63,
         "Cash machine blown up in Chorley", "Thieves blew up a cash machine at a shop in Chorley overnight."),
        ("i-2", "atm_theft", "Oakham", "leicestershire", "east-midlands", None, None,
         "ATM ripped from wall in Oakham", "A digger was used to rip an ATM from the wall of a shop."),
    ]
    for iid, type, town, force, region, lat, lon, title, text in rows:
        inc = _incident(iid, type, town, force, region, lat, lon, title, dt.date(2026, 3, 1))
        article = Article(article_id=f"a-{iid}", url=f"https://news.example/{iid}", title=title, text=text,
                          source="Example News", published=dt.date(2026, 3, 1))
        store.store_analysis(article, Analysis(article_id=article.article_id, kind="incident"),
                             [IncidentEvent(event="created", incident=inc, article_id=article.article_id)])
    store.close()
    path = tmp_path / "cw.yaml"
    path.write_text(f"store_path: {tmp_path / 'cw.db'}\n")
    return str(path)


def cli(*args):
    return CliRunner().invoke(app, list(args), env={})


@pytest.mark.parametrize("args, named, suggestion", [
    (["--force", "lancs"], "--force: unknown police force id 'lancs'", "did you mean 'lancashire'?"),
    (["--region", "north-wst"], "--region: unknown region id 'north-wst'", "did you mean 'north-west'?"),
    (["--type", "atm_blast"], "--type: unknown incident type 'atm_blast'", "known: atm_break_in, atm_explosive"),
])
@pytest.mark.parametrize("command", [["incidents"], ["search", "cash"]])
def test_unknown_filter_ids_are_refused_with_the_valid_ones(cfg, command, args, named, suggestion):
    r = cli(*command, *args, "--config", cfg)
    assert r.exit_code == 2
    assert named in r.output and suggestion in r.output
    assert "no incidents match" not in r.output


def test_search_takes_several_words(cfg):
    r = cli("search", "blown", "up", "--json", "--config", cfg)
    assert r.exit_code == 0, r.output
    assert [json.loads(x)["incident_id"] for x in r.output.splitlines()] == ["i-1"]
    r = cli("search", "ripped", "wall", "--force", "leicestershire", "--format", "jsonl", "--config", cfg)
    assert [json.loads(x)["incident_id"] for x in r.output.splitlines()] == ["i-2"]


def test_incidents_export_csv(cfg):
    r = cli("incidents", "--format", "csv", "--config", cfg)
    assert r.exit_code == 0, r.output
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(r.output))}
    assert set(rows) == {"i-1", "i-2"}
    assert rows["i-1"]["force_name"] == "Lancashire Constabulary" and rows["i-1"]["country"] == "GB"
    assert rows["i-1"]["nation"] == "england" and rows["i-1"]["mo"] == "gas"
    assert rows["i-1"]["first_report_url"] == "https://news.example/i-1" and rows["i-1"]["report_count"] == "1"
    assert (rows["i-2"]["lat"], rows["i-2"]["lon"]) == ("", "")


def test_incidents_export_geojson_points_lon_lat(cfg):
    r = cli("incidents", "--format", "geojson", "--config", cfg)
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["type"] == "FeatureCollection"
    feats = {f["id"]: f for f in doc["features"]}
    assert feats["i-1"]["geometry"] == {"type": "Point", "coordinates": [-2.63, 53.65]}  # [lon, lat] (RFC 7946)
    props = feats["i-1"]["properties"]
    assert (props["type"], props["town"], props["region"], props["country"]) == ("atm_explosive", "Chorley", "north-west", "GB")
    assert props["type_label"] == "ATM explosive attack"
    assert feats["i-2"]["geometry"] is None  # kept, not silently dropped
    assert "1 incident(s) have no coordinates" in r.stderr


def test_incidents_export_fields_are_the_alert_payloads(cfg):
    from cashwatch import alerting
    from cashwatch.cli.incidents import EXPORT_FIELDS

    inc = _incident("i-9", "atm_theft", "Preston", "lancashire", None, 53.76, -2.70, "t", dt.date(2026, 3, 1))
    assert set(alerting.incident_fields(inc)) <= set(EXPORT_FIELDS)


def test_a_bad_format_is_refused(cfg):
    r = cli("incidents", "--format", "xml", "--config", cfg)
    assert r.exit_code == 2 and "table, jsonl, csv, geojson" in r.output


def test_forces_lists_ids_names_regions():
    r = cli("forces")
    assert r.exit_code == 0
    assert "lancashire" in r.output and "Lancashire Constabulary" in r.output and "45 forces in 12 regions" in r.output
    rows = [json.loads(x) for x in cli("forces", "--region", "north-west", "--json").output.splitlines()]
    assert {x["force"] for x in rows} == {"cheshire", "cumbria", "greater-manchester", "lancashire", "merseyside",
                                          "north-wales"}
    assert all(x["country"] == "GB" for x in rows)
    assert cli("forces", "--region", "narnia").exit_code == 2


def test_every_command_is_documented_in_the_readme_and_no_help_shows_raw_markup():
    """The README's command table names every command; no --help shows reStructuredText."""
    import typer.main

    from tests.conftest import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Commands"):readme.index("## Configuration")]
    group = typer.main.get_group(app)
    paths = []
    for name, cmd in group.commands.items():
        subs = getattr(cmd, "commands", None)
        if subs:
            paths += [f"{name} {s}" for s in subs]
        paths.append(name)
    missing = [p for p in paths if f"cashwatch {p}" not in table and not any(
        f"cashwatch {p.split()[0]} " in line and p.split()[-1] in line for line in table.splitlines())]
    assert not missing, missing
    for p in paths:
        out = cli(*p.split(), "--help").output
        assert "``" not in out and ":class:" not in out, p
