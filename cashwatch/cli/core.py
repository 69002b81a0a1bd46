"""Core commands: analyse, extract, run, replay, demo, search, incidents."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from datetime import date
from typing import Optional

import typer

from cashwatch.cli import app
from cashwatch.cli.progress import progress_bar, stderr_is_terminal
from cashwatch.jsonl import (EXIT_REJECTED, EXIT_USAGE, BatchFileError, open_in, open_out, read_records,
                             write_record)
from cashwatch.models import Article, article_id_for

ConfigOpt = typer.Option(None, "--config", "-c", envvar="CASHWATCH_CONFIG", help="YAML configuration file.")


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _parse_date(value) -> date | None:
    """A corpus record's ``published`` (``YYYY-MM-DD`` or an ISO date-time), None when absent.

    Raises ``ValueError`` for anything else: "yesterday" must not become an undated article silently."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"'published' must be an ISO date (YYYY-MM-DD) or null, got {type(value).__name__}")
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise ValueError(f"'published' must be an ISO date (YYYY-MM-DD) or null, got {value!r}") from None


def article_from_record(rec: dict) -> Article:
    """An :class:`Article` from a corpus record ``{id, url, source, published, title, text}``.

    Raises ``ValueError`` naming the field when the record cannot be an article: ``text`` missing or
    not a string, ``published`` not an ISO date, neither ``id`` nor ``url``, a field of the wrong type."""
    if "text" not in rec or rec["text"] is None:
        raise ValueError("no 'text' (the article's body, a string)")
    if not isinstance(rec["text"], str):
        raise ValueError("'text' must be a string")
    for key in ("url", "source", "title", "place_hint"):
        if rec.get(key) is not None and not isinstance(rec[key], str):
            raise ValueError(f"'{key}' must be a string")
    if rec.get("id") is not None and not isinstance(rec["id"], (str, int)):
        raise ValueError("'id' must be a string")
    url = rec.get("url") or ""
    if not rec.get("id") and not url:
        raise ValueError("neither 'id' nor 'url': an article needs one of them")
    aid = rec.get("id") or article_id_for(url)
    return Article(article_id=str(aid), url=url, source=rec.get("source") or "",
                   published=_parse_date(rec.get("published")), title=rec.get("title") or "",
                   text=rec["text"], place_hint=rec.get("place_hint"))


@contextmanager
def batch_files(input: str | None, output: str | None):
    """Open a batch command's input and output, or exit 2 with one line naming the file and why."""
    try:
        with open_in(input) as fin, open_out(output) as fout:
            yield fin, fout
    except BatchFileError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(EXIT_USAGE) from exc


def finish_batch(rejected: int, verb: str) -> None:
    """Say how many input lines were rejected and exit 1 when there were any (see README, exit codes)."""
    if rejected:
        _err(f"{rejected} input line(s) could not be {verb} (see above)")
        raise typer.Exit(EXIT_REJECTED)


@app.command()
def analyse(
    input: Optional[str] = typer.Argument(None, help="JSONL articles (default: stdin)."),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="JSONL results (default: stdout)."),
) -> None:
    """Analyse JSONL articles {id,url,source,published,title,text}: kind, incidents, place, date, links.

    A line that is not a valid article (not UTF-8 or JSON, no text, a published value that is not a
    date) is reported on stderr with its number and skipped. Results are written when the input ends,
    with final incident ids (an incident a later report merged into another shows the survivor's id).
    Exit status: 0 every line analysed, 1 some lines rejected, 2 a file cannot be read or written.
    """
    from cashwatch.processors.pipeline import AnalysisPipeline, analysis_to_result, final_ids

    pipeline = AnalysisPipeline()
    failures = 0
    results: list[dict] = []
    with batch_files(input, output) as (fin, fout), progress_bar(fin, "analyse") as tick:
        for n, rec, error in read_records(fin, fin.name):
            tick()
            if error:
                _err(error)
                failures += 1
                continue
            try:
                article = article_from_record(rec)
            except (ValueError, TypeError) as exc:
                _err(f"{fin.name}:{n}: not a valid article: {exc}")
                failures += 1
                continue
            analysis, _events = pipeline.process(article)
            results.append(analysis_to_result(article.article_id, analysis))
        # written once the input ends, each incident under the id it is known by then: a later report
        # may have shown two incidents to be one (merged), and every report of it shows the survivor
        for res in results:
            write_record(fout, final_ids(res, pipeline.linker.resolve))
    finish_batch(failures, "analysed")


