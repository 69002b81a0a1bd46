"""Commands of the distributed runtime (Kafka, faust-streaming, Elasticsearch, Kibana).

    cashwatch kafka topics      create the topics (partitions, retention from `kafka:`)
    cashwatch kafka produce     poll the feeds, publish items and pages to Kafka
    cashwatch process           a faust worker of the processors (extract, analyse, link); run two
    cashwatch kafka sink        index into Elasticsearch and send webhook alerts
    cashwatch kibana import     load deploy/kibana's saved objects through Kibana's API
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from cashwatch.cli import app
from cashwatch.cli.core import ConfigOpt, default_config_path, load_config

kibana_app = typer.Typer(help="Kibana saved objects.", no_args_is_help=True)
app.add_typer(kibana_app, name="kibana")
kafka_app = typer.Typer(help="Kafka topics and the Kafka-side stages of the distributed runtime.", no_args_is_help=True)
app.add_typer(kafka_app, name="kafka")

KIBANA_DIR = Path(__file__).resolve().parents[2] / "deploy" / "kibana"


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _settings(config: str | None):
    from cashwatch.logs import configure

    settings = load_config(config or default_config_path())
    configure(settings.ops.log_format, settings.ops.log_level)
    return settings


def _run_until_signal(settings, coro_factory, health=None) -> None:
    """Run ``coro_factory(stop)`` until SIGINT/SIGTERM, with the ops port (/healthz, /metrics) when
    ``ops.metrics_port`` is set (the compose healthchecks use it); ``health`` answers /healthz."""
    import asyncio
    import signal

    async def main() -> None:
        from cashwatch.ops import OpsServer

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        server = None
        if settings.ops.metrics_port:
            server = OpsServer(settings.ops.metrics_host, settings.ops.metrics_port, health=health)
            _err(f"ops: {await server.start()}/healthz")
        try:
            await coro_factory(stop)
        finally:
            if server:
                await server.stop()

    asyncio.run(main())


def unreachable_brokers(bootstrap_servers: str, timeout_s: float = 3.0) -> str | None:
    """None when at least one bootstrap server accepts a TCP connection, else why none does (one line).

    A quick look before kafka-python, whose clients retry an absent broker for their whole request
    timeout and log every attempt."""
    import socket

    reasons = []
    for server in [s.strip() for s in bootstrap_servers.split(",") if s.strip()]:
        host, _, port = server.rpartition(":")
        host = host.strip("[]") or server
        try:
            with socket.create_connection((host, int(port or 9092)), timeout=timeout_s):
                return None
        except (OSError, ValueError) as exc:
            reasons.append(f"{server}: {getattr(exc, 'strerror', None) or exc}")
    return "; ".join(reasons) or "no bootstrap server configured"


@kafka_app.command("topics")
def kafka_topics(config: Optional[str] = ConfigOpt,
                 timeout_s: float = typer.Option(30.0, help="Give up on the broker's answers after this long.")) -> None:
    """Create every topic of the distributed runtime (existing ones are left alone)."""
    from cashwatch.runtime.distributed import ensure_topics

    settings = _settings(config)
    why = unreachable_brokers(settings.kafka.bootstrap_servers)
    if why:
        _err(f"error: cannot reach Kafka at {settings.kafka.bootstrap_servers} ({why}); "
             "is the broker running? (kafka.bootstrap_servers or CASHWATCH_KAFKA__BOOTSTRAP_SERVERS)")
        raise typer.Exit(1)
    try:
        result = ensure_topics(settings.kafka, timeout_s=timeout_s)
    except Exception as exc:  # kafka-python raises its own tree; name the broker
        _err(f"error: cannot create topics on {settings.kafka.bootstrap_servers}: {type(exc).__name__}: {exc}")
        raise typer.Exit(1) from exc
    k = settings.kafka
    for topic, status in result.items():
        print(f"{topic}\t{status}\tpartitions={k.partitions}\treplication={k.replication_factor}\t"
              f"retention_ms={k.retention_ms}")


@kafka_app.command("produce")
def kafka_produce(config: Optional[str] = ConfigOpt) -> None:
    """Poll the configured feeds and publish new items and their pages to Kafka until interrupted."""
    from cashwatch.producers.kafka import run_producer

    import time

    from cashwatch import health
    from cashwatch.producers.state import ProducerState

    settings = _settings(config)
    started_at = time.time()

    def healthz() -> tuple[int, dict]:
        """The feeds' verdict, as the embedded monitor's /healthz (cashwatch/health.py)."""
        state = ProducerState(settings.store_path)
        try:
            feeds = health.feeds_health(settings, {st.feed_id: st for st in state.all_feed_states()})
        finally:
            state.close()
        verdict = health.assess(feeds, started_at=started_at, now=time.time(), grace_s=settings.ops.health_grace_s)
        return verdict.http_status, {"status": verdict.status, "reasons": verdict.reasons, **verdict.summary}

    _run_until_signal(settings, lambda stop: run_producer(settings, stop), health=healthz)


@kafka_app.command("sink")
def kafka_sink(config: Optional[str] = ConfigOpt,
               group: Optional[str] = typer.Option(None, help="Consumer group (default <topic_prefix>sinks).")) -> None:
    """Index articles and incidents into Elasticsearch and send webhook alerts until interrupted."""
    from cashwatch.health import ComponentHealth
    from cashwatch.runtime.distributed import run_sinks

    settings = _settings(config)
    es_health = ComponentHealth()

    def healthz() -> tuple[int, dict]:
        # degraded (503) while Elasticsearch does not answer: the batch waits, nothing is lost, but nothing is
        # searchable either
        if es_health.failing:
            return 503, {"status": "degraded", "reasons": [f"elasticsearch failing: {es_health.error}"]}
        return 200, {"status": "ok"}

    _run_until_signal(settings, lambda stop: run_sinks(settings, stop, group_id=group, es_health=es_health),
                      health=healthz)


@app.command("process")
def process(
    config: Optional[str] = ConfigOpt,
    web_port: int = typer.Option(0, help="Port of faust's web view (0: disabled)."),
    datadir: Optional[str] = typer.Option(None, help="faust's data folder (default ./<app id>-data)."),
    loglevel: str = typer.Option("warning", help="faust's own log level."),
) -> None:
    """Run one faust worker of the processors (extract, analyse, link).

    Start several: they share the partitions and take over each other's when one stops."""
    settings = _settings(config)
    if settings.runtime != "distributed":
        _err("note: runtime is not 'distributed' in the configuration; running the faust worker anyway")
    try:
        import faust
    except ImportError as exc:
        _err("error: faust-streaming is not installed: pip install 'cashwatch[kafka]'")
        raise typer.Exit(2) from exc
    from cashwatch.processors.faust_app import create_app
    from cashwatch.runtime.distributed import ensure_topics

    ensure_topics(settings.kafka)
    faust_app = create_app(settings, web_enabled=bool(web_port), web_port=web_port or 6066, datadir=datadir)
    worker = faust.Worker(faust_app, loglevel=loglevel, quiet=True)
    worker.execute_from_commandline()


