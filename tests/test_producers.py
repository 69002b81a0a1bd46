"""Producers, pure parts and state: plain text, canonical URLs, the SSRF address policy, charset
decoding, Retry-After parsing and the durable producer state (real SQLite)."""
from __future__ import annotations

import email.utils
import sqlite3
import time

import pytest

from cashwatch.config import HttpConfig
from cashwatch.errors import BlockedURLError
from cashwatch.models import FeedItem, article_id_for
from cashwatch.producers.clean import canonical_url, plain_text
from cashwatch.producers.http import AddressPolicy, SafeHttpClient, parse_retry_after, split_content_type, user_agent
from cashwatch.producers.pages import decode_html
from cashwatch.producers.state import FeedState, ProducerState


@pytest.mark.parametrize("raw, expected", [
    ("Van <b>robbed</b> in Leeds", "Van robbed in Leeds"),
    ("<p>Guard hurt</p><p>Cash taken</p>", "Guard hurt Cash taken"),
    ("ATM hit<script>alert('x')</script> overnight", "ATM hit overnight"),
    ("<style>.a{color:red}</style>Raid in Wigan", "Raid in Wigan"),
    ("&lt;script&gt;alert(1)&lt;/script&gt;Ram raid", "Ram raid"),  # escaped markup decodes to markup: still stripped
    ("&amp;lt;b&amp;gt;double&amp;lt;/b&amp;gt;", "double"),
    ("Fish &amp; chips &pound;5", "Fish & chips £5"),
    ("<img src=x onerror=alert(1)>Explosion", "Explosion"),
    ("Broken <a href='x' tag", "Broken"),
    ("<!-- hidden --> shown", "shown"),
    ("a < b and c > d", "a < b and c > d"),
    ("line\x00with\x07control", "linewithcontrol"),
    ("", ""),
    (None, ""),
])
def test_plain_text(raw, expected):
    assert plain_text(raw) == expected


@pytest.mark.parametrize("url, expected", [
    ("https://News.Example.co.uk/story?utm_source=rss&utm_medium=feed&id=7#comments",
     "https://news.example.co.uk/story?id=7"),
    ("http://example.com:80/a?fbclid=abc", "http://example.com/a"),
    ("https://example.com:443/a?gclid=1&page=2&mc_cid=x", "https://example.com/a?page=2"),
    ("https://example.com:8443/a", "https://example.com:8443/a"),
    ("https://example.com", "https://example.com/"),
    ("https://example.com/a?WT.mc_id=rss&x=1", "https://example.com/a?x=1"),
    ("  https://example.com/a  ", "https://example.com/a"),
])
def test_canonical_url(url, expected):
    assert canonical_url(url) == expected


def test_same_story_through_tracking_links_gets_one_article_id():
    a = canonical_url("https://paper.example/news/1?utm_campaign=newsletter")
    b = canonical_url("https://PAPER.example/news/1?fbclid=zz#top")
    assert article_id_for(a) == article_id_for(b)


@pytest.mark.parametrize("address, allowed", [
    ("8.8.8.8", True),
    ("2a00:1450:4009:81f::200e", True),
    ("127.0.0.1", False),
    ("10.1.2.3", False),
    ("172.16.0.9", False),
    ("192.168.1.1", False),
    ("169.254.169.254", False),  # cloud metadata
    ("100.64.0.1", False),  # carrier-grade NAT
    ("0.0.0.0", False),
    ("::1", False),
    ("fe80::1", False),
    ("fc00::1", False),
    ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
    ("224.0.0.1", False),
])
def test_address_policy_default(address, allowed):
    assert AddressPolicy(HttpConfig()).address_allowed(address) is allowed


@pytest.mark.parametrize("config, host, addresses, ok", [
    (HttpConfig(allow_hosts=["10.0.0.0/8"]), "intranet", ["10.9.8.7"], True),
    (HttpConfig(allow_hosts=["10.0.0.0/8"]), "intranet", ["10.9.8.7", "192.168.0.1"], False),
    (HttpConfig(allow_hosts=["127.0.0.1"]), "localhost", ["127.0.0.1"], True),
    (HttpConfig(allow_hosts=["feeds.internal"]), "feeds.internal", ["192.168.5.5"], True),
    (HttpConfig(allow_private=True), "anything", ["127.0.0.1"], True),
    (HttpConfig(), "evil.example", ["93.184.216.34", "127.0.0.1"], False),  # one bad address is enough
])
def test_address_policy_allow_list(config, host, addresses, ok):
    policy = AddressPolicy(config)
    if ok:
        policy.check(host, addresses)
    else:
        with pytest.raises(BlockedURLError):
            policy.check(host, addresses)


@pytest.mark.parametrize("url", ["http://127.0.0.1/feed", "http://[::1]/feed", "http://169.254.169.254/latest"])
def test_literal_private_urls_refused_before_connecting(url):
    with pytest.raises(BlockedURLError):
        SafeHttpClient(HttpConfig()).check_url(url)


def test_user_agent_names_cashwatch_and_contact():
    ua = user_agent(HttpConfig(user_agent_contact="https://example.org/contact"))
    assert ua.startswith("cashwatch/") and "(+https://example.org/contact)" in ua


