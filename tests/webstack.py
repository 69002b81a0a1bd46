"""A real embedded monitor serving the web page on loopback, fed by the newsroom simulator and alerting a
real webhook receiver, run in a background thread so that sync tests (Selenium) can use it."""
from __future__ import annotations

import asyncio
import json
import threading
import time
from importlib import resources
from pathlib import Path

from cashwatch.config import Settings
from cashwatch.newsroom.receiver import ReceiverThread
from cashwatch.newsroom.server import NewsroomThread
from cashwatch.sinks.sqlite import Store

SECRET = "webhook-secret-never-shown"
TOKEN = "t0ken-for-the-page"

EXTRA = [
    {"id": "web-kettering", "url": "https://northants-echo.example/news/web-kettering", "source": "northants-echo.example",
     "published": "2026-11-19",
     "title": "Cash machine blown apart in Kettering <script>window.__pwned = 1</script>",
     "text": "Criminals used gas to blow up a cash machine at a convenience store on Rockingham Road in Kettering "
             "in the early hours of Wednesday, November 19. <script>window.__pwned = 2</script>\n\n"
             "Northamptonshire Police said the explosion happened at about 2.40am and the gang fled in a dark "
             "Audi. Nobody was hurt, but the shop front was badly damaged.\n\n"
             "Detectives have asked anyone with information or dashcam footage to call 101."},
    {"id": "web-leyland", "url": "https://lancs-post.example/news/web-leyland", "source": "lancs-post.example",
     "published": "2026-11-18",
     "title": "Gas attack on ATM in Leyland overnight",
     "text": "Thieves used gas to blow open an ATM at a petrol station in Leyland overnight on Tuesday, "
             "November 18.\n\nLancashire Police said officers were called at 3am after residents heard a loud bang. "
             "Cash was taken and the suspects escaped in a stolen car.\n\n"
             "Anyone with information is asked to call 101 quoting log 0123."},
]


def corpus() -> list[dict]:
    text = resources.files("cashwatch").joinpath("newsroom/corpus/demo.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()] + EXTRA


class MonitorStack:
    """Newsroom + receiver + monitor (+ page). ``host``: where the page binds; a non-loopback host gets
    ``token``."""

    def __init__(self, tmp: Path, *, host: str = "127.0.0.1", token: str | None = None) -> None:
        self.records = corpus()
        self.newsroom = NewsroomThread(self.records)
        self.receiver = ReceiverThread(secret=SECRET)
        self.tmp, self.host, self.token = tmp, host, token
        self.url = ""
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self.monitor = None
        self.error: BaseException | None = None

    def start(self, timeout_s: float = 120.0) -> "MonitorStack":
        self.newsroom.start()
        self.receiver.start()
        feeds = self.newsroom.newsroom.feed_urls()
        self.settings = Settings.model_validate({
            "store_path": str(self.tmp / "web.db"),
            "feeds": [{"id": f"sim-{i}", "url": u, "poll_interval_s": 3600, "place_hint": None}
                      for i, u in enumerate(feeds.values())],
            "subscriptions": [
                {"name": "everything", "url": self.receiver.url, "secret": SECRET,
                 "events": ["created", "updated", "merged", "retracted"]},
                {"name": "north-west", "url": self.receiver.url, "secret": SECRET, "regions": ["north-west"],
                 "events": ["created", "merged"]},
            ],
            "http": {"allow_hosts": ["127.0.0.1"], "jitter_fraction": 0.0, "per_host_concurrency": 8},
            "ops": {"metrics_host": self.host, "metrics_port": 0},
            "web": {"token": self.token} if self.token else {},
        })
        self._thread = threading.Thread(target=self._run, daemon=True, name="web-monitor")
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError(f"the monitor did not start: {self.error!r}")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.monitor is not None and self.monitor.processed >= len(self.records):
                break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"processed {self.monitor.processed if self.monitor else 0} of {len(self.records)}")
        n = self.count_incidents()
        self.receiver.wait_for(lambda rx: len([r for r in rx.processed if r.subscription == "everything"]) >= n,
                               timeout=60)
        return self

    def _run(self) -> None:
        from cashwatch.ops import OpsServer
        from cashwatch.runtime.embedded import EmbeddedMonitor
        from cashwatch.web.app import WebPages

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self.monitor = EmbeddedMonitor(self.settings)
            server = OpsServer(self.host, 0, health=self.monitor.healthz,
                               web=WebPages(self.settings, health=self.monitor.health))
            await server.start()
            self.server = server
            host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
            self.url = f"http://{host}:{server.port}"
            self._ready.set()
            try:
                await self.monitor.run(self._stop)
            finally:
                await server.stop()

        try:
            asyncio.run(main())
        except BaseException as exc:  # reported by start()
            self.error = exc
            self._ready.set()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(30)
        self.receiver.stop()
        self.newsroom.stop()

    # -- looking at the store ---------------------------------------------------------------

    def store(self) -> Store:
        return Store(self.settings.store_path)

    def count_incidents(self) -> int:
        s = self.store()
        try:
            return s.count("incidents")
        finally:
            s.close()

    def incident_in(self, town: str):
        s = self.store()
        try:
            return next(i for i in s.list_incidents(limit=1000, include_dismissed=True) if i.town == town)
        finally:
            s.close()

    def alerts(self, subscription: str | None = None) -> list[tuple[str, str]]:
        """(alert event, incident id) of every alert the receiver processed."""
        out = []
        for r in self.receiver.processed:
            if subscription is None or r.subscription == subscription:
                out.append((r.event, r.json()["incident"]["id"]))
        return out
