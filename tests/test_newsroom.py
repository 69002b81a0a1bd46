"""The newsroom simulator itself, over real HTTP (sync side, through NewsroomThread and httpx)."""
from __future__ import annotations

import xml.etree.ElementTree as ET
import zlib

import httpx
import pytest

from cashwatch.newsroom.server import Newsroom, NewsroomThread, slugify

# Sentences written for these tests.
CORPUS = [
    {"id": "a1", "source": "Hilltop News", "published": "2026-05-01", "title": "Parish council meets",
     "text": "The parish council met on Monday to discuss new benches for the green."},
    {"id": "a2", "source": "Hilltop News", "published": "2026-05-03", "title": "Cash machine stolen overnight",
     "text": "Thieves used a stolen digger to remove a cash machine from a shop front on Wednesday night."},
    {"id": "a3", "source": "Hilltop News", "published": None, "title": "Undated notice",
     "text": "A notice without a date."},
    {"id": "b1", "source": "River Times", "published": "2026-05-02", "title": "Bridge repairs",
     "text": "Repairs to the old bridge start next week."},
]


@pytest.fixture
def served():
    nt = NewsroomThread(CORPUS, base_feed_items=2)
    base = nt.start()
    with httpx.Client(base_url=base, timeout=5) as client:
        yield nt.newsroom, client
    nt.stop()


def items_of(body: bytes) -> list[dict]:
    root = ET.fromstring(body)
    return [{c.tag: (c.text or "") for c in item} for item in root.iter("item")]


def test_feed_per_source_newest_first_with_all_fields(served):
    room, client = served
    assert set(room.feed_urls()) == {"Hilltop News", "River Times"}
    r = client.get(room.feed_url("Hilltop News"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/rss+xml")
    items = items_of(r.content)
    # base_feed_items=2: the undated one counts as oldest, then a1; newest first in the document
    assert [i["title"] for i in items] == ["Parish council meets", "Undated notice"]
    assert items[0]["link"] == room.page_url("a1") and items[0]["guid"] and items[0]["description"]
    assert "pubDate" in items[0] and "pubDate" not in items[1]


def test_release_makes_items_appear_and_changes_etag(served):
    room, client = served
    first = client.get(room.feed_url("Hilltop News"))
    assert room.release(1) == 1  # River Times has only one item: nothing more there
    second = client.get(room.feed_url("Hilltop News"))
    assert items_of(second.content)[0]["title"] == "Cash machine stolen overnight"
    assert first.headers["etag"] != second.headers["etag"]


def test_conditional_get_answers_304(served):
    room, client = served
    r = client.get(room.feed_url("River Times"))
    etag, lm = r.headers["etag"], r.headers["last-modified"]
    assert client.get(room.feed_url("River Times"), headers={"If-None-Match": etag}).status_code == 304
    assert client.get(room.feed_url("River Times"), headers={"If-Modified-Since": lm}).status_code == 304
    assert client.get(room.feed_url("River Times"), headers={"If-None-Match": '"other"'}).status_code == 200


def test_article_page_is_html_with_the_story(served):
    room, client = served
    r = client.get(room.page_url("a2"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "stolen digger" in r.text and "<html" in r.text.lower()
    assert room.article_for_url(room.page_url("a2"))["id"] == "a2"
    assert client.get(f"/{slugify('River Times')}/a2.html").status_code == 404  # wrong source


def test_robots_and_raw_feeds(served):
    room, client = served
    room.robots_disallow = ["/private/"]
    assert "Disallow: /private/" in client.get("/robots.txt").text
    body = b"<?xml version='1.0' encoding='iso-8859-1'?><rss><channel><title>\xa3</title></channel></rss>"
    url = room.add_raw_feed("odd/one.xml", body, "text/xml; charset=iso-8859-1", headers={"X-Test": "1"})
    r = client.get(url)
    assert r.content == body and r.headers["content-type"] == "text/xml; charset=iso-8859-1" and r.headers["x-test"] == "1"
    assert room.hits(url) == 1


@pytest.mark.parametrize("fault, params, status, check", [
    ("error_500", {}, 500, None),
    ("retry_after", {"status": 429, "seconds": 7}, 429, lambda r: r.headers["retry-after"] == "7"),
    ("html_error", {}, 200, lambda r: r.headers["content-type"].startswith("text/html")),
    ("redirect_loop", {}, 302, lambda r: r.headers["location"].endswith("?hop=1")),
    ("malformed_xml", {}, 200, lambda r: pytest.raises(ET.ParseError, ET.fromstring, r.content)),
    ("wrong_charset", {}, 200, lambda r: "charset=utf-8" in r.headers["content-type"] and b"\xa3" in r.content),
    ("no_charset", {}, 200, lambda r: "charset" not in r.headers["content-type"] and b"encoding" not in r.content[:60]),
    ("duplicate_guids", {}, 200, lambda r: len(items_of(r.content)) == 4),
    ("no_link", {}, 200, lambda r: all("link" not in i for i in items_of(r.content))),
])
def test_feed_faults(served, fault, params, status, check):
    room, client = served
    if fault in ("wrong_charset", "no_charset"):
        room.articles["a1"]["title"] = "Prize of £5"
    room.set_fault("Hilltop News", fault, **params)
    r = client.get(room.feed_url("Hilltop News"), follow_redirects=False)
    assert r.status_code == status
    if check is not None:
        assert check(r)


def test_huge_and_gzip_bomb_and_hang(served):
    room, client = served
    room.set_fault("Hilltop News", "huge", size=3_000_000)
    with client.stream("GET", room.feed_url("Hilltop News")) as r:
        assert sum(len(c) for c in r.iter_raw()) >= 3_000_000
    room.clear_fault("Hilltop News")
    room.set_fault("a1", "gzip_bomb", size=20_000_000)
    r = client.get(room.page_url("a1"), headers={"Accept-Encoding": "identity"})
    with client.stream("GET", room.page_url("a1")) as r:
        raw = b"".join(r.iter_raw())
        assert r.headers["content-encoding"] == "gzip" and len(raw) < 100_000
    assert len(zlib.decompressobj(31).decompress(raw)) > 19_000_000
    room.set_fault("a2", "hang")
    with pytest.raises(httpx.ReadTimeout):
        client.get(room.page_url("a2"), timeout=0.5)


def test_page_not_html(served):
    room, client = served
    room.set_fault("a1", "not_html")
    r = client.get(room.page_url("a1"))
    assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")


def test_ids_that_need_quoting_round_trip():
    nt = NewsroomThread([{"id": "x/1 a", "source": "S", "title": "T", "text": "Body text."}])
    with nt as base, httpx.Client(timeout=5) as client:
        link = items_of(client.get(f"{base}/feeds/s.xml").content)[0]["link"]
        assert link.endswith("/s/x%2F1%20a.html")
        assert client.get(link).status_code == 200
        assert nt.newsroom.article_for_url(link)["id"] == "x/1 a"


def test_bad_corpus_and_unknown_fault():
    with pytest.raises(ValueError, match="duplicate article id"):
        Newsroom([{"id": "x", "source": "s"}, {"id": "x", "source": "s"}])
    with pytest.raises(ValueError, match="unknown fault"):
        Newsroom(CORPUS).set_fault("Hilltop News", "explode")