@kibana_app.command("import")
def kibana_import(
    config: Optional[str] = ConfigOpt,
    url: Optional[str] = typer.Option(None, help="Kibana URL (default: kibana.url of the configuration)."),
    folder: Path = typer.Option(KIBANA_DIR, help="Folder of *.ndjson saved objects."),
    overwrite: bool = typer.Option(True, help="Replace objects that already exist."),
) -> None:
    """Load the saved objects (data views, saved search, dashboard) through Kibana's saved objects API."""
    import httpx

    settings = load_config(config or default_config_path())
    base = url or settings.kibana.url
    if not base:
        _err("error: no Kibana URL: pass --url or set kibana.url in the configuration")
        raise typer.Exit(2)
    files = sorted(folder.glob("*.ndjson"))
    if not files:
        _err(f"error: no *.ndjson saved objects in {folder}")
        raise typer.Exit(2)
    failed = 0
    for f in files:
        try:
            resp = httpx.post(f"{base.rstrip('/')}/api/saved_objects/_import",
                              params={"overwrite": str(overwrite).lower()}, headers={"kbn-xsrf": "cashwatch"},
                              files={"file": (f.name, f.read_bytes(), "application/ndjson")}, timeout=60)
        except httpx.HTTPError as exc:
            _err(f"error: {f.name}: cannot reach Kibana at {base}: {exc}")
            raise typer.Exit(1) from exc
        body = resp.json() if resp.headers.get("content-type", "").startswith("application/json") else {}
        if resp.status_code != 200 or not body.get("success", False):
            failed += 1
            _err(f"error: {f.name}: HTTP {resp.status_code}: {body.get('errors') or resp.text[:500]}")
        else:
            print(f"{f.name}: imported {body.get('successCount', 0)} object(s)")
    if failed:
        raise typer.Exit(1)