@app.command()
def extract(
    input: Optional[str] = typer.Argument(None, help="JSONL pages {id,url,html} (default: stdin)."),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="JSONL results (default: stdout)."),
) -> None:
    """Extract title, body, published date and language from JSONL HTML pages (the pipeline's own stage).

    One result {id,title,body,published,language} per valid page; a bad line is reported on stderr
    with its line number and skipped, and a count of them closes the run. Exit status: 0 every page
    extracted, 1 some lines rejected, 2 a file cannot be read or written.
    """
    from cashwatch.processors.extract import extract as do_extract

    failures = 0
    with batch_files(input, output) as (fin, fout), progress_bar(fin, "extract") as tick:
        where = fin.name
        for n, rec, error in read_records(fin, where):
            tick()
            if error:
                _err(error)
                failures += 1
                continue
            html = rec.get("html")
            if not isinstance(html, str):
                _err(f"{where}:{n}: 'html' must be a string")
                failures += 1
                continue
            url = rec.get("url") if isinstance(rec.get("url"), str) else None
            try:
                ex = do_extract(html, url)
            except Exception as exc:  # one page must not stop the others; the reason is reported
                _err(f"{where}:{n}: extraction failed for id={rec.get('id')!r}: {type(exc).__name__}: {exc}")
                failures += 1
                continue
            write_record(fout, {"id": rec.get("id"), "title": ex.title, "body": ex.body,
                                "published": ex.published.isoformat() if ex.published else None,
                                "language": ex.language})
    finish_batch(failures, "extracted")


# -- the monitor ---------------------------------------------------------------------------------

def load_config(config: str | None):
    """Load settings or exit 2 with the configuration error (file, field, what is wrong)."""
    from cashwatch.config import load_settings
    from cashwatch.errors import ConfigError

    try:
        return load_settings(config)
    except ConfigError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(2) from exc


def default_config_path() -> str | None:
    """``./cashwatch.yaml`` if present, else the shipped ``deploy/cashwatch.yaml`` of a source checkout."""
    from pathlib import Path

    for cand in (Path("cashwatch.yaml"), Path(__file__).resolve().parents[2] / "deploy" / "cashwatch.yaml"):
        if cand.is_file():
            return str(cand)
    return None


def page_notice(server, settings) -> None:
    """Tell the user where the web page is (or why it is not served)."""
    if server.page_url:
        extra = "  (add ?token=... once: bound beyond loopback)" if server.web.needs_token else ""
        print(f"web page: {server.page_url}{extra}", flush=True)
    elif settings.web.enabled:
        _err(f"warning: the web page is not served: {settings.ops.metrics_host} is beyond loopback and web.token "
             "is not set (CASHWATCH_WEB__TOKEN)")


async def run_monitor(settings, stop, *, on_stored=None, ops: bool = True):
    """Run the embedded monitor (and the ops port) until ``stop`` is set."""
    from cashwatch.ops import OpsServer
    from cashwatch.runtime.embedded import EmbeddedMonitor

    monitor = EmbeddedMonitor(settings, on_stored=on_stored)
    server = None
    if ops and settings.ops.metrics_port:
        web = None
        if settings.web.enabled:
            from cashwatch.web.app import WebPages

            web = WebPages(settings, health=monitor.health)
        server = OpsServer(settings.ops.metrics_host, settings.ops.metrics_port, health=monitor.healthz, web=web)
        url = await server.start()
        _err(f"ops: {url}/healthz  {url}/metrics")
        page_notice(server, settings)
    try:
        await monitor.run(stop)
    finally:
        if server:
            await server.stop()
    return monitor


