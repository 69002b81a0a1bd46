"""Reading the store: ``search``, ``incidents`` (list, export, show) and ``forces``.

Filters take the ids ``cashwatch forces`` lists (force and region ids) and the four incident types; an
unknown id is refused (exit 2) with the valid ones, so a typo never reads as "no incidents". Output
formats: ``table`` (default), ``jsonl`` (one incident per line, as stored), ``csv`` and ``geojson``
(the alert payload's incident fields, flat; GeoJSON points for QGIS or any map tool).
"""
from __future__ import annotations

import csv
import json
import sys
from datetime import date
from typing import Optional

import typer

from cashwatch.cli import app
from cashwatch.cli.core import ConfigOpt, _err, default_config_path, load_config
from cashwatch.jsonl import EXIT_USAGE

FORMATS = ("table", "jsonl", "csv", "geojson")
# Columns of the CSV export and properties of the GeoJSON one (the alert's incident fields + reports).
EXPORT_FIELDS = ("id", "date", "month_day", "type", "type_label", "attempted", "town", "force", "force_name", "region",
                 "country", "nation", "lat", "lon", "stage", "confidence", "mo", "report_count",
                 "first_report_title", "first_report_url", "first_report_source", "first_seen", "last_seen")


def _since(value: str | None) -> date | None:
    """``30d``, ``12w``, ``6m`` or an ISO date → the first day included."""
    import re
    from datetime import timedelta

    if not value:
        return None
    m = re.fullmatch(r"(\d+)([dwmy])", value.strip())
    if m:
        n, unit = int(m.group(1)), m.group(2)
        days = n * {"d": 1, "w": 7, "m": 30, "y": 365}[unit]
        return date.today() - timedelta(days=days)
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r}: use 30d, 12w, 6m, 1y or YYYY-MM-DD") from exc


def check_filters(forces, regions, types) -> None:
    """Exit 2 naming the unknown ids and listing the valid ones (the words of ``subscriptions add``)."""
    from cashwatch.config import unknown_ids_message
    from cashwatch.models import INCIDENT_TYPES
    from cashwatch.places_table import FORCES, REGIONS

    problems = []
    for option, given, known, what in (("--force", forces, FORCES, "police force id"),
                                       ("--region", regions, REGIONS, "region id"),
                                       ("--type", types, INCIDENT_TYPES, "incident type")):
        bad = [v for v in given or () if v not in known]
        if bad:
            problems.append(f"{option}: {unknown_ids_message(what, bad, known)}")
    if problems:
        for p in problems:
            _err(f"error: {p}")
        _err("(`cashwatch forces` lists the force and region ids)")
        raise typer.Exit(EXIT_USAGE)


def _open_store(config: str | None):
    from pathlib import Path

    from cashwatch.sinks.sqlite import Store

    settings = load_config(config or default_config_path())
    if not Path(settings.store_path).exists():
        _err(f"error: no store at {settings.store_path} (run the monitor first, or set store_path)")
        raise typer.Exit(EXIT_USAGE)
    return Store(settings.store_path)


def _incident_json(inc) -> dict:
    """An incident as the commands print it: without the reports' text signatures (linker data)."""
    return json.loads(inc.model_dump_json(exclude={"reports": {"__all__": {"text_signature"}}}))


def export_row(inc) -> dict:
    """The flat record of one incident for CSV and GeoJSON: the alert payload's incident fields
    (``alerting.incident_fields``), its report count and its first report."""
    from cashwatch.alerting import incident_fields

    row = incident_fields(inc)
    first = inc.reports[0] if inc.reports else None
    row.update(report_count=len(inc.reports), first_report_title=first.title if first else None,
               first_report_url=first.url if first else None, first_report_source=first.source if first else None)
    return {k: row.get(k) for k in EXPORT_FIELDS}


