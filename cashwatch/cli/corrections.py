"""An analyst's corrections and the web page: ``incidents merge|split|dismiss|edit``, ``corrections
list|export`` and ``web``.

A correction is queued in the store and applied by the running monitor (or here when none runs; see
:mod:`cashwatch.corrections`); the command says what it did and exits 0, 1 when the correction was
refused (unknown incident, a report not of that incident, ...), 2 on a usage error. In the distributed
runtime (``runtime: distributed``) it is published on the ``corrections`` topic instead.
"""
from __future__ import annotations

import json
import sys
from typing import Optional

import typer

from cashwatch.cli import app
from cashwatch.cli.core import ConfigOpt, _err, default_config_path, load_config
from cashwatch.cli.incidents import _open_store, incidents_app
from cashwatch.jsonl import EXIT_USAGE

ByOpt = typer.Option(None, "--by", help="Who makes the correction (default: $CASHWATCH_ANALYST or your login name).")
NoteOpt = typer.Option("", "--note", help="Why, in a few words (kept with the correction).")


def _submit(ctx: typer.Context, config: str | None, action: str, incident_id: str, *, by: str | None,
            **kwargs) -> None:
    from cashwatch import corrections
    from cashwatch.errors import CorrectionError

    config = config or (ctx.obj or {}).get("config")
    settings = load_config(config or default_config_path())
    try:
        c = corrections.make(action, incident_id, by=by or corrections.default_analyst(), **kwargs)
    except CorrectionError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(EXIT_USAGE) from exc
    if settings.runtime == "distributed":
        from cashwatch.runtime.distributed import publish_correction

        try:
            publish_correction(settings, c)
        except CorrectionError as exc:
            _err(f"error: {action} refused: {exc}")
            raise typer.Exit(1) from exc
        except Exception as exc:  # the broker or Elasticsearch: one line, not a traceback
            _err(f"error: cannot publish the correction (Kafka {settings.kafka.bootstrap_servers}, "
                 f"Elasticsearch {settings.elasticsearch.url}): {exc}")
            raise typer.Exit(1) from exc
        print(f"{c.correction_id}: {action} {incident_id} published on the corrections topic; the worker that owns "
              "the incident's force applies it")
        return
    store = _open_store(config)
    try:
        status = corrections.submit(settings, store, c)
    finally:
        store.close()
    if status.get("status") == "rejected":
        _err(f"error: {action} refused: {status.get('result')}")
        raise typer.Exit(1)
    if status.get("status") != "applied":
        print(f"{c.correction_id}: queued; the running monitor has not applied it yet")
        return
    for e in json.loads(status.get("result") or "[]"):
        what = f"{e['event']} {e['incident_id']}"
        if e.get("absorbed"):
            what += f" (absorbed {e['absorbed']})"
        print(f"{c.correction_id}: {what}  [{', '.join(e['changes'])}]")


@incidents_app.command("merge")
def merge(ctx: typer.Context, incident_id: str = typer.Argument(..., help="An incident."),
          other_id: str = typer.Argument(..., help="Another incident that is the same attack."),
          by: Optional[str] = ByOpt, note: str = NoteOpt, config: Optional[str] = ConfigOpt) -> None:
    """Merge two incidents that are one attack (the one seen first survives; the other id points to it)."""
    _submit(ctx, config, "merge", incident_id, by=by, other_id=other_id, note=note)


@incidents_app.command("split")
def split(ctx: typer.Context, incident_id: str = typer.Argument(..., help="The incident."),
          article_id: str = typer.Argument(..., help="The report (article id) that is another attack."),
          mention: Optional[int] = typer.Option(None, help="Which mention of the article (when it reports several)."),
          by: Optional[str] = ByOpt, note: str = NoteOpt, config: Optional[str] = ConfigOpt) -> None:
    """Move a report to a new incident of its own (never merged back)."""
    _submit(ctx, config, "split", incident_id, by=by, article_id=article_id, mention=mention, note=note)


@incidents_app.command("dismiss")
def dismiss(ctx: typer.Context, incident_id: str = typer.Argument(..., help="The incident."),
            by: Optional[str] = ByOpt, note: str = NoteOpt, config: Optional[str] = ConfigOpt) -> None:
    """Dismiss an incident that is not an ATM or CIT attack (subscribers get `retracted`)."""
    _submit(ctx, config, "dismiss", incident_id, by=by, note=note)


