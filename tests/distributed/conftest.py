"""Fixtures of the distributed-runtime tests: the real Kafka broker and Elasticsearch node
(tests/services.py), started once per session, plus record builders shared by these tests."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.services import *  # noqa: F401,F403  (session fixtures: kafka_bootstrap, es_url, ...)
from cashwatch.models import FeedItem, Incident, IncidentEvent, Page, Report, article_id_for

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)


def make_incident(iid: str, *, type: str = "atm_explosive", town: str = "Wigan", force: str = "greater-manchester",
                  lat: float = 53.545, lon: float = -2.632, reports: int = 1, date: dt.date = dt.date(2026, 3, 1)) -> Incident:
    from cashwatch.places_table import region_of
    reps = [Report(article_id=f"a-{iid}-{n}", url=f"https://news.example/{iid}/{n}", source=f"paper{n}",
                   title=f"Cash machine attacked in {town} ({n})", published=date) for n in range(reports)]
    return Incident(incident_id=iid, type=type, town=town, force=force, region=region_of(force), country="GB",
                    lat=lat, lon=lon, date=date, first_seen=NOW, last_seen=NOW, reports=reps)


def make_event(inc: Incident, event: str = "created") -> IncidentEvent:
    return IncidentEvent(event=event, incident=inc, article_id=inc.reports[-1].article_id)


def make_page(url: str, html: str | None, *, title: str = "", summary: str = "", place_hint: str | None = None,
              error_code: str | None = None) -> Page:
    aid = article_id_for(url)
    item = FeedItem(article_id=aid, feed_id="test-feed", url=url, title=title, summary=summary,
                    published=NOW, source="Test Gazette", place_hint=place_hint)
    return Page(article_id=aid, item=item, html=html, final_url=url, status=200 if html else None,
                content_type="text/html" if html else None, error_code=error_code)


@pytest.fixture
def incident_factory():
    return make_incident
