"""A real webhook receiver on loopback, for tests, the demo and the benchmarks.

It behaves like a careful production receiver: it verifies the ``X-Cashwatch-Signature`` of every
request (when given the secret), processes each idempotency key once and answers a repeat with
``200`` without processing it again, and records everything it saw. It can be told to misbehave:

=========  ================================================================================
mode       answer
=========  ================================================================================
``ok``     process the alert, answer 200
``error``  do not process, answer 500
``hang``   process the alert, then never answer (the sender times out: "processed but the
           answer was lost", the case idempotency keys exist for)
``throttle`` do not process, answer 429 with ``Retry-After: <retry_after_s>``
an int     do not process, answer that status code (e.g. 404, 410)
=========  ================================================================================

:meth:`WebhookReceiver.script` queues modes for the next requests (then ``mode`` applies again);
:meth:`WebhookReceiver.pause` closes the port (the receiver is down: connections are refused) and
:meth:`WebhookReceiver.resume` opens the same port again, keeping what was recorded.

Use it from async code as ``async with WebhookReceiver(secret=...) as rx: rx.url``, or from sync code
(benchmarks, subprocess tests) through :class:`ReceiverThread`. ``python -m cashwatch.newsroom.receiver
--port 8765 --secret s3cret`` runs one in the foreground and prints each request.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from cashwatch.alerting import (ATTEMPT_HEADER, DEFAULT_REPLAY_WINDOW_S, EVENT_HEADER, IDEMPOTENCY_HEADER,
                                SIGNATURE_HEADER, SUBSCRIPTION_HEADER, TIMESTAMP_HEADER, signature_problem)
from cashwatch.newsroom.server import until_signal

Mode = str | int


@dataclass
class ReceivedRequest:
    """One HTTP request as the receiver saw it."""

    n: int
    received_at: float  # time.time() on arrival
    path: str
    key: str | None
    event: str | None
    subscription: str | None
    attempt: int | None
    body: bytes
    headers: dict[str, str]
    signature: str  # "valid", "unsigned" (no secret configured) or the problem (missing, stale, mismatch, ...)
    answer: str = ""  # ok, duplicate, error, hang, throttle, bad_signature or the status code given
    processed: bool = False

    def json(self):
        return json.loads(self.body)


@dataclass
class _State:
    requests: list[ReceivedRequest] = field(default_factory=list)
    processed: dict[str, ReceivedRequest] = field(default_factory=dict)  # key -> first processed request
    order: list[ReceivedRequest] = field(default_factory=list)  # processed requests, in processing order
    duplicates: int = 0


class WebhookReceiver:
    """A loopback aiohttp server that receives cashwatch alerts (see module docstring)."""

    def __init__(self, *, secret: str | None = None, host: str = "127.0.0.1", port: int = 0,
                 tolerance_s: float = DEFAULT_REPLAY_WINDOW_S, retry_after_s: float = 1.0,
                 on_request: Callable[[ReceivedRequest], None] | None = None) -> None:
        self.secret = secret
        self.host = host
        self.port = port
        self.tolerance_s = tolerance_s
        self.retry_after_s = retry_after_s
        self.mode: Mode = "ok"
        self.on_request = on_request
        self._script: deque[Mode] = deque()
        self._state = _State()
        self._lock = threading.Lock()  # the thread wrapper reads state from another thread
        self._runner: web.AppRunner | None = None
        self._release = asyncio.Event()
        self._changed = asyncio.Event()

    # ------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/hook"

    async def start(self) -> str:
        """Listen (on ``port``, or a free port when 0) and return the URL to post alerts to."""
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/{tail:.*}", self._handle)
        self._release = asyncio.Event()
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        if self.port == 0:
            self.port = self._runner.addresses[0][1]
        return self.url

    async def stop(self) -> None:
        """Close the port and every open connection; hanging requests are released first."""
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def pause(self) -> None:
        """Go down: connections to the port are refused until :meth:`resume`. Records are kept."""
        await self.stop()

    async def resume(self) -> None:
        """Come back on the same port."""
        await self.start()

    async def __aenter__(self) -> "WebhookReceiver":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    # ------------------------------------------------------------ behaviour

    def set_mode(self, mode: Mode) -> None:
        """How to answer from now on (after any scripted answers)."""
        self.mode = mode

    def script(self, *modes: Mode) -> None:
        """Answer the next ``len(modes)`` requests with these modes, in order."""
        self._script.extend(modes)

    # ------------------------------------------------------------ what was received

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._state.requests)

    @property
    def processed(self) -> list[ReceivedRequest]:
        """Requests processed (first time for their key), in processing order."""
        with self._lock:
            return list(self._state.order)

    @property
    def duplicates(self) -> int:
        with self._lock:
            return self._state.duplicates

    def keys_seen(self) -> set[str]:
        """Every idempotency key any request carried (processed or not)."""
        with self._lock:
            return {r.key for r in self._state.requests if r.key}

    async def wait_for(self, predicate: Callable[["WebhookReceiver"], bool], timeout: float = 10.0) -> None:
        """Wait until ``predicate(self)`` holds, or raise ``TimeoutError``."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"receiver: condition not met within {timeout}s "
                                   f"({len(self.requests)} requests, {len(self.processed)} processed)")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(left, 0.2))
            except TimeoutError:
                pass

    # ------------------------------------------------------------ handler

    def _next_mode(self) -> Mode:
        return self._script.popleft() if self._script else self.mode

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        h = request.headers
        if self.secret is None:
            sig = "unsigned"
        else:
            sig = signature_problem(self.secret, body, h.get(TIMESTAMP_HEADER), h.get(SIGNATURE_HEADER),
                                    tolerance_s=self.tolerance_s) or "valid"
        attempt = h.get(ATTEMPT_HEADER)
        with self._lock:
            rec = ReceivedRequest(n=len(self._state.requests) + 1, received_at=time.time(), path=request.path,
                                  key=h.get(IDEMPOTENCY_HEADER), event=h.get(EVENT_HEADER),
                                  subscription=h.get(SUBSCRIPTION_HEADER),
                                  attempt=int(attempt) if attempt and attempt.isdigit() else None,
                                  body=body, headers=dict(h), signature=sig)
            self._state.requests.append(rec)
        mode = self._next_mode()
        try:
            if sig not in ("valid", "unsigned"):
                rec.answer = "bad_signature"
                return web.json_response({"error": f"signature {sig}"}, status=401)
            if mode == "error":
                rec.answer = "error"
                return web.json_response({"error": "simulated failure"}, status=500)
            if mode == "throttle":
                rec.answer = "throttle"
                return web.json_response({"error": "slow down"}, status=429,
                                         headers={"Retry-After": str(int(self.retry_after_s))})
            if isinstance(mode, int):
                rec.answer = str(mode)
                return web.json_response({"error": "simulated status"}, status=mode)
            with self._lock:
                if rec.key and rec.key in self._state.processed:
                    self._state.duplicates += 1
                    rec.answer = "duplicate"
                else:
                    rec.processed = True
                    if rec.key:
                        self._state.processed[rec.key] = rec
                    self._state.order.append(rec)
            if self.on_request is not None:
                self.on_request(rec)
            if mode == "hang":
                rec.answer = rec.answer or "hang"
                self._changed.set()
                await self._release.wait()  # never answer in time; released on stop
                return web.Response(status=503)
            rec.answer = rec.answer or "ok"
            return web.json_response({"ok": True, "duplicate": rec.answer == "duplicate"})
        finally:
            self._changed.set()