@app.command()
def run(config: Optional[str] = ConfigOpt) -> None:
    """Run the monitor (embedded runtime) until interrupted (Ctrl-C or SIGTERM stop it cleanly)."""
    import asyncio
    import signal

    from cashwatch.logs import configure

    settings = load_config(config or default_config_path())
    configure(settings.ops.log_format, settings.ops.log_level)
    if settings.runtime != "embedded":
        _err("error: runtime is 'distributed': start the stages with `cashwatch process` and docker-compose")
        raise typer.Exit(2)
    if not any(f.enabled for f in settings.feeds):
        _err("warning: no enabled feeds in the configuration: the monitor will watch nothing "
             "(add feeds: or feeds_file:, see deploy/feeds.yaml)")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_monitor(settings, stop)

    asyncio.run(main())


# -- replay --------------------------------------------------------------------------------------

def publication_groups(records: list[dict]) -> list[list[str]]:
    """Corpus ids grouped by published day, oldest first, undated last: the order a live monitor
    sees them (and the order ``score.py`` feeds ``cashwatch analyse``)."""
    groups: dict[str, list[str]] = {}
    for rec in records:
        groups.setdefault(str(rec.get("published") or "")[:10], []).append(str(rec["id"]))
    return [groups[k] for k in sorted(groups, key=lambda d: (d == "", d))]


def replay_corpus(records: list[dict], *, timeout_s: float = 600.0, progress: bool = False,
                  in_order: bool = False) -> dict[str, dict]:
    """Serve ``records`` through the newsroom simulator and run the whole embedded pipeline over real
    HTTP on loopback until every article is stored. Returns ``{corpus id: analyse-format result}``.

    ``in_order``: the articles appear in their feeds day by day in publication order (undated last),
    each day only once the previous one is stored, as a live monitor would have met them; otherwise
    all at once, in whatever order the concurrent fetches finish."""
    import asyncio
    import tempfile
    from pathlib import Path
    from urllib.parse import unquote, urlsplit

    from cashwatch.config import Settings
    from cashwatch.newsroom.server import Newsroom
    from cashwatch.processors.pipeline import analysis_to_result, final_ids

    results: dict[str, dict] = {}

    def corpus_id(url: str) -> str:
        return unquote(urlsplit(url).path.rsplit("/", 1)[-1]).removesuffix(".html")

    async def main() -> None:
        newsroom = Newsroom(records)
        groups = publication_groups(records) if in_order else [[str(r["id"]) for r in records]]
        if in_order:
            newsroom.hold(i for g in groups[1:] for i in g)
        await newsroom.start()
        with tempfile.TemporaryDirectory(prefix="cashwatch-replay-") as tmp:
            settings = Settings.model_validate({
                "store_path": str(Path(tmp) / "replay.db"),
                "feeds": [{"id": f"sim-{i}", "url": url, "poll_interval_s": 1 if in_order else 3600}
                          for i, url in enumerate(newsroom.feed_urls().values())],
                "http": {"allow_hosts": ["127.0.0.1", "localhost"], "respect_robots_txt": True,
                         "per_host_concurrency": 8, "jitter_fraction": 0.0},
                "ops": {"metrics_port": 0},
            })
            stop = asyncio.Event()
            bar = None
            if progress:
                from rich.console import Console
                from rich.progress import Progress
                bar = Progress(console=Console(file=sys.stderr), transient=True)
                bar.start()
                task = bar.add_task("replay", total=len(records))

            def on_stored(article, analysis, events) -> None:
                results[corpus_id(article.url)] = analysis_to_result(corpus_id(article.url), analysis)
                if bar:
                    bar.update(task, completed=len(results))
                if len(results) >= len(records):
                    stop.set()

            async def watchdog() -> None:
                loop = asyncio.get_running_loop()
                deadline = loop.time() + timeout_s
                shown = len(groups[0])
                for nxt in groups[1:]:  # publish the next day once everything shown so far is stored
                    while len(results) < shown:
                        if loop.time() > deadline:
                            stop.set()
                            return
                        await asyncio.sleep(0.05)
                    newsroom.publish(nxt)
                    shown += len(nxt)
                await asyncio.sleep(max(0.0, deadline - loop.time()))
                stop.set()

            dog = asyncio.create_task(watchdog())
            try:
                await run_monitor(settings, stop, on_stored=on_stored, ops=False)
            finally:
                dog.cancel()
                if bar:
                    bar.stop()
                await newsroom.stop()
            from cashwatch.sinks.sqlite import Store
            store = Store(settings.store_path)
            try:  # each incident under the id it is known by at the end (merged ones: the survivor's)
                for cid, res in list(results.items()):
                    results[cid] = final_ids(res, store.resolve)
            finally:
                store.close()

    asyncio.run(main())
    return results