def test_parse_retry_after():
    assert parse_retry_after("120") == 120
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    now = time.time()
    when = email.utils.formatdate(now + 300, usegmt=True)
    assert 298 <= parse_retry_after(when, now=now) <= 301


@pytest.mark.parametrize("value, expected", [
    ("text/html; charset=UTF-8", ("text/html", "utf-8")),
    ("application/rss+xml", ("application/rss+xml", None)),
    ('text/xml; charset="iso-8859-1"', ("text/xml", "iso-8859-1")),
    (None, ("", None)),
])
def test_split_content_type(value, expected):
    assert split_content_type(value) == expected


@pytest.mark.parametrize("body, header, expected", [
    ("<p>£5 café</p>".encode("utf-8"), "utf-8", "£5 café"),
    ("<p>£5 café</p>".encode("cp1252"), "utf-8", "£5 café"),  # declared wrong: not trusted
    ("<p>£5 café</p>".encode("cp1252"), None, "£5 café"),  # undeclared
    ('<meta charset="iso-8859-1"><p>£5</p>'.encode("latin-1"), None, "£5"),
    ("\ufeff<p>£5</p>".encode("utf-8"), "cp1252", "£5"),  # the BOM wins
    ("<p>£5 café</p>".encode("utf-8"), "iso-8859-1", "£5 café"),  # server default charset, UTF-8 page
    ("<p>£5 café</p>".encode("latin-1"), "iso-8859-1", "£5 café"),  # and a real Latin-1 page still works
])
def test_decode_html(body, header, expected):
    text, _ = decode_html(body, header)
    assert expected in text


def _item(url: str, guid: str | None = None, feed: str = "f1") -> FeedItem:
    return FeedItem(article_id=article_id_for(url), feed_id=feed, guid=guid, url=url, title="t")


def test_state_seen_only_after_mark_done_and_durable(tmp_path):
    path = str(tmp_path / "cw.db")
    st = ProducerState(path)
    it = _item("https://a.example/1", guid="g1")
    assert not st.is_seen(it)
    assert st.claim(it) and not st.claim(it)  # in flight: not twice in one process
    st.close()
    st = ProducerState(path)  # "kill -9" before mark_done: a new process sees it as new
    assert not st.is_seen(it) and st.claim(it)
    st.mark_done(it)
    st.close()
    st = ProducerState(path)
    assert st.is_seen(it)
    # seen by GUID within the feed even if the link changed, and by URL from any feed
    assert st.is_seen(_item("https://a.example/1-updated", guid="g1"))
    assert st.is_seen(_item("https://a.example/1", feed="other"))
    assert not st.is_seen(_item("https://a.example/2", guid="g1", feed="other"))
    st.close()
    with sqlite3.connect(path) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"producer_feeds", "producer_seen"} <= tables
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_state_release_returns_item_to_pool(tmp_path):
    st = ProducerState(str(tmp_path / "cw.db"))
    it = _item("https://a.example/1")
    assert st.claim(it)
    st.release(it)
    assert st.claim(it)
    st.close()


def test_feed_state_round_trip(tmp_path):
    st = ProducerState(str(tmp_path / "cw.db"))
    assert st.feed_state("x") == FeedState(feed_id="x")
    s = FeedState(feed_id="x", url="https://a.example/f", etag='"e"', next_due=5.0, backoff_s=120.0,
                  consecutive_errors=2, last_error_code="http_5xx", last_outcome="error", polls=3, errors=2)
    st.save_feed_state(s)
    assert st.feed_state("x") == s
    assert [f.feed_id for f in st.all_feed_states()] == ["x"]
    assert st.backing_off_count() == 1 and st.feed_state("x").backing_off
    st.close()



def test_pending_items_of_a_dead_run_force_a_full_get(tmp_path):
    path = str(tmp_path / "cw.db")
    st = ProducerState(path)
    a, b = _item("https://a.example/1"), _item("https://a.example/2")
    taken, all_done = st.claim_many([a, b], "f1")
    assert taken == [a, b] and not all_done
    assert not st.needs_full_get("f1")  # this run's own items in flight: a 304 hides nothing
    st.mark_done(a)
    st.close()
    st = ProducerState(path)  # the process died with b emitted but not stored
    assert st.needs_full_get("f1") and not st.needs_full_get("f2")
    taken, all_done = st.claim_many([a, b], "f1")
    assert taken == [b] and not all_done and not st.needs_full_get("f1")
    st.mark_done(b)
    assert st.claim_many([a, b], "f1") == ([], True)
    st.close()


def test_pending_items_that_left_the_feed_stop_forcing_full_gets(tmp_path):
    path = str(tmp_path / "cw.db")
    st = ProducerState(path)
    st.claim_many([_item("https://a.example/gone")], "f1")
    st.close()
    st = ProducerState(path)
    assert st.needs_full_get("f1")
    st.claim_many([_item("https://a.example/new")], "f1")  # the document no longer lists it
    assert not st.needs_full_get("f1")
    st.close()
