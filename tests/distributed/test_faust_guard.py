"""GapGuard against a real broker: skipped records are read back in order, stalled partitions sought back."""
from __future__ import annotations

import asyncio
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


async def test_first_record_after_an_assignment_is_compared_with_the_brokers_commit(kafka_bootstrap, unique_name):
    """faust's copy of the committed offset can be missing: the group's commit in the broker decides
    what was skipped (3 and 4 here), not the log start (which would repeat 0-2)."""
    from kafka import KafkaConsumer, KafkaProducer
    from kafka.structs import OffsetAndMetadata
    from kafka.structs import TopicPartition as KafkaTP

    topic, group = f"{unique_name}.t", f"{unique_name}.group"
    prod = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    for i in range(8):
        prod.send(topic, key=b"k%d" % i, value=b"v%d" % i, partition=0).get(30)
    prod.close()
    c = KafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False)
    c.assign([KafkaTP(topic, 0)])
    c.commit({KafkaTP(topic, 0): OffsetAndMetadata(3, "", -1)})
    c.close()
    guard = GapGuard(SimpleNamespace(consumer=SimpleNamespace(_committed_offset={})), kafka_bootstrap, group_id=group)
    try:
        assert [r.offset for r in await guard.missed_before(event(topic, 0, 5))] == [3, 4]
        assert await guard.missed_before(event(topic, 0, 6)) == []
    finally:
        await guard.close()


class FakeConsumer:
    """Stands in for faust's consumer, whose stalls cannot be caused on purpose: the end offsets come
    from the real broker; assignment, faust's committed offsets and the seeks are recorded here."""

    def __init__(self, tps, committed):
        self.tps, self._committed_offset, self.flow_active = set(tps), dict(committed), True
        self._active_partitions, self._paused_partitions, self._read_offset = set(), set(tps), {}
        self.sought: list[tuple] = []

    def assignment(self):
        return self.tps

    def resume_partitions(self, tps):
        self._paused_partitions -= set(tps)
        self._active_partitions |= set(tps)

    async def seek(self, tp, offset):
        self.sought.append((tp.topic, tp.partition, offset))


def faust_like_app(consumer, *, rebalancing=False):
    recovery = SimpleNamespace(completed=SimpleNamespace(is_set=lambda: True))
    return SimpleNamespace(consumer=consumer, rebalancing=rebalancing, in_recovery=False,
                           tables=SimpleNamespace(recovery=recovery))


@pytest.mark.parametrize(("committed", "delivered", "rebalancing", "expected"), [
    (None, [], False, [(0, 0, 5)]),          # nothing committed, nothing delivered: all five records
    (3, [], False, [(0, 3, 5)]),             # committed 3 of 5, the rest never delivered
    (None, [0, 1, 2, 3, 4], False, []),      # everything delivered: nothing to do
    (None, [0, 1], False, [(0, 2, 5)]),      # delivery stopped after two records
    (None, [], True, []),                    # rebalancing: faust will seek by itself
])
async def test_stalled_partitions_are_sought_back(kafka_bootstrap, unique_name, committed, delivered, rebalancing,
                                                  expected):
    from aiokafka.structs import TopicPartition
    from kafka import KafkaProducer

    topic = f"{unique_name}.t"
    prod = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    for i in range(5):
        prod.send(topic, key=b"k%d" % i, value=b"v%d" % i, partition=0).get(30)
    prod.send(f"{topic}-other", value=b"x").get(30)
    prod.close()
    tp = TopicPartition(topic, 0)
    group = f"{unique_name}.group"
    # The group's committed offsets live in the broker. The group exists (as a faust worker's does), with
    # a commit on another topic when none is wanted on this one.
    from kafka import KafkaConsumer
    from kafka.structs import OffsetAndMetadata
    from kafka.structs import TopicPartition as KafkaTP

    where = KafkaTP(topic, 0) if committed is not None else KafkaTP(f"{topic}-other", 0)
    c = KafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False)
    c.assign([where])
    c.commit({where: OffsetAndMetadata(committed or 0, "", -1)})
    c.close()
    consumer = FakeConsumer([tp], {})  # faust's own copy of the committed offset can be missing
    guard = GapGuard(faust_like_app(consumer, rebalancing=rebalancing), kafka_bootstrap, group_id=group,
                     stall_after_s=0.2)
    try:
        for off in delivered:
            assert await guard.missed_before(event(topic, 0, off)) == []
        assert await guard.sweep({topic}) == []      # not quiet for long enough yet
        await asyncio.sleep(0.3)
        got = await guard.sweep({topic, "another-topic"})
        assert [(p, start, end) for _, p, start, end in got] == expected
        assert consumer.sought == [(topic, p, start) for p, start, _ in expected]
        if expected:   # resumed, and given time to deliver before being sought again
            assert tp in consumer._active_partitions and tp not in consumer._paused_partitions
            assert await guard.sweep({topic}) == []
    finally:
        await guard.close()