@app.command()
def replay(
    corpus: Optional[str] = typer.Argument(None, help="JSONL corpus {id,url,source,published,title,text} (default: stdin)."),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="JSONL results (default: stdout)."),
    timeout_s: float = typer.Option(900.0, help="Give up waiting for the pipeline after this long."),
    in_order: bool = typer.Option(True, "--in-order/--all-at-once",
                                  help="Publish articles day by day in publication order, as a live monitor meets them."),
) -> None:
    """Run a corpus through the whole pipeline over real HTTP; print `analyse`-format results.

    The corpus is served by the newsroom simulator on loopback, and the embedded pipeline polls,
    fetches, extracts, analyses, links and stores it; one result per article."""
    from cashwatch.logs import configure

    configure("console", "warning")
    records = []
    rejected = 0
    with batch_files(corpus, output) as (fin, fout):
        for n, rec, error in read_records(fin, fin.name):
            if not error:
                try:
                    article_from_record(rec)
                    if not rec.get("id"):
                        raise ValueError("no 'id'")
                except (ValueError, TypeError) as exc:
                    error = f"{fin.name}:{n}: not a valid article: {exc}"
            if error:
                _err(error)
                rejected += 1
                continue
            records.append(rec)
        results = replay_corpus(records, timeout_s=timeout_s, progress=stderr_is_terminal(), in_order=in_order)
        missing = 0
        for rec in records:
            res = results.get(str(rec["id"]))
            if res is None:
                missing += 1
                continue
            write_record(fout, res)
    if missing:
        _err(f"{missing} article(s) did not come through the pipeline within {timeout_s:.0f} s")
    finish_batch(rejected, "replayed")
    if missing:
        raise typer.Exit(EXIT_REJECTED)


# -- demo ----------------------------------------------------------------------------------------

