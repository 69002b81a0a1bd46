"""The local operations port: ``/healthz`` (JSON status), ``/metrics`` (Prometheus text) and, when given,
the analyst's web page (:mod:`cashwatch.web.app`) at ``/``."""
from __future__ import annotations

import json
from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from cashwatch.metrics import REGISTRY


class OpsServer:
    """Lifecycle: ``await start()`` binds host:port (port 0 picks a free one) → ``await stop()``.

    ``/healthz`` answers ``health()`` (HTTP status, JSON body) when given, e.g. the embedded monitor's
    verdict: 200 ``ok`` / ``starting``, 503 ``degraded`` (what a load balancer or a systemd watchdog
    understands); else 200 ``{"status": "ok", **status()}`` (the process is up).
    """

    def __init__(self, host: str, port: int, status: Callable[[], dict] | None = None,
                 health: Callable[[], tuple[int, dict]] | None = None, web=None) -> None:
        self.host, self.port = host, port
        self.web = web  # a cashwatch.web.app.WebPages, or None
        self._status = status or (lambda: {})
        self._health = health
        self._runner: web.AppRunner | None = None

    async def _healthz(self, request: web.Request) -> web.Response:
        if self._health is not None:
            code, body = self._health()
        else:
            code, body = 200, {"status": "ok", **self._status()}
        return web.Response(text=json.dumps(body, default=str), status=code, content_type="application/json")

    async def _metrics(self, request: web.Request) -> web.Response:
        resp = web.Response(body=generate_latest(REGISTRY))
        resp.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return resp

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        if self.web is not None:
            self.web.add_routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://{self.host}:{self.port}"

    @property
    def page_url(self) -> str | None:
        """The web page's address, when it is served."""
        if self.web is None or not self.web.servable:
            return None
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
        if self.web is not None:
            self.web.close()
