"""`cashwatch kibana import` against a stand-in for Kibana's saved objects API.

Kibana itself cannot run here (it is not published on any registry this machine reaches), so a real
HTTP server on loopback plays its ``POST /api/saved_objects/_import`` endpoint: it checks what Kibana
checks (the ``kbn-xsrf`` header, a multipart ``file`` of NDJSON) and answers as Kibana does.
"""
from __future__ import annotations

import json
import threading

import pytest
from aiohttp import web
from typer.testing import CliRunner

from cashwatch.cli import app
from cashwatch.cli.distributed import KIBANA_DIR


class FakeKibana:
    def __init__(self, fail_ids: set[str] = frozenset()) -> None:
        self.received: list[dict] = []
        self.fail_ids = fail_ids

    async def handle(self, request: web.Request) -> web.Response:
        if "kbn-xsrf" not in request.headers:
            return web.json_response({"statusCode": 400, "message": "Request must contain a kbn-xsrf header."}, status=400)
        form = await request.post()
        objs = [json.loads(line) for line in form["file"].file.read().decode().splitlines() if line.strip()]
        self.received.append({"overwrite": request.query.get("overwrite"), "objects": objs})
        errors = [{"id": o["id"], "type": o["type"], "error": {"type": "conflict"}} for o in objs if o["id"] in self.fail_ids]
        return web.json_response({"success": not errors, "successCount": len(objs) - len(errors), "errors": errors})


@pytest.fixture
def kibana():
    import asyncio

    fake = FakeKibana()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state = {}

    async def start():
        a = web.Application()
        a.router.add_post("/api/saved_objects/_import", fake.handle)
        runner = web.AppRunner(a)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        state["runner"] = runner
        state["url"] = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"

    def run():
        loop.run_until_complete(start())
        ready.set()
        loop.run_forever()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    ready.wait(10)
    fake.url = state["url"]
    yield fake
    asyncio.run_coroutine_threadsafe(state["runner"].cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    t.join(5)


def test_import_sends_every_saved_object(kibana):
    result = CliRunner().invoke(app, ["kibana", "import", "--url", kibana.url])
    assert result.exit_code == 0, result.output
    (call,) = kibana.received
    assert call["overwrite"] == "true"
    shipped = [json.loads(x) for x in (KIBANA_DIR / "cashwatch.ndjson").read_text().splitlines() if x.strip()]
    assert [o["id"] for o in call["objects"]] == [o["id"] for o in shipped]
    assert "imported 7 object(s)" in result.stdout


def test_import_reports_kibanas_errors(kibana):
    kibana.fail_ids = {"cashwatch-dashboard"}
    result = CliRunner().invoke(app, ["kibana", "import", "--url", kibana.url])
    assert result.exit_code == 1
    assert "cashwatch-dashboard" in result.output


def test_import_without_a_url_says_so(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("kibana: {url: null}\n")
    result = CliRunner().invoke(app, ["kibana", "import", "-c", str(cfg)])
    assert result.exit_code == 2 and "no Kibana URL" in result.output
