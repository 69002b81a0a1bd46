"""The producer against the simulated newsroom over real HTTP on loopback: feeds, pages, faults.

Every fault of issue 2 ("Bad input and faults") is served by the real simulator; each poll must end
in items or a counted, recorded error reason, and a healthy feed polled at the same time must carry on.
"""
from __future__ import annotations

import asyncio
import time

import pytest

from cashwatch import metrics
from cashwatch.config import FeedConfig, HttpConfig, Settings
from cashwatch.models import FeedItem, article_id_for
from cashwatch.newsroom.server import Newsroom
from cashwatch.producers.rss import Producer
from cashwatch.producers.state import ProducerState

# Sentences written for these tests (not taken from any real article).
CORPUS = [
    {"id": "n1", "source": "Northtown Gazette", "published": "2026-03-01", "title": "Cash machine torn from shop wall",
     "text": "A cash machine was pulled out of a shop wall with a tractor in Northtown early on Sunday.\nPolice want dashcam footage."},
    {"id": "n2", "source": "Northtown Gazette", "published": "2026-03-02", "title": "Café owner wins £500 prize",
     "text": "The owner of a small café on the high street has won a baking contest and a £500 prize."},
    {"id": "n3", "source": "Northtown Gazette", "published": "2026-03-03", "title": "Security van crew threatened",
     "text": "Two men threatened a security van crew outside a bank and ran off with a cash box on Tuesday."},
    {"id": "s1", "source": "Southvale Echo", "published": "2026-03-01", "title": "Bang heard as ATM blown open",
     "text": "Residents heard a loud bang when gas was used to blow open a cash machine at a petrol station."},
    {"id": "s2", "source": "Southvale Echo", "published": "2026-03-04", "title": "Road closed for resurfacing",
     "text": "The main road through the village will close for two weeks of resurfacing work next month."},
]

FAST = dict(allow_hosts=["127.0.0.1"], connect_timeout_s=1.0, read_timeout_s=0.6, backoff_initial_s=60.0,
            backoff_max_s=3600.0, jitter_fraction=0.0, user_agent_contact="https://example.org/cashwatch-tests")


def feed_errors(feed: str, code: str) -> float:
    return metrics.REGISTRY.get_sample_value("cashwatch_feed_errors_total", {"feed": feed, "error_code": code}) or 0.0


@pytest.fixture
async def room():
    nr = Newsroom(CORPUS)
    await nr.start()
    yield nr
    await nr.stop()


def make(room: Newsroom, tmp_path, *, http: dict | None = None, feeds: list[FeedConfig] | None = None, **feed_kw):
    feeds = feeds or [FeedConfig(id=f"{tag}-{feed_kw.get('tag', 'x')}", url=room.feed_url(src), poll_interval_s=1.0)
                      for tag, src in (("north", "Northtown Gazette"), ("south", "Southvale Echo"))]
    settings = Settings(feeds=feeds, http=HttpConfig(**{**FAST, **(http or {})}), store_path=str(tmp_path / "cw.db"))
    state = ProducerState(settings.store_path)
    return Producer(settings, state), state, feeds


async def test_poll_finds_items_as_plain_text_with_canonical_urls(room, tmp_path):
    producer, state, (north, south) = make(room, tmp_path, tag="basic")
    try:
        items = await producer.poll_feed(north)
        assert [i.title for i in items] == ["Cash machine torn from shop wall", "Café owner wins £500 prize",
                                            "Security van crew threatened"]  # oldest first
        it = items[0]
        assert it.url == room.page_url("n1") and it.article_id.startswith("a-") and it.feed_id == north.id
        assert it.published is not None and it.published.date().isoformat() == "2026-03-01"
        assert "tractor" in it.summary and it.source == "Northtown Gazette"  # the RSS <source> name
        st = state.feed_state(north.id)
        assert st.last_outcome == "ok" and st.items_new == 3 and st.consecutive_errors == 0
        ua = [r.headers.get("User-Agent") for r in room.requests if r.path.startswith("/feeds/")][0]
        assert ua.startswith("cashwatch/") and "https://example.org/cashwatch-tests" in ua
    finally:
        await producer.aclose()
        state.close()


