"""The embedded store: atomic, idempotent upserts and full-text search of incidents."""
from __future__ import annotations

import datetime as dt

import pytest

from cashwatch.models import Analysis, Article, Incident, IncidentEvent, IncidentMention, Report
from cashwatch.sinks.sqlite import Store

NOW = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.timezone.utc)


def make(aid, town, force, itype, text, iid, published=dt.date(2026, 3, 1), date=dt.date(2026, 2, 28)):
    article = Article(article_id=aid, url=f"https://news.example/{aid}", source="example", published=published,
                      title=f"Cash machine raid in {town}", text=text)
    m = IncidentMention(type=itype, town=town, force=force, region="east-midlands", country="GB", date=date,
                        incident_id=iid, evidence=text[:80])
    analysis = Analysis(article_id=aid, url=article.url, kind="incident", published=published,
                        title=article.title, incidents=[m])
    inc = Incident(incident_id=iid, type=itype, town=town, force=force, region="east-midlands", country="GB",
                   date=date, first_seen=NOW, last_seen=NOW,
                   reports=[Report(article_id=aid, url=article.url, title=article.title, published=published)])
    return article, analysis, [IncidentEvent(event="created", incident=inc, article_id=aid)]


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "cw.db")
    s.store_analysis(*make("a1", "Oakham", "leicestershire", "atm_theft",
                           "A telehandler was used to rip the machine from the wall of a village shop.", "i1"))
    s.store_analysis(*make("a2", "Melton Mowbray", "leicestershire", "atm_explosive",
                           "Gas was pumped into the cash machine before a loud bang woke residents.", "i2",
                           date=dt.date(2025, 6, 1)))
    s.store_analysis(*make("a3", "Grantham", "lincolnshire", "atm_theft",
                           "Thieves reversed a stolen digger into the front of the store.", "i3"))
    yield s
    s.close()


def test_replaying_an_article_does_not_duplicate(store):
    before = (store.count("articles"), store.count("incidents"), store.count("incident_events"))
    store.store_analysis(*make("a1", "Oakham", "leicestershire", "atm_theft",
                               "A telehandler was used to rip the machine from the wall of a village shop.", "i1"))
    assert (store.count("articles"), store.count("incidents"), store.count("incident_events")) == before


@pytest.mark.parametrize(
    "query, kwargs, expected",
    [
        ("oakham", {}, ["i1"]),
        ("oakham", {"forces": ["leicestershire"], "types": ["atm_theft"]}, ["i1"]),
        ("oakham", {"forces": ["lincolnshire"]}, []),
        ("telehand", {}, ["i1"]),  # prefix match on the last word
        ("cash machine", {"forces": ["leicestershire"]}, ["i1", "i2"]),
        ("cash machine", {"since": dt.date(2026, 1, 1)}, ["i1", "i3"]),
        ("digger", {"types": ["atm_explosive"]}, []),
        ('"); DROP TABLE incidents; --', {}, []),  # hostile input is only ever words to match
        ("leicestershire", {}, ["i1", "i2"]),  # force names match too
    ],
)
def test_search(store, query, kwargs, expected):
    assert sorted(i.incident_id for i in store.search(query, **kwargs)) == expected


def test_list_and_show(store, tmp_path):
    assert [i.incident_id for i in store.list_incidents(types=["atm_theft"])] in (["i1", "i3"], ["i3", "i1"])
    assert store.get_incident("i2").town == "Melton Mowbray"
    assert [r["article_id"] for r in store.reports_of("i1")] == ["a1"]
    # a second connection on the same file sees everything (WAL, several readers)
    other = Store(tmp_path / "cw.db")
    assert other.count("incidents") == 3
    other.close()


def test_failed_write_leaves_nothing_half_stored(store):
    article, analysis, events = make("a9", "Uppingham", "leicestershire", "atm_theft", "Another raid.", "i9")
    store._conn.execute("DROP TABLE incident_events")  # break the last statement of the transaction
    with pytest.raises(Exception):
        store.store_analysis(article, analysis, events)
    assert not store.has_article("a9") and store.get_incident("i9") is None


def test_a_merge_leaves_one_incident_that_the_old_id_still_finds(store):
    """i2 is found to be i1: its row goes, its reports and its id point to i1, and a later merge of i1
    into another moves every old id along."""
    survivor = store.get_incident("i1").model_copy(update={"merged_ids": ["i2"]})
    survivor = survivor.model_copy(update={"reports": survivor.reports + store.get_incident("i2").reports})
    article, analysis, _ = make("a4", "Oakham", "leicestershire", "atm_theft",
                                "A second outlet says the same raid left the shop front hanging off.", "i1")
    store.store_analysis(article, analysis, [IncidentEvent(event="merged", incident=survivor, article_id="a4",
                                                           changes=["merged"], absorbed="i2")])
    assert store.count("incidents") == 2  # i1 (with i2's reports) and i3
    assert store.get_incident("i2").incident_id == "i1" and store.resolve("i2") == "i1"
    assert {r["article_id"] for r in store.reports_of("i1")} == {"a1", "a2", "a4"}
    assert store.reports_of("i2") == []
    assert [i.incident_id for i in store.search("gas pumped")] == ["i1"]  # i2's report text finds the survivor
    later = store.get_incident("i3").model_copy(update={"merged_ids": ["i1", "i2"]})
    article, analysis, _ = make("a5", "Grantham", "lincolnshire", "atm_theft", "All one gang, one night.", "i3")
    store.store_analysis(article, analysis, [IncidentEvent(event="merged", incident=later, article_id="a5",
                                                           changes=["merged"], absorbed="i1")])
    assert store.resolve("i1") == store.resolve("i2") == "i3" and store.count("incidents") == 1