def geojson(incidents) -> dict:
    """A GeoJSON FeatureCollection (RFC 7946): one Point feature per incident, ``[lon, lat]`` in WGS84;
    an incident without coordinates has a null geometry (kept, so nothing is silently left out)."""
    features = []
    for inc in incidents:
        props = export_row(inc)
        geometry = ({"type": "Point", "coordinates": [inc.lon, inc.lat]}
                    if inc.lat is not None and inc.lon is not None else None)
        features.append({"type": "Feature", "id": inc.incident_id, "geometry": geometry, "properties": props})
    return {"type": "FeatureCollection", "features": features}


def print_incidents(incidents, fmt: str, out=None) -> None:
    """Write ``incidents`` to ``out`` (stdout) in one of :data:`FORMATS`."""
    out = out or sys.stdout
    if fmt == "jsonl":
        for inc in incidents:
            out.write(json.dumps(_incident_json(inc), ensure_ascii=False) + "\n")
        return
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS, lineterminator="\n")
        writer.writeheader()
        for inc in incidents:
            row = export_row(inc)
            row["mo"] = ";".join(row["mo"] or [])
            writer.writerow(row)
        return
    if fmt == "geojson":
        doc = geojson(incidents)
        out.write(json.dumps(doc, ensure_ascii=False) + "\n")
        unplaced = sum(1 for f in doc["features"] if f["geometry"] is None)
        if unplaced:
            _err(f"note: {unplaced} incident(s) have no coordinates (null geometry)")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False)
    for col in ("incident", "date", "type", "town", "force", "region", "stage", "reports", "first report"):
        table.add_column(col, overflow="fold")
    for inc in incidents:
        first = inc.reports[0].title if inc.reports else ""
        table.add_row(inc.incident_id, str(inc.date or ""), inc.type + (" (attempt)" if inc.attempted else ""),
                      inc.town or "", inc.force or "", inc.region or "", inc.stage, str(len(inc.reports)), first[:60])
    Console(width=160, file=out).print(table)
    if not incidents:
        _err("no incidents match")


def _format(fmt: str, as_json: bool) -> str:
    if as_json:
        return "jsonl"
    if fmt not in FORMATS:
        _err(f"error: --format: {fmt!r} is not one of {', '.join(FORMATS)}")
        raise typer.Exit(EXIT_USAGE)
    return fmt


TypeOpt = typer.Option(None, "--type", "-t", help="Incident type: atm_theft, atm_explosive, atm_break_in, cit_robbery (repeatable).")
ForceOpt = typer.Option(None, "--force", "-f", help="Police force id, see `cashwatch forces` (repeatable).")
RegionOpt = typer.Option(None, "--region", "-r", help="Region id, see `cashwatch forces` (repeatable).")
SinceOpt = typer.Option(None, "--since", help="30d, 12w, 6m, 1y or YYYY-MM-DD.")
LimitOpt = typer.Option(50, help="At most this many incidents.")
JsonOpt = typer.Option(False, "--json", help="Same as --format jsonl.")
FormatOpt = typer.Option("table", "--format", help="table, jsonl, csv or geojson.")


@app.command()
def search(
    words: list[str] = typer.Argument(..., help="Words to find in towns and reports (all must match)."),
    force: Optional[list[str]] = ForceOpt, type: Optional[list[str]] = TypeOpt,
    region: Optional[list[str]] = RegionOpt, since: Optional[str] = SinceOpt,
    limit: int = LimitOpt, as_json: bool = JsonOpt, fmt: str = FormatOpt,
    config: Optional[str] = ConfigOpt,
) -> None:
    """Full-text search of incidents, e.g. `cashwatch search blown up --force leicestershire --since 30d`."""
    fmt = _format(fmt, as_json)
    check_filters(force, region, type)
    first_day = _since(since)
    store = _open_store(config)
    try:
        found = store.search(" ".join(words), forces=force, types=type, regions=region, since=first_day, limit=limit)
    finally:
        store.close()
    print_incidents(found, fmt)