async def test_unchanged_feed_costs_one_304(room, tmp_path):
    producer, state, (north, _) = make(room, tmp_path, tag="304")
    try:
        items = await producer.poll_feed(north)
        assert len(items) == 3 and state.feed_state(north.id).etag
        before = room.hits(north.url)
        assert await producer.poll_feed(north) == []  # items in flight in this process: 304 is safe
        assert room.hits(north.url) == before + 1 and room.requests[-1].status == 304
        st = state.feed_state(north.id)
        assert st.last_outcome == "not_modified" and st.not_modified == 1
        # An item given back (its processing failed) makes the next poll a full GET that finds it again.
        state.release(items[1])
        again = await producer.poll_feed(north)
        assert room.requests[-1].status == 200 and [i.url for i in again] == [items[1].url]
        assert await producer.poll_feed(north) == [] and room.requests[-1].status == 304
    finally:
        await producer.aclose()
        state.close()


async def test_new_item_after_304_is_found(tmp_path):
    room = Newsroom(CORPUS, base_feed_items=1)
    await room.start()
    producer, state, (north, _) = make(room, tmp_path, tag="304new")
    try:
        first = await producer.poll_feed(north)
        state.mark_done(first[0])
        await producer.poll_feed(north)
        assert await producer.poll_feed(north) == [] and room.requests[-1].status == 304
        room.release(1, "Northtown Gazette")
        new = await producer.poll_feed(north)
        assert [i.url for i in new] == [room.page_url("n2")]
    finally:
        await producer.aclose()
        state.close()
        await room.stop()


async def test_crash_before_store_loses_nothing(room, tmp_path):
    producer, state, (north, _) = make(room, tmp_path, tag="restart")
    items = await producer.poll_feed(north)
    assert len(items) == 3
    state.mark_done(items[0])  # only the first one's analysis was stored before the "kill -9"
    await producer.aclose()
    state.close()
    producer, state, (north, _) = make(room, tmp_path, tag="restart")  # a new process, same store
    try:
        again = await producer.poll_feed(north)
        assert [i.article_id for i in again] == [i.article_id for i in items[1:]]
        assert room.requests[-1].status == 200  # no 304 hid them
    finally:
        await producer.aclose()
        state.close()


FEED_FAULTS = [
    ("malformed_xml", {}, "malformed_feed"),
    ("html_error", {}, "not_feed"),
    ("huge", {}, "too_large"),
    ("gzip_bomb", {}, "too_large"),
    ("redirect_loop", {}, "redirect_loop"),
    ("hang", {}, "timeout"),
    ("error_500", {}, "http_5xx"),
    ("error_500", {"status": 404}, "http_4xx"),
    ("retry_after", {"status": 429, "seconds": 30}, "rate_limited"),
]


@pytest.mark.parametrize("fault, params, code", FEED_FAULTS, ids=[f"{f}-{c}" for f, _, c in FEED_FAULTS])
async def test_feed_fault_is_counted_and_others_carry_on(room, tmp_path, fault, params, code):
    tag = f"{fault}{params.get('status', '')}"
    producer, state, (north, south) = make(room, tmp_path, tag=tag)
    room.set_fault("Northtown Gazette", fault, **params)
    before = feed_errors(north.id, code)
    try:
        started = time.monotonic()
        bad, good = await asyncio.gather(producer.poll_feed(north), producer.poll_feed(south))
        assert time.monotonic() - started < 8
        assert bad == [] and len(good) == 2
        st = state.feed_state(north.id)
        assert (st.last_error_code, st.last_outcome, st.consecutive_errors) == (code, "error", 1)
        assert st.last_error  # a readable reason
        assert st.next_due > time.time() + 1  # backing off
        assert feed_errors(north.id, code) == before + 1
        assert state.feed_state(south.id).last_outcome == "ok"
    finally:
        await producer.aclose()
        state.close()


async def test_recoverable_malformed_xml_yields_items_and_is_counted(room, tmp_path):
    producer, state, (north, _) = make(room, tmp_path, tag="recoverable")
    room.set_fault("Northtown Gazette", "malformed_xml", mode="recoverable")
    before = feed_errors(north.id, "malformed_feed")
    try:
        items = await producer.poll_feed(north)
        assert len(items) == 3
        assert feed_errors(north.id, "malformed_feed") == before + 1
        st = state.feed_state(north.id)
        assert st.last_error_code == "malformed_feed" and st.consecutive_errors == 0
    finally:
        await producer.aclose()
        state.close()


