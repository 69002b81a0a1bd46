"""``cashwatch feeds``: every configured feed's health and the coverage of police force areas.

Read from the store file the monitor writes (``store_path``), so it works while the monitor runs or
after it stopped; the states and the coverage rules are those of :mod:`cashwatch.health`, the same
that ``/healthz`` and ``/metrics`` report.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional

import typer

from cashwatch.cli import app
from cashwatch.cli.core import ConfigOpt, _err, default_config_path, load_config


def ago(t: float | None, now: float) -> str:
    """``3m ago``, ``2h ago``, ``5d ago``; ``in 4m`` for a time to come; ``never`` for None."""
    if t is None:
        return "never"
    d = now - t
    future, d = d < 0, abs(d)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if d >= size:
            text = f"{d / size:.0f}{unit}"
            break
    else:
        text = f"{d:.0f}s"
    return f"in {text}" if future else f"{text} ago"


def _states(store_path: str) -> dict:
    from cashwatch.producers.state import ProducerState

    if store_path == ":memory:" or not Path(store_path).exists():
        return {}
    state = ProducerState(store_path)
    try:
        return {st.feed_id: st for st in state.all_feed_states()}
    finally:
        state.close()


@app.command()
def feeds(
    config: Optional[str] = ConfigOpt,
    as_json: bool = typer.Option(False, "--json", help="One JSON document: feeds, coverage, summary."),
    problems: bool = typer.Option(False, "--problems", help="Only feeds that are not working, and areas not covered."),
) -> None:
    """Every feed's health, and which police force areas have no working feed or have gone silent.

    Per feed: status, last success, last error, when a failing feed is retried, items seen, last new
    item. The states are those of /healthz and /metrics."""
    from rich.console import Console
    from rich.table import Table

    from cashwatch import health

    settings = load_config(config or default_config_path())
    now = time.time()
    states = _states(settings.store_path)
    rows = health.feeds_health(settings, states, now)
    cover = health.coverage(rows)
    verdict = health.assess(rows, started_at=0.0, now=now, grace_s=0.0)
    if as_json:
        print(json.dumps({"store": settings.store_path, "summary": verdict.summary,
                          "feeds": [h.to_dict() for h in rows],
                          "coverage": [c.__dict__ | {"feeds": list(c.feeds), "working": list(c.working)}
                                       for c in cover]}, default=str))
        return
    if not settings.feeds:
        _err("warning: no feeds in the configuration (add feeds: or feeds_file:, see deploy/feeds.yaml)")
        return
    if not states:
        _err(f"note: no feed has been polled yet (no producer state in {settings.store_path}): run the monitor")
    shown = [h for h in rows if not problems or h.status != "ok" or h.silent]
    table = Table(show_lines=False, title=f"feeds ({health.reachability_line(rows)})")
    for col in ("feed", "area", "status", "last success", "last error", "retry", "items", "last new item"):
        table.add_column(col, overflow="fold")
    for h in shown:
        status = h.status + (" (silent)" if h.silent else "")
        error = f"{h.last_error_code}: {(h.last_error or '')[:60]}" if h.last_error_code else ""
        table.add_row(h.id, h.place_hint or f"({h.kind})", status, ago(h.last_ok, now), error,
                      ago(h.backoff_until, now) if h.backoff_until else "", str(h.items_seen), ago(h.last_new_at, now))
    Console(width=180).print(table)

    national = [h for h in rows if not h.place_hint and h.status != "disabled"]
    print(f"\ncoverage of the {len(cover)} police force areas "
          f"(plus {sum(h.status == 'ok' for h in national)} of {len(national)} national/search feeds working, "
          f"which cover every area a little):")
    labels = {"ok": "covered", "silent": "silent for longer than usual", "no_working_feed": "no working feed",
              "not_polled": "not polled yet", "no_feed": "no feed"}
    for status in ("no_working_feed", "silent", "not_polled", "no_feed", "ok"):
        areas = [c for c in cover if c.status == status]
        if not areas or (problems and status == "ok"):
            continue
        names = ", ".join(c.force + (f" [{', '.join(c.feeds)}]" if status == "no_working_feed" else "") for c in areas)
        print(f"  {labels[status]} ({len(areas)}): {names}")