incidents_app = typer.Typer(help="List or export incidents, or show one with its reports.", invoke_without_command=True)
app.add_typer(incidents_app, name="incidents")


@incidents_app.callback()
def incidents_list(
    ctx: typer.Context,
    force: Optional[list[str]] = ForceOpt, type: Optional[list[str]] = TypeOpt,
    region: Optional[list[str]] = RegionOpt, since: Optional[str] = SinceOpt,
    limit: int = LimitOpt, as_json: bool = JsonOpt, fmt: str = FormatOpt,
    config: Optional[str] = ConfigOpt,
) -> None:
    """List incidents, newest first, as a table or exported (--format jsonl, csv or geojson).

    GeoJSON points are for QGIS or any map tool, e.g.
    `cashwatch incidents --since 1y --limit 10000 --format geojson > incidents.geojson`."""
    ctx.obj = {"config": config, "as_json": as_json}
    if ctx.invoked_subcommand:
        return
    fmt = _format(fmt, as_json)
    check_filters(force, region, type)
    first_day = _since(since)
    store = _open_store(config)
    try:
        found = store.list_incidents(forces=force, types=type, regions=region, since=first_day, limit=limit)
    finally:
        store.close()
    print_incidents(found, fmt)


@incidents_app.command("show")
def incidents_show(
    ctx: typer.Context,
    incident_id: str = typer.Argument(..., help="Incident id."),
    as_json: bool = typer.Option(False, "--json", help="The incident as JSON."),
    config: Optional[str] = ConfigOpt,
) -> None:
    """Show one incident with its reports in time order."""
    from cashwatch.alerting import incident_fields

    store = _open_store(config or (ctx.obj or {}).get("config"))
    try:
        inc = store.get_incident(incident_id)
        if inc is None:
            _err(f"error: no incident {incident_id!r}")
            raise typer.Exit(1)
        reports = store.reports_of(incident_id)
    finally:
        store.close()
    if as_json or (ctx.obj or {}).get("as_json"):
        print(json.dumps({**_incident_json(inc), "stored_reports": reports}, ensure_ascii=False))
        return
    f = incident_fields(inc)
    print(f"{inc.incident_id}  {inc.type}{' (attempt)' if inc.attempted else ''}  stage: {inc.stage}")
    print(f"  where: {inc.town or '?'}, {f['force_name'] or inc.force or '?'} ({f['region'] or '?'}, {f['country'] or '?'})"
          + (f"  [{inc.lat:.4f}, {inc.lon:.4f}]" if inc.lat is not None and inc.lon is not None else ""))
    print(f"  when:  {inc.date or 'unknown'}   first seen {inc.first_seen:%Y-%m-%d %H:%M}, last seen {inc.last_seen:%Y-%m-%d %H:%M}")
    if inc.mo:
        print(f"  how:   {', '.join(inc.mo)}")
    print(f"  reports ({len(reports)}):")
    for r in reports:
        print(f"    {r['published'] or r['stored_at'][:10]}  {r['kind']:<8} {r['source']:<28} {r['title'][:70]}")
        print(f"        {r['url']}")


@app.command()
def forces(
    region: Optional[list[str]] = RegionOpt,
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """Police force ids, names, regions and nations (the ids filters and subscriptions take)."""
    from cashwatch.places_table import FORCES

    check_filters(None, region, None)
    rows = [f for f in sorted(FORCES.values(), key=lambda f: (f.region, f.id)) if not region or f.region in region]
    if as_json:
        for f in rows:
            print(json.dumps({"force": f.id, "name": f.name, "region": f.region, "nation": f.nation,
                              "country": f.country}))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False)
    for col in ("force", "name", "region", "nation"):
        table.add_column(col)
    for f in rows:
        table.add_row(f.id, f.name, f.region, f.nation)
    Console(width=160).print(table)
    print(f"{len(rows)} forces in {len({f.region for f in rows})} regions")