@pytest.mark.parametrize("fault", ["wrong_charset", "no_charset"])
async def test_feed_charset_faults_still_decode(room, tmp_path, fault):
    producer, state, (north, _) = make(room, tmp_path, tag=fault)
    room.set_fault("Northtown Gazette", fault)
    try:
        titles = [i.title for i in await producer.poll_feed(north)]
        assert "Café owner wins £500 prize" in titles
    finally:
        await producer.aclose()
        state.close()


async def test_duplicate_guids_emit_each_link_once(room, tmp_path):
    producer, state, (north, _) = make(room, tmp_path, tag="dupguid")
    room.set_fault("Northtown Gazette", "duplicate_guids")
    try:
        items = await producer.poll_feed(north)
        assert sorted(i.url for i in items) == sorted(room.page_url(a) for a in ("n1", "n2", "n3"))
        # The pair sharing one GUID does not trust it; the single item keeps it.
        assert sum(1 for i in items if i.guid is None) == 2
    finally:
        await producer.aclose()
        state.close()


async def test_items_without_link_or_date_still_travel(room, tmp_path):
    producer, state, (north, _) = make(room, tmp_path, tag="nolink")
    room.set_fault("Northtown Gazette", "no_link")
    room.set_fault("Northtown Gazette", "no_date")
    try:
        items = await producer.poll_feed(north)
        assert len(items) == 3 and len({i.article_id for i in items}) == 3
        assert all(i.published is None for i in items)
        assert all("#cashwatch-no-link-" in i.url for i in items)
        page = await producer.fetch_page(items[0])
        assert page.error_code == "no_link" and page.html is None and page.item.title == items[0].title
        again = await producer.poll_feed(north)
        assert again == []  # stable ids: not new again
    finally:
        await producer.aclose()
        state.close()


async def test_backoff_grows_visible_in_state_and_resets(room, tmp_path):
    producer, state, (north, _) = make(room, tmp_path, tag="backoff")
    room.set_fault("Northtown Gazette", "error_500")
    try:
        backoffs = []
        for _ in range(3):
            await producer.poll_feed(north)
            backoffs.append(state.feed_state(north.id).backoff_s)
        assert backoffs == [60.0, 120.0, 240.0]
        assert state.feed_state(north.id).consecutive_errors == 3
        assert metrics.REGISTRY.get_sample_value("cashwatch_feeds_backing_off") >= 1
        room.clear_fault("Northtown Gazette")
        assert len(await producer.poll_feed(north)) == 3
        st = state.feed_state(north.id)
        assert (st.backoff_s, st.consecutive_errors, st.last_outcome) == (0.0, 0, "ok")
        assert st.last_error_code == "http_5xx"  # the last reason stays visible
    finally:
        await producer.aclose()
        state.close()


async def test_retry_after_is_honoured_by_the_run_loop(room, tmp_path):
    producer, state, (north, south) = make(room, tmp_path, tag="retryafter")
    room.set_fault("Northtown Gazette", "retry_after", status=503, seconds=120)
    out: asyncio.Queue = asyncio.Queue()
    stop = asyncio.Event()
    try:
        task = asyncio.create_task(producer.run(out, stop))
        deadline = time.monotonic() + 15
        while room.hits(south.url) < 3 and time.monotonic() < deadline:  # poll_interval_s is 1
            await asyncio.sleep(0.1)
        stop.set()
        await asyncio.wait_for(task, 5)
        assert room.hits(south.url) >= 3  # the healthy feed was polled again and again meanwhile
        assert room.hits(north.url) == 1
        st = state.feed_state(north.id)
        assert st.next_due >= time.time() + 100 and st.last_error_code == "http_5xx" and st.backoff_s >= 120
        pages = [out.get_nowait() for _ in range(out.qsize())]
        assert sorted(p.item.url for p in pages) == sorted(room.page_url(a) for a in ("s1", "s2"))
    finally:
        await producer.aclose()
        state.close()


