"""Healing in the distributed runtime, as real processes (newsroom -> producer -> Kafka -> faust worker ->
sink -> Elasticsearch + webhooks): a report that shows two incidents to be one leaves one incident doc in
Elasticsearch, the one seen first, with every report and the absorbed id in ``merged_ids``; subscribers got
one ``created`` per incident ever made and never a second. The same three made-up reports merge in the
embedded runtime (tests/test_embedded.py)."""
from __future__ import annotations

import time
from collections import Counter

import pytest

from .stack import Stack, corpus_id

pytestmark = [pytest.mark.kafka, pytest.mark.elasticsearch, pytest.mark.timeout(300)]

SOURCE = "potteries-news.example"
REPORTS = [
    {"id": "m1", "url": f"https://{SOURCE}/m1", "source": SOURCE, "published": "2026-07-26",
     "title": "Cash machine blown open in Longton",
     "text": "Thieves used gas to blow open a cash machine outside a convenience store in Longton. Police cordoned "
             "off the street while forensic officers examined the damaged machine and the shattered shop front."},
    {"id": "m2", "url": f"https://{SOURCE}/m2", "source": SOURCE, "published": "2026-07-28",
     "title": "Gas attack on Stoke-on-Trent cash machine",
     "text": "Thieves used gas to blow open a cash machine in Stoke-on-Trent in the early hours of Monday 27 July. "
             "Staffordshire Police said nobody was hurt and asked anyone with dashcam footage to come forward."},
    {"id": "m3", "url": f"https://{SOURCE}/m3", "source": SOURCE, "published": "2026-07-29",
     "title": "Longton cash machine blast: police name the night",
     "text": "Police now say the gas attack on the cash machine in Longton happened in the early hours of Monday "
             "27 July. Detectives want to hear from anyone who saw a dark hatchback in the area that night."},
]


def test_a_merge_reaches_elasticsearch_and_subscribers(kafka_bootstrap, es_url, tmp_path):
    stack = Stack(REPORTS, kafka=kafka_bootstrap, es_url=es_url, workdir=tmp_path, base_feed_items=0, partitions=2)
    stack.start(workers=1)
    try:
        for n in range(1, len(REPORTS) + 1):  # one report at a time, in publication order
            assert stack.newsroom.release(1) == 1
            stack.wait(lambda n=n: len(stack.articles()) >= n, 120, f"report {n} analysed and indexed")
        stack.wait(lambda: len(stack.incidents()) == 1 and len(stack.incidents()[0]["reports"]) == 3, 60,
                   "the two incidents merged into one")
        [inc] = stack.incidents()
        assert {corpus_id(r["url"]) for r in inc["reports"]} == {"m1", "m2", "m3"}
        assert len(inc["merged_ids"]) == 1 and inc["merged_ids"][0] != inc["incident_id"]
        assert (inc["town"], inc["force"], inc["type"]) == ("Longton", "staffordshire", "atm_explosive")
        stack.receiver.wait_for(lambda rx: len(rx.keys_seen()) >= 2, timeout=30)
        time.sleep(2)  # a repeated delivery would arrive now
        created = Counter(r.json()["incident"]["id"] for r in stack.receiver.requests if r.json()["event"] == "created")
        assert set(created) == {inc["incident_id"], inc["merged_ids"][0]} and max(created.values()) == 1
    finally:
        stack.stop()
