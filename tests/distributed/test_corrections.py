"""An analyst's corrections in the distributed runtime, as real processes (newsroom -> producer -> Kafka ->
faust worker -> sink -> Elasticsearch + webhooks): `cashwatch incidents merge|dismiss|edit` with
`runtime: distributed` publish the correction on the force's partition; the worker's linker applies it;
Elasticsearch follows (one doc after a merge, none after a dismissal, the edited field) and subscribers get
merged / retracted / updated, never a second created."""
from __future__ import annotations

import time
from collections import Counter

import pytest
from typer.testing import CliRunner

from cashwatch.cli import app

from .stack import Stack

pytestmark = [pytest.mark.kafka, pytest.mark.elasticsearch, pytest.mark.timeout(300)]

SOURCE = "lancs-news.example"
REPORTS = [
    {"id": "d1", "url": f"https://{SOURCE}/d1", "source": SOURCE, "published": "2026-08-04",
     "title": "Cash machine blown open in Chorley",
     "text": "Thieves used gas to blow open a cash machine outside a convenience store in Chorley in the early "
             "hours of Monday 3 August. Lancashire Police said nobody was hurt and asked for dashcam footage."},
    {"id": "d2", "url": f"https://{SOURCE}/d2", "source": SOURCE, "published": "2026-08-05",
     "title": "Gas attack on ATM in Leyland",
     "text": "Criminals used gas to blow up an ATM at a petrol station in Leyland overnight on Tuesday 4 August. "
             "Lancashire Police said cash was taken and the gang escaped in a stolen car."},
    {"id": "d3", "url": f"https://{SOURCE}/d3", "source": SOURCE, "published": "2026-08-06",
     "title": "Ram raid on Preston cash machine",
     "text": "A cash machine was ripped from the wall of a shop in Preston with a stolen telehandler in the early "
             "hours of Wednesday 5 August, Lancashire Police said. The machine was loaded onto a truck."},
]


def cli(stack: Stack, *args: str):
    r = CliRunner().invoke(app, [*args, "--config", str(stack.config_path), "--by", "dist-analyst"])
    assert r.exit_code == 0, r.output
    return r


def test_corrections_reach_elasticsearch_and_subscribers(kafka_bootstrap, es_url, tmp_path):
    stack = Stack(REPORTS, kafka=kafka_bootstrap, es_url=es_url, workdir=tmp_path, base_feed_items=0, partitions=2,
                  events=("created", "updated", "merged", "retracted"))
    stack.start(workers=1)
    try:
        assert stack.newsroom.release(len(REPORTS)) == len(REPORTS)
        stack.wait(lambda: len(stack.incidents()) == 3, 120, "three incidents indexed")
        by_town = {i["town"]: i["incident_id"] for i in stack.incidents()}
        assert set(by_town) == {"Chorley", "Leyland", "Preston"}

        cli(stack, "incidents", "merge", by_town["Leyland"], by_town["Chorley"])
        stack.wait(lambda: len(stack.incidents()) == 2, 60, "the merge in Elasticsearch")
        merged = next(i for i in stack.incidents() if len(i["reports"]) == 2)
        assert set(merged["merged_ids"]) | {merged["incident_id"]} == {by_town["Chorley"], by_town["Leyland"]}

        cli(stack, "incidents", "dismiss", by_town["Preston"], "--note", "not an attack")
        stack.wait(lambda: len(stack.incidents()) == 1, 60, "the dismissed incident gone from Elasticsearch")

        cli(stack, "incidents", "edit", merged["incident_id"], "--type", "atm_break_in", "--date", "2026-08-03")
        stack.wait(lambda: stack.incidents()[0]["type"] == "atm_break_in", 60, "the edit in Elasticsearch")
        assert stack.incidents()[0]["date"] == "2026-08-03"

        stack.receiver.wait_for(lambda rx: {"merged", "retracted", "updated"} <= {r.json()["event"] for r in rx.requests},
                                timeout=30)
        time.sleep(2)  # a repeated delivery would arrive now
        events = Counter((r.json()["event"], r.json()["incident"]["id"]) for r in stack.receiver.processed)
        assert events[("merged", merged["incident_id"])] == 1
        assert events[("retracted", by_town["Preston"])] == 1
        created = Counter(i for (e, i) in events.elements() if e == "created")
        assert set(created) == set(by_town.values()) and max(created.values()) == 1
    finally:
        stack.stop()