@pytest.mark.parametrize("hops, code", [(5, None), (6, "too_many_redirects")])
async def test_redirect_limit(room, tmp_path, hops, code):
    producer, state, (north, _) = make(room, tmp_path, tag=f"hops{hops}", http={"max_redirects": 5})
    room.set_fault("Northtown Gazette", "redirect_chain", hops=hops)
    try:
        items = await producer.poll_feed(north)
        st = state.feed_state(north.id)
        if code is None:
            assert len(items) == 3 and st.last_outcome == "ok"
        else:
            assert items == [] and st.last_error_code == code
    finally:
        await producer.aclose()
        state.close()


async def test_ssrf_guard_refuses_loopback_unless_allow_listed(room, tmp_path):
    producer, state, (north, _) = make(room, tmp_path, tag="ssrf", http={"allow_hosts": []})
    localhost = FeedConfig(id="ssrf-localhost", url=north.url.replace("127.0.0.1", "localhost"), poll_interval_s=1.0)
    try:
        before = room.hits(north.url)
        assert await producer.poll_feed(north) == []  # literal 127.0.0.1
        assert await producer.poll_feed(localhost) == []  # a name resolving to loopback
        assert room.hits(north.url) == before  # never contacted
        assert state.feed_state(north.id).last_error_code == "blocked_address"
        assert state.feed_state(localhost.id).last_error_code == "blocked_address"
        for url in (room.page_url("n1"), room.page_url("n1").replace("127.0.0.1", "localhost")):
            item = FeedItem(article_id=article_id_for(url), feed_id=north.id, url=url, title="t")
            page = await producer.fetch_page(item)
            assert page.error_code == "blocked_address" and page.html is None
        assert room.hits("/robots.txt") == 0 and room.hits(room.page_url("n1")) == 0
    finally:
        await producer.aclose()
        state.close()


PAGE_FAULTS = [
    ("not_html", {}, "not_html"),
    ("huge", {}, "too_large"),
    ("gzip_bomb", {}, "too_large"),
    ("redirect_loop", {}, "redirect_loop"),
    ("hang", {}, "timeout"),
    ("error_500", {}, "http_5xx"),
]


@pytest.mark.parametrize("fault, params, code", PAGE_FAULTS, ids=[f for f, _, _ in PAGE_FAULTS])
async def test_page_faults_become_error_pages(room, tmp_path, fault, params, code):
    producer, state, (north, _) = make(room, tmp_path, tag=f"page-{fault}")
    producer.pages.retry_delay_s = 0.0
    room.set_fault("n1", fault, **params)
    before = metrics.REGISTRY.get_sample_value("cashwatch_page_errors_total", {"feed": north.id, "error_code": code}) or 0
    try:
        items = await producer.poll_feed(north)
        pages = await asyncio.gather(*(producer.fetch_page(i) for i in items))
        bad = [p for p in pages if p.article_id == items[0].article_id][0]
        assert bad.error_code == code and bad.html is None and bad.error
        after = metrics.REGISTRY.get_sample_value("cashwatch_page_errors_total", {"feed": north.id, "error_code": code})
        assert after == before + 1  # counted per feed
        assert all(p.html and p.error_code is None for p in pages if p is not bad)
    finally:
        await producer.aclose()
        state.close()


@pytest.mark.parametrize("fault, params", [
    ("wrong_charset", {}), ("no_charset", {}), ("redirect_once", {}), ("consent_redirect", {}),
    ("retry_after", {"status": 429, "seconds": 1, "times": 1}),  # honoured once, then the page comes
    ("error_500", {"times": 1}),  # a transient 5xx is retried once
])
async def test_page_charset_redirect_and_transient_errors_handled(room, tmp_path, fault, params):
    producer, state, (north, _) = make(room, tmp_path, tag=f"page-{fault}")
    producer.pages.retry_delay_s = 0.1
    room.set_fault("n2", fault, **params)
    try:
        items = await producer.poll_feed(north)
        started = time.monotonic()
        page = await producer.fetch_page(items[1])
        assert page.error_code is None and "£500" in page.html
        if fault == "redirect_once":
            assert page.final_url.endswith("?moved=1")
        if fault == "retry_after":
            assert time.monotonic() - started >= 0.9  # waited as asked
        if params.get("times"):
            assert room.hits(room.page_url("n2")) == 2
    finally:
        await producer.aclose()
        state.close()