@incidents_app.command("edit")
def edit(ctx: typer.Context, incident_id: str = typer.Argument(..., help="The incident."),
         type: Optional[str] = typer.Option(None, "--type", help="atm_theft, atm_explosive, atm_break_in or cit_robbery."),
         attempted: Optional[bool] = typer.Option(None, "--attempted/--carried-out", help="An attempt, or carried out."),
         town: Optional[str] = typer.Option(None, "--town", help="The town (its place and force from the gazetteer)."),
         force: Optional[str] = typer.Option(None, "--force", help="Police force id (`cashwatch forces`)."),
         date: Optional[str] = typer.Option(None, "--date", help="The attack's date, YYYY-MM-DD."),
         by: Optional[str] = ByOpt, note: str = NoteOpt, config: Optional[str] = ConfigOpt) -> None:
    """Correct an incident's type, attempted flag, town/force or date (wins over what the reports say)."""
    _submit(ctx, config, "edit", incident_id, by=by, note=note,
            fields={"type": type, "attempted": attempted, "town": town, "force": force, "date": date})


corrections_app = typer.Typer(help="An analyst's corrections: list them, export them as labelled data.",
                              no_args_is_help=True)
app.add_typer(corrections_app, name="corrections")


@corrections_app.command("list")
def corrections_list(config: Optional[str] = ConfigOpt,
                     as_json: bool = typer.Option(False, "--json", help="One JSON object per line.")) -> None:
    """Every correction: when, who, what, and whether it was applied."""
    store = _open_store(config)
    try:
        rows = store.corrections()
    finally:
        store.close()
    for st, c in rows:
        if as_json:
            print(json.dumps({**json.loads(c.model_dump_json()), "status": st["status"], "result": st["result"]}))
            continue
        what = {"merge": f"{c.incident_id} + {c.other_id}", "split": f"{c.article_id} out of {c.incident_id}",
                "dismiss": c.incident_id, "edit": f"{c.incident_id} " + json.dumps(c.fields.model_dump(mode="json", exclude_none=True))}[c.action]
        print(f"{c.at:%Y-%m-%d %H:%M}  {c.by:<14} {c.action:<8} {what}  [{st['status']}]"
              + (f" {st['result']}" if st["status"] == "rejected" else ""))
    if not rows:
        _err("no corrections")


@corrections_app.command("export")
def corrections_export(
    output: Optional[str] = typer.Option(None, "-o", "--output", help="JSONL file (default: stdout)."),
    all_articles: bool = typer.Option(False, "--all", help="Every stored article, not only those the corrections touched."),
    config: Optional[str] = ConfigOpt,
) -> None:
    """The corrected articles in the labelled-corpus format of shared/eval/README.md (dev.jsonl), to add
    to the analyser's training data and retrain (`make train`)."""
    from cashwatch.corrections_export import export_records

    store = _open_store(config)
    try:
        records = export_records(store, all_articles=all_articles)
    finally:
        store.close()
    out = open(output, "w", encoding="utf-8") if output else sys.stdout
    try:
        for rec in records:
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    finally:
        if output:
            out.close()
    _err(f"{len(records)} labelled article(s) exported")


@app.command()
def web(
    config: Optional[str] = ConfigOpt,
    host: Optional[str] = typer.Option(None, help="Address to bind (default: ops.metrics_host, 127.0.0.1)."),
    port: Optional[int] = typer.Option(None, help="Port (default: ops.metrics_port, 9464; 0 picks a free one)."),
) -> None:
    """Serve the web page on an existing store, without polling feeds (Ctrl-C stops it)."""
    import asyncio
    import signal
    from pathlib import Path

    from cashwatch.cli.core import page_notice
    from cashwatch.logs import configure
    from cashwatch.ops import OpsServer
    from cashwatch.web.app import WebPages

    settings = load_config(config or default_config_path())
    configure(settings.ops.log_format, settings.ops.log_level)
    if not Path(settings.store_path).exists():
        _err(f"error: no store at {settings.store_path} (run the monitor first, or set store_path)")
        raise typer.Exit(EXIT_USAGE)
    host = host or settings.ops.metrics_host
    port = settings.ops.metrics_port if port is None else port
    settings = settings.model_copy(update={"web": settings.web.model_copy(update={"enabled": True})})

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        server = OpsServer(host, port, status=lambda: {"mode": "web", "store": settings.store_path},
                           web=WebPages(settings, bound_host=host))
        await server.start()
        if not server.page_url:
            page_notice(server, settings)
            await server.stop()
            raise typer.Exit(EXIT_USAGE)
        page_notice(server, settings)
        try:
            await stop.wait()
        finally:
            await server.stop()

    asyncio.run(main())
