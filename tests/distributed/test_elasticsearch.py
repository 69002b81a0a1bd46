"""The Elasticsearch sink against a real node (deploy/local/elasticsearch.sh, integ-test-zip 9.x)."""
from __future__ import annotations

import asyncio

import pytest

from cashwatch.config import ElasticsearchConfig
from cashwatch.models import Analysis, Article, IncidentMention
from cashwatch.sinks.elasticsearch import ElasticsearchSink, SinkUnavailable

from .conftest import make_event, make_incident

pytestmark = pytest.mark.elasticsearch


@pytest.fixture
async def sink(es_url, unique_name):
    s = ElasticsearchSink(ElasticsearchConfig(url=es_url, index_prefix=f"{unique_name}-"), refresh=True)
    await s.start()
    yield s
    await s.client.indices.delete(index=f"{unique_name}-*")
    await s.client.indices.delete_index_template(name=f"{unique_name}-*")
    await s.close()


async def test_templates_give_the_mappings_search_needs(sink):
    mapping = await sink.client.indices.get_mapping(index=sink.incidents_alias)
    (props,) = [m["mappings"]["properties"] for m in mapping.body.values()]
    assert props["location"]["type"] == "geo_point"
    assert props["incident_id"]["type"] == "keyword"
    assert props["date"]["type"] == "date"
    assert props["title"]["analyzer"] == "standard"
    aliases = await sink.client.indices.get_alias(name=sink.incidents_alias)
    assert list(aliases.body) == [f"{sink.prefix}incidents-v1"]
    await sink.start()  # a second start (every worker restart) changes nothing and does not fail


async def test_indexing_twice_keeps_one_doc_and_never_goes_back(sink):
    one = make_event(make_incident("i-replay", reports=1))
    two = make_event(make_incident("i-replay", reports=2), "updated")
    r = await sink.write([one, two, one])  # a replay of the first event arrives after the second
    assert r.rejected == []
    await sink.client.indices.refresh(index=sink.incidents_alias)
    resp = await sink.client.search(index=sink.incidents_alias, query={"term": {"incident_id": "i-replay"}})
    assert resp["hits"]["total"]["value"] == 1
    assert resp["hits"]["hits"][0]["_source"]["report_count"] == 2
    assert r.stale == 1
    again = await sink.write([two])
    assert again.indexed == 1 and again.stale == 0  # same version: an idempotent overwrite
    await sink.client.indices.refresh(index=sink.incidents_alias)
    assert (await sink.client.count(index=sink.incidents_alias))["count"] == 1


CORPUS = [
    ("i-wig", "atm_explosive", "Wigan", "greater-manchester", 53.545, -2.632),
    ("i-bol", "atm_theft", "Bolton", "greater-manchester", 53.578, -2.429),
    ("i-lee", "cit_robbery", "Leeds", "west-yorkshire", 53.800, -1.549),
    ("i-car", "atm_break_in", "Cardiff", "south-wales", 51.481, -3.179),
]


@pytest.fixture(scope="module")
def corpus_index(es_url):
    """CORPUS indexed once through the sink (module scope: the searches below only read it)."""
    import uuid

    from elasticsearch import Elasticsearch

    prefix = f"t{uuid.uuid4().hex[:10]}-"

    async def fill() -> int:
        s = ElasticsearchSink(ElasticsearchConfig(url=es_url, index_prefix=prefix), refresh=True)
        try:
            await s.start()
            return (await s.write([make_event(make_incident(i, type=t, town=town, force=f, lat=lat, lon=lon))
                                   for i, t, town, f, lat, lon in CORPUS])).indexed
        finally:
            await s.close()

    assert asyncio.run(fill()) == len(CORPUS)
    es = Elasticsearch(es_url)
    yield es, f"{prefix}incidents"
    es.indices.delete(index=f"{prefix}*")
    es.indices.delete_index_template(name=f"{prefix}*")
    es.close()


@pytest.mark.parametrize(("filters", "expected"), [
    ({"town": "Wigan"}, {"i-wig"}),
    ({"force": "greater-manchester"}, {"i-wig", "i-bol"}),
    ({"region": "north-west"}, {"i-wig", "i-bol"}),
    ({"region": "yorkshire-and-humber"}, {"i-lee"}),
    ({"region": "wales"}, {"i-car"}),
    ({"type": "cit_robbery"}, {"i-lee"}),
    ({"force": "greater-manchester", "type": "atm_theft"}, {"i-bol"}),
    ({"force": "south-wales"}, {"i-car"}),
])
def test_search_by_town_force_region_type(corpus_index, filters, expected):
    es, alias = corpus_index
    resp = es.search(index=alias, size=100, query={"bool": {"filter": [{"term": {k: v}} for k, v in filters.items()]}})
    assert {h["_source"]["incident_id"] for h in resp["hits"]["hits"]} == expected