async def test_robots_txt_disallow_is_respected(room, tmp_path):
    producer, state, (north, _) = make(room, tmp_path, tag="robots")
    room.robots_disallow = ["/northtown-gazette/"]
    try:
        items = await producer.poll_feed(north)
        page = await producer.fetch_page(items[0])
        assert page.error_code == "robots_disallowed"
        assert room.hits(room.page_url("n1")) == 0
    finally:
        await producer.aclose()
        state.close()
    producer, state, (north, _) = make(room, tmp_path, tag="robots-off", http={"respect_robots_txt": False})
    try:
        page = await producer.fetch_page(items[0])
        assert page.error_code is None and page.html
    finally:
        await producer.aclose()
        state.close()


async def test_run_emits_each_new_item_once_as_it_appears(tmp_path):
    room = Newsroom(CORPUS, base_feed_items=1)
    await room.start()
    producer, state, _ = make(room, tmp_path, tag="run")
    out: asyncio.Queue = asyncio.Queue(maxsize=2)  # bounded: the producer must wait for the consumer
    stop = asyncio.Event()
    got = []

    async def consume():
        while True:
            page = await out.get()
            got.append(page)
            state.mark_done(page.item)

    try:
        task = asyncio.create_task(producer.run(out, stop))
        consumer = asyncio.create_task(consume())
        deadline = time.monotonic() + 15
        while len(got) < 2 and time.monotonic() < deadline:  # the first item of each feed
            await asyncio.sleep(0.1)
        room.release(5)
        while len(got) < len(CORPUS) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.2)  # one more poll of each feed: nothing may come twice
        stop.set()
        await asyncio.wait_for(task, 5)
        consumer.cancel()
        ids = [p.item.url for p in got]
        assert sorted(ids) == sorted(room.page_url(a["id"]) for a in CORPUS)
        assert all(p.html and not p.error_code for p in got)
    finally:
        await producer.aclose()
        state.close()
        await room.stop()


@pytest.mark.parametrize("per_host, min_s, max_s", [(1, 1.95, 12.0), (4, 0.0, 1.6)])
async def test_per_host_concurrency_limit(room, tmp_path, per_host, min_s, max_s):
    body = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>One</title>'
            b'<link>https://news.example/one</link></item></channel></rss>')
    feeds = []
    for i in range(4):
        name = f"slow-{per_host}-{i}.xml"
        feeds.append(FeedConfig(id=f"slow-{per_host}-{i}", url=room.add_raw_feed(name, body, "application/rss+xml"),
                                poll_interval_s=60))
        room.set_fault(name, "slow", delay_s=0.5)  # four of them: 2 s one by one, 0.5 s side by side
    producer, state, _ = make(room, tmp_path, feeds=feeds, http={"per_host_concurrency": per_host, "read_timeout_s": 5})
    try:
        started = time.monotonic()
        await asyncio.gather(*(producer.poll_feed(f) for f in feeds))
        assert min_s <= time.monotonic() - started <= max_s
    finally:
        await producer.aclose()
        state.close()


async def test_next_poll_is_jittered_around_the_interval(room, tmp_path):
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
    feeds = [FeedConfig(id=f"jitter-{i}", url=room.add_raw_feed(f"j{i}.xml", body, "application/rss+xml"),
                        poll_interval_s=100) for i in range(8)]
    producer, state, _ = make(room, tmp_path, feeds=feeds, http={"jitter_fraction": 0.2})
    try:
        await asyncio.gather(*(producer.poll_feed(f) for f in feeds))
        delays = [state.feed_state(f.id).next_due - state.feed_state(f.id).last_polled for f in feeds]
        assert all(80 <= d <= 120 for d in delays)
        assert len({round(d, 3) for d in delays}) > 1  # not all feeds at the same instant
        assert all(state.feed_state(f.id).last_outcome == "empty" for f in feeds)
    finally:
        await producer.aclose()
        state.close()