class ReceiverThread:
    """A :class:`WebhookReceiver` running on its own event loop in a daemon thread, for sync code.

    ``start()`` returns the URL; every other method mirrors the receiver's and is safe to call from the
    calling thread.
    """

    def __init__(self, **kwargs) -> None:
        self.receiver = WebhookReceiver(**kwargs)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="webhook-receiver", daemon=True)

    def _call(self, coro, timeout: float = 10.0):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def start(self) -> str:
        self._thread.start()
        return self._call(self.receiver.start())

    def stop(self) -> None:
        try:
            self._call(self.receiver.stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)

    def pause(self) -> None:
        self._call(self.receiver.pause())

    def resume(self) -> None:
        self._call(self.receiver.resume())

    # Set directly, not via the loop: an attribute store and deque.extend are atomic, and the next
    # request is then sure to see the new behaviour.
    def set_mode(self, mode: Mode) -> None:
        self.receiver.set_mode(mode)

    def script(self, *modes: Mode) -> None:
        self.receiver.script(*modes)

    @property
    def url(self) -> str:
        return self.receiver.url

    @property
    def requests(self) -> list[ReceivedRequest]:
        return self.receiver.requests

    @property
    def processed(self) -> list[ReceivedRequest]:
        return self.receiver.processed

    def keys_seen(self) -> set[str]:
        return self.receiver.keys_seen()

    def wait_for(self, predicate: Callable[[WebhookReceiver], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self.receiver):
            if time.monotonic() > deadline:
                raise TimeoutError(f"receiver: condition not met within {timeout}s")
            time.sleep(0.005)

    def __enter__(self) -> "ReceiverThread":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def describe(body: bytes) -> str:
    """One line about an alert body, whatever its format: the generic JSON's incident, a Slack message's
    text, a Teams card's headline; else its size."""
    try:
        doc = json.loads(body)
    except ValueError:
        return f"{len(body)} bytes (not JSON)"
    if not isinstance(doc, dict):
        return f"{len(body)} bytes"
    inc = doc.get("incident")
    if isinstance(inc, dict):
        where = ", ".join(str(x) for x in (inc.get("force"), inc.get("region")) if x) or "place unknown"
        return f"{inc.get('type') or '?'} {inc.get('town') or '?'} ({where})"
    if isinstance(doc.get("text"), str):  # Slack
        return f"slack: {doc['text']}"
    for att in doc.get("attachments") or []:  # Teams: the card's first text block
        blocks = ((att or {}).get("content") or {}).get("body") or []
        text = next((b.get("text") for b in blocks if isinstance(b, dict) and b.get("text")), None)
        if text:
            return f"teams: {text}"
    return f"{len(body)} bytes"


def main(argv: list[str] | None = None) -> None:
    """Run a receiver in the foreground and print one line per request (for the demo)."""
    ap = argparse.ArgumentParser(description="A local cashwatch webhook receiver.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--secret", default=None, help="verify signatures with this secret")
    ap.add_argument("--mode", default="ok", help="ok, error, hang, throttle or a status code")
    ap.add_argument("--jsonl", action="store_true", help="print one JSON object per processed request "
                    "(key, subscription, event, incident_id, signature, received_at) instead of a text line")
    args = ap.parse_args(argv)

    def show(rec: ReceivedRequest) -> None:
        if args.jsonl:
            try:
                incident_id = rec.json().get("incident", {}).get("id")
            except (ValueError, AttributeError):
                incident_id = None
            print(json.dumps({"key": rec.key, "subscription": rec.subscription, "event": rec.event,
                              "incident_id": incident_id, "signature": rec.signature, "received_at": rec.received_at,
                              "duplicate": not rec.processed}), flush=True)
            return
        print(f"{rec.subscription} {rec.event} key={rec.key} sig={rec.signature} {describe(rec.body)}", flush=True)

    async def serve() -> None:
        mode: Mode = int(args.mode) if args.mode.isdigit() else args.mode
        rx = WebhookReceiver(secret=args.secret, host=args.host, port=args.port, on_request=show)
        rx.set_mode(mode)
        url = await rx.start()
        print(json.dumps({"listening": url}) if args.jsonl else f"listening on {url}", flush=True)
        try:
            await until_signal()
        finally:
            await rx.stop()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
