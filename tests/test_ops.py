"""The operations port: /healthz answers with status, /metrics exposes the declared Prometheus metrics."""
from __future__ import annotations

import httpx

from cashwatch import metrics
from cashwatch.ops import OpsServer


async def test_healthz_and_metrics():
    server = OpsServer("127.0.0.1", 0, status=lambda: {"processed": 7})
    url = await server.start()
    try:
        metrics.FEED_POLLS.labels("some-feed", "not_modified").inc()
        async with httpx.AsyncClient() as client:
            health = await client.get(f"{url}/healthz")
            assert health.status_code == 200 and health.json() == {"status": "ok", "processed": 7}
            text = (await client.get(f"{url}/metrics")).text
        assert 'cashwatch_feed_polls_total{feed="some-feed",outcome="not_modified"}' in text
        for name in ("cashwatch_errors_total", "cashwatch_queue_depth", "cashwatch_stage_seconds",
                     "cashwatch_articles_total", "cashwatch_incident_events_total"):
            assert f"# HELP {name}" in text
    finally:
        await server.stop()