async def test_identical_body_without_validators_is_not_parsed_again(room, tmp_path):
    def doc(n: int) -> bytes:
        items = "".join(f"<item><title>Story {i}</title><link>https://paper.example/{i}</link></item>" for i in range(n))
        return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()

    url = room.add_raw_feed("novalidators.xml", doc(2), "application/rss+xml")  # no ETag, no Last-Modified
    feed = FeedConfig(id="novalidators", url=url, poll_interval_s=60)
    producer, state, _ = make(room, tmp_path, feeds=[feed])
    try:
        assert len(await producer.poll_feed(feed)) == 2
        assert await producer.poll_feed(feed) == []
        assert state.feed_state(feed.id).last_outcome == "unchanged"
        room.add_raw_feed("novalidators.xml", doc(3), "application/rss+xml")
        assert [i.title for i in await producer.poll_feed(feed)] == ["Story 2"]
        assert state.feed_state(feed.id).last_outcome == "ok"
    finally:
        await producer.aclose()
        state.close()


ATOM = (b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        b'<entry><title type="html">&lt;b&gt;Raid&lt;/b&gt; at bank</title><link href="/news/1?utm_medium=rss"/>'
        b'<id>tag:x,2026:1</id><updated>2026-04-01T10:00:00Z</updated>'
        b'<summary type="html">&lt;p&gt;Cash taken&lt;script&gt;evil()&lt;/script&gt;&lt;/p&gt;</summary></entry></feed>')
RSS_ENTITIES = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>Win &pound;5&nbsp;now'
                b'</title><link>https://paper.example/win</link></item></channel></rss>')


@pytest.mark.parametrize("name, body, ctype, headers, outcome, code, titles", [
    ("atom", ATOM, "application/atom+xml", {}, "ok", None, ["Raid at bank"]),
    ("entities", RSS_ENTITIES, "application/rss+xml", {}, "ok", None, ["Win £5 now"]),
    ("brokengzip", b"<rss>not gzip</rss>", "application/rss+xml", {"Content-Encoding": "gzip"}, "error", "decode_error", []),
    ("image", b"\x89PNG\r\n\x1a\n", "image/png", {}, "error", "not_feed", []),
    ("emptybody", b"   \n", "application/rss+xml", {}, "error", "malformed_feed", []),
    ("htmlasrss", b"<!DOCTYPE html><html><body><p>Oops</p></body></html>", "application/rss+xml", {}, "error",
     "not_feed", []),
    ("homepage", b'<!DOCTYPE html><html><head><link rel="alternate" type="application/rss+xml" href="/rss?a=1&amp;b=2">'
     b"</head><body><p>Latest news</p></body></html>", "text/html", {}, "error", "not_feed", []),
    ("nofeed", b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>',
     "text/xml", {}, "empty", None, []),
])
async def test_raw_documents(room, tmp_path, name, body, ctype, headers, outcome, code, titles):
    feed = FeedConfig(id=f"raw-{name}", url=room.add_raw_feed(f"{name}.xml", body, ctype, headers), poll_interval_s=60)
    producer, state, _ = make(room, tmp_path, feeds=[feed])
    try:
        items = await producer.poll_feed(feed)
        st = state.feed_state(feed.id)
        assert (st.last_outcome, st.last_error_code) == (outcome, code)
        assert [i.title for i in items] == titles
        if name == "homepage":  # the error names the feed the page advertises
            assert f"advertises a feed at {room.base_url}/rss?a=1&b=2" in st.last_error
        if name == "atom":
            assert items[0].url == room.base_url + "/news/1"  # resolved against the feed, tracking stripped
            assert items[0].summary == "Cash taken" and items[0].published.isoformat() == "2026-04-01T10:00:00+00:00"
    finally:
        await producer.aclose()
        state.close()


async def test_refused_connection_is_a_connect_error(room, tmp_path):
    import socket

    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    feed = FeedConfig(id="refused", url=f"http://127.0.0.1:{port}/feed.xml", poll_interval_s=60)
    producer, state, _ = make(room, tmp_path, feeds=[feed])
    try:
        assert await producer.poll_feed(feed) == []
        st = state.feed_state(feed.id)
        assert (st.last_error_code, st.consecutive_errors) == ("connect_error", 1)
    finally:
        await producer.aclose()
        state.close()
