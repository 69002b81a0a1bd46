"""GapGuard against a real broker: records faust's fetcher skipped are read back, in order."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from cashwatch.processors.faust_app import GapGuard

pytestmark = pytest.mark.kafka


def event(topic: str, partition: int, offset: int):
    return SimpleNamespace(message=SimpleNamespace(topic=topic, partition=partition, offset=offset,
                                                   tp=(topic, partition)), key=b"k", value=b"v")


@pytest.mark.parametrize(("committed", "seen", "expected_refetched"), [
    ({}, [0, 1, 2, 3], [[], [], [], []]),                      # no jump: nothing to do
    ({("t", 0): 2}, [2, 3, 6], [[], [], [4, 5]]),              # a jump after the committed offset
    ({("t", 0): 3}, [5, 6], [[3, 4], []]),                     # the first record is past the committed offset
    ({}, [2, 3], [[0, 1], []]),                                # nothing committed: from the log start
    ({("t", 0): 4}, [1, 2, 4], [[], [], []]),                  # a replay of older records is fine
])
async def test_skipped_records_are_read_back(kafka_bootstrap, unique_name, committed, seen, expected_refetched):
    from kafka import KafkaProducer

    topic = f"{unique_name}.t"
    prod = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    for i in range(8):
        prod.send(topic, key=b"k%d" % i, value=b"v%d" % i, partition=0).get(30)
    prod.close()
    app = SimpleNamespace(consumer=SimpleNamespace(_committed_offset={(topic, 0): v for (_, _), v in committed.items()}))
    guard = GapGuard(app, kafka_bootstrap)
    got = []
    for off in seen:
        recs = await guard.missed_before(event(topic, 0, off))
        got.append([r.offset for r in recs])
        assert [r.value for r in recs] == [b"v%d" % r.offset for r in recs]
    assert got == expected_refetched
