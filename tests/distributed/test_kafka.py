"""Topics and the Kafka producer against a real broker (deploy/local/kafka.sh, KRaft)."""
from __future__ import annotations

import pytest

from cashwatch.config import KafkaConfig
from cashwatch.models import FeedItem, Page
from cashwatch.producers.kafka import KafkaPublisher, cap_page
from cashwatch.runtime.distributed import DEAD_LETTERS, TOPICS, decode, ensure_topics, topic_name

from .conftest import make_page

pytestmark = pytest.mark.kafka


def consume_all(bootstrap: str, topic: str, expect: int, timeout_s: float = 20.0) -> list:
    from kafka import KafkaConsumer

    c = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None,
                      consumer_timeout_ms=int(timeout_s * 1000))
    out = []
    try:
        for m in c:
            out.append(m)
            if len(out) >= expect:
                break
    finally:
        c.close()
    return out


def test_topics_are_created_with_partitions_and_retention_from_config(kafka_bootstrap, unique_name):
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

    cfg = KafkaConfig(bootstrap_servers=kafka_bootstrap, topic_prefix=f"{unique_name}.", partitions=3,
                      retention_ms=3_600_000, max_message_bytes=200_000)
    first = ensure_topics(cfg)
    names = [topic_name(cfg, n) for n in [*TOPICS, DEAD_LETTERS]]
    assert first == {n: "created" for n in names}
    assert ensure_topics(cfg) == {n: "exists" for n in names}  # idempotent: every worker start runs it
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        meta = {t["name"]: t for t in admin.describe_topics(names)}
        assert {n: len(meta[n]["partitions"]) for n in names} == {n: 3 for n in names}
        pages = topic_name(cfg, "pages")
        entries = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, pages)])["topic"][pages]
        entries = {k: v["value"] for k, v in entries.items()}
        assert entries["retention.ms"] == "3600000"
        assert entries["max.message.bytes"] == "200000"
        assert entries["compression.type"] == "gzip"
    finally:
        admin.close()


def test_pages_are_keyed_by_article_id_and_round_trip(kafka_bootstrap, unique_name):
    cfg = KafkaConfig(bootstrap_servers=kafka_bootstrap, topic_prefix=f"{unique_name}.", partitions=3)
    ensure_topics(cfg)
    pub = KafkaPublisher(cfg)
    pages = [make_page(f"https://news.example/story/{i}", f"<html><body><p>Story {i}</p></body></html>",
                       title=f"Story {i}") for i in range(6)]
    try:
        for p in pages:
            for f in pub.publish_page(p):
                f.get(timeout=30)
    finally:
        pub.close()
    got = consume_all(kafka_bootstrap, topic_name(cfg, "pages"), len(pages))
    assert sorted(m.key.decode() for m in got) == sorted(p.article_id for p in pages)
    assert {decode(Page, m.value).article_id: decode(Page, m.value) for m in got} == {p.article_id: p for p in pages}
    items = consume_all(kafka_bootstrap, topic_name(cfg, "feed-items"), len(pages))
    assert sorted(decode(FeedItem, m.value).article_id for m in items) == sorted(p.article_id for p in pages)


def test_oversize_page_travels_as_an_error_record(kafka_bootstrap, unique_name):
    cfg = KafkaConfig(bootstrap_servers=kafka_bootstrap, topic_prefix=f"{unique_name}.", partitions=1,
                      max_message_bytes=50_000)
    ensure_topics(cfg)
    big = make_page("https://news.example/huge", "<html><body>" + "<p>word </p>" * 20_000 + "</body></html>",
                    title="A huge page", summary="Summary of the huge page")
    pub = KafkaPublisher(cfg)
    try:
        for f in pub.publish_page(big):
            f.get(timeout=30)
    finally:
        pub.close()
    (msg,) = consume_all(kafka_bootstrap, topic_name(cfg, "pages"), 1)
    page = decode(Page, msg.value)
    assert page.html is None and page.error_code == "page_too_large"
    assert page.item == big.item and "over the Kafka record cap" in page.error
    assert big.html is not None  # the record given was not mutated


@pytest.mark.parametrize(("html_chars", "capped"), [(1_000, False), (49_000, True), (200_000, True)])
def test_cap_page_keeps_small_pages_whole(html_chars, capped):
    page = make_page("https://news.example/x", "x" * html_chars)
    out = cap_page(page, 40_000)
    assert (out is not page) == capped
    assert (out.error_code == "page_too_large") == capped


def test_unparseable_record_is_a_named_input_error():
    from cashwatch.errors import InputError

    with pytest.raises(InputError, match=r"pages\[2\]@7: not a valid Page: article_id"):
        decode(Page, b'{"schema": 1, "item": {}}', where="pages[2]@7")


def test_cli_kafka_topics_creates_and_reports(kafka_bootstrap, unique_name, tmp_path):
    from typer.testing import CliRunner

    from cashwatch.cli import app

    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"kafka: {{bootstrap_servers: '{kafka_bootstrap}', topic_prefix: '{unique_name}.', partitions: 2}}\n")
    first = CliRunner().invoke(app, ["kafka", "topics", "-c", str(cfg)])
    assert first.exit_code == 0, first.output
    rows = [line.split("\t") for line in first.stdout.splitlines() if line.startswith(unique_name)]
    assert len(rows) == len(TOPICS) + 1 and {r[1] for r in rows} == {"created"}
    assert all(r[2] == "partitions=2" for r in rows)
    again = CliRunner().invoke(app, ["kafka", "topics", "-c", str(cfg)])
    assert {line.split("\t")[1] for line in again.stdout.splitlines() if line.startswith(unique_name)} == {"exists"}


def test_cli_kafka_topics_names_an_unreachable_broker(tmp_path):
    import socket

    from typer.testing import CliRunner

    from cashwatch.cli import app

    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"kafka: {{bootstrap_servers: '127.0.0.1:{port}'}}\n")
    result = CliRunner().invoke(app, ["kafka", "topics", "-c", str(cfg)])
    assert result.exit_code == 1
    assert f"127.0.0.1:{port}" in result.output