@app.command()
def demo(
    corpus: Optional[str] = typer.Option(None, help="JSONL corpus to serve (default: the project's demo corpus)."),
    timeout_s: float = typer.Option(120.0, help="Give up after this long."),
    keep_page: Optional[bool] = typer.Option(None, "--keep-page/--no-keep-page",
                                             help="Keep the web page up after the run until Ctrl-C "
                                                  "(default: when run from a terminal)."),
) -> None:
    """Simulated newsroom → monitor → the incidents found and the webhooks a local receiver got.

    Serves a small simulated newsroom on loopback and runs the monitor against it. The store is a
    temporary file, deleted at the end: the demo leaves nothing behind and never touches your
    cashwatch.db. The monitor's web page (incidents, map, evidence) is served while it runs, and from a
    terminal stays up afterwards until Ctrl-C."""
    import asyncio
    import json as _json
    import signal
    import socket
    import tempfile
    from importlib import resources
    from pathlib import Path

    from cashwatch.config import Settings
    from cashwatch.logs import configure
    from cashwatch.newsroom.receiver import WebhookReceiver
    from cashwatch.newsroom.server import Newsroom, load_corpus
    from cashwatch.sinks.sqlite import Store

    configure("console", "warning")
    if corpus:
        records = load_corpus(corpus)
    else:
        text = resources.files("cashwatch").joinpath("newsroom/corpus/demo.jsonl").read_text(encoding="utf-8")
        records = [_json.loads(line) for line in text.splitlines() if line.strip()]
    secret = "demo-secret"
    keep = sys.stdin.isatty() and sys.stdout.isatty() if keep_page is None else keep_page

    def page_port() -> int:
        """The usual port (9464) when it is free, else any free one."""
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", 9464))
                return 9464
            except OSError:
                return 0

    async def serve_page(settings, incidents, received) -> None:
        from cashwatch.ops import OpsServer
        from cashwatch.web.app import WebPages

        summarise(incidents, received)
        server = OpsServer("127.0.0.1", page_port(), web=WebPages(settings, bound_host="127.0.0.1"))
        await server.start()
        print(f"\nweb page: {server.page_url}  (incidents, map, evidence; Ctrl-C stops it and deletes the "
              "demo's store)", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await server.stop()

    shown = {"done": False}

    def summarise(incidents, received) -> None:
        if shown["done"]:
            return
        shown["done"] = True
        from cashwatch.cli.incidents import print_incidents

        print()
        print_incidents(incidents, "table")
        print(f"\nwebhooks received: {len(received)}")
        for r in received:
            body = r.json()
            inc = body.get("incident", body)
            print(f"  [{r.signature} signature] {r.event} {inc.get('type')} in {inc.get('town')} ({inc.get('force')}, "
                  f"{inc.get('region')})  key={r.key}")

    async def main() -> tuple[list, list]:
        async with Newsroom(records) as newsroom, WebhookReceiver(secret=secret) as receiver:
            print(f"newsroom: {len(records)} articles in {len(newsroom.feed_urls())} feeds at "
                  f"{next(iter(newsroom.feed_urls().values())).rsplit('/feeds/', 1)[0]}")
            print(f"webhook receiver: {receiver.url}")
            with tempfile.TemporaryDirectory(prefix="cashwatch-demo-") as tmp:
                settings = Settings.model_validate({
                    "store_path": str(Path(tmp) / "demo.db"),
                    "feeds": [{"id": f"demo-{i}", "url": u, "poll_interval_s": 30}
                              for i, u in enumerate(newsroom.feed_urls().values())],
                    "subscriptions": [{"name": "everywhere", "url": receiver.url, "secret": secret}],
                    "http": {"allow_hosts": ["127.0.0.1"], "jitter_fraction": 0.0},
                    "ops": {"metrics_port": page_port()},
                })
                stop = asyncio.Event()
                done = {"n": 0}

                def on_stored(article, analysis, events) -> None:
                    done["n"] += 1
                    print(f"  analysed {article.title[:70]!r}: {analysis.kind}"
                          + "".join(f", {m.type} in {m.town or '?'} ({m.force or '?'})" for m in analysis.incidents))

                async def until_done() -> None:
                    loop = asyncio.get_running_loop()
                    deadline = loop.time() + timeout_s
                    while done["n"] < len(records) and loop.time() < deadline:
                        await asyncio.sleep(0.2)
                    store = Store(settings.store_path)
                    expected = store.count("incidents")
                    store.close()
                    while len(receiver.processed) < expected and loop.time() < deadline:
                        await asyncio.sleep(0.2)
                    stop.set()

                waiter = asyncio.create_task(until_done())
                await run_monitor(settings, stop, on_stored=on_stored, ops=True)
                await waiter
                store = Store(settings.store_path)
                incidents = store.all_incidents()
                store.close()
                if keep:
                    await serve_page(settings, incidents, list(receiver.processed))
                return incidents, list(receiver.processed)

    incidents, received = asyncio.run(main())
    summarise(incidents, received)