def test_geo_point_search_finds_incidents_near_a_place(corpus_index):
    es, alias = corpus_index
    # 20 km around Manchester city centre: Wigan (~25 km) is out, Bolton (~16 km) is in.
    resp = es.search(index=alias, query={"geo_distance": {"distance": "20km", "location": {"lat": 53.4808, "lon": -2.2426}}})
    assert {h["_source"]["incident_id"] for h in resp["hits"]["hits"]} == {"i-bol"}
    assert es.get(index=alias, id="i-car")["_source"]["location"] == {"lat": 51.481, "lon": -3.179}
    resp = es.search(index=alias, query={"match": {"town.text": "cardiff"}})
    assert [h["_id"] for h in resp["hits"]["hits"]] == ["i-car"]


async def test_article_and_analysis_merge_into_one_doc_in_any_order(sink):
    art = Article(article_id="a-1", url="https://news.example/1", source="Gazette", title="Cash machine ripped out",
                  text="Thieves used a digger to rip a cash machine from the wall of a shop overnight.")
    ana = Analysis(article_id="a-1", url=art.url, kind="incident", incidents=[
        IncidentMention(type="atm_theft", town="Bolton", force="greater-manchester", lat=53.578, lon=-2.429,
                        incident_id="i-bol")])
    r = await sink.write([ana, art])
    assert r.indexed == 2
    src = (await sink.client.get(index=sink.articles_alias, id="a-1"))["_source"]
    assert src["kind"] == "incident" and src["incident_ids"] == ["i-bol"] and src["regions"] == ["north-west"]
    assert "digger" in src["text"]
    resp = await sink.client.search(index=sink.articles_alias, query={"match": {"text": "DIGGER"}})
    assert resp["hits"]["total"]["value"] == 1


async def test_rejected_items_are_returned_not_retried(sink):
    bad = make_event(make_incident("i-bad", lat=123.0, lon=0.0))  # latitude out of range: ES says 400
    good = make_event(make_incident("i-good"))
    r = await sink.write([bad, good])
    assert r.indexed == 1 and r.attempts == 1
    assert [(x.doc_id, x.status) for x in r.rejected] == [("i-bad", 400)]
    assert "lat" in r.rejected[0].reason.lower() or r.rejected[0].error_type == "document_parsing_exception"


async def test_unreachable_node_raises_after_the_retry_budget(unique_name):
    import socket

    from cashwatch.health import ComponentHealth
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    health = ComponentHealth()
    sink = ElasticsearchSink(ElasticsearchConfig(url=f"http://127.0.0.1:{port}", index_prefix=f"{unique_name}-"),
                             max_retry_s=1.0, backoff_initial_s=0.1, health=health)
    try:
        with pytest.raises(SinkUnavailable, match="unavailable"):
            await sink.write([make_event(make_incident("i-x"))])
        # the sinks worker's /healthz says so while it waits
        assert health.failing and f"127.0.0.1:{port}" in health.error
    finally:
        await sink.close()


async def test_a_node_that_answers_again_clears_the_failure(sink):
    from cashwatch.health import ComponentHealth
    sink.health = ComponentHealth()
    sink.health.failed("Elasticsearch at http://127.0.0.1:9: connection")
    r = await sink.write([make_event(make_incident("i-back"))])
    assert r.indexed == 1 and not sink.health.failing


async def test_merged_event_leaves_one_doc_that_the_old_id_finds(sink):
    """A report showed i-late to be i-first: the survivor is indexed with the absorbed id and the
    absorbed incident's doc is deleted (a second delete of a doc already gone is not an error)."""
    first, late = make_incident("i-first", reports=1), make_incident("i-late", reports=1)
    r = await sink.write([make_event(first), make_event(late)])
    assert r.rejected == [] and r.indexed == 2
    survivor = first.model_copy(update={"reports": first.reports + late.reports, "merged_ids": ["i-late"]})
    merged = make_event(survivor, "merged").model_copy(update={"absorbed": "i-late", "changes": ["merged"]})
    r = await sink.write([merged, merged])
    assert r.rejected == []
    await sink.client.indices.refresh(index=sink.incidents_alias)
    resp = await sink.client.search(index=sink.incidents_alias, query={"match_all": {}})
    assert [h["_source"]["incident_id"] for h in resp["hits"]["hits"]] == ["i-first"]
    found = await sink.client.search(index=sink.incidents_alias, query={"term": {"merged_ids": "i-late"}})
    assert found["hits"]["hits"][0]["_source"]["report_count"] == 2
