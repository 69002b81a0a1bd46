"""``cashwatch subscriptions list|add|remove|test`` and ``cashwatch alerts log|retry``.

The subscription commands edit the configuration file given by ``--config`` / ``CASHWATCH_CONFIG``
(default ``./cashwatch.yaml``, created when absent). An edit is validated as a whole configuration
before the file is replaced (atomically), so a bad edit leaves the file as it was. The file is
rewritten by PyYAML: keys keep their order, comments are not kept.

Secrets and webhook URL paths (which carry credentials for Slack and Teams) are never printed.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import secrets as _secrets
import sys
import tempfile
from pathlib import Path
from typing import Any, Optional

import typer
import yaml

from cashwatch.cli import app

subscriptions_app = typer.Typer(help="List, add, remove and test webhook subscriptions.", no_args_is_help=True)
alerts_app = typer.Typer(help="The webhook delivery log: list, retry dead letters.", no_args_is_help=True)
app.add_typer(subscriptions_app, name="subscriptions")
app.add_typer(alerts_app, name="alerts")

ConfigOpt = typer.Option(None, "--config", "-c", envvar="CASHWATCH_CONFIG", help="YAML configuration file.")


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _fail(msg: str, code: int = 2) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code)


def _settings(config: str | None):
    from cashwatch.cli.core import default_config_path, load_config

    return load_config(config or default_config_path())


def _edit_path(config: str | None) -> Path:
    return Path(config) if config else Path("cashwatch.yaml")


def _read_raw(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        _fail(f"{path}: cannot read the configuration: {exc}")
    if data is None:
        return {}
    if not isinstance(data, dict):
        _fail(f"{path}: the top level must be a mapping, got {type(data).__name__}")
    return data


def _write_validated(path: Path, data: dict[str, Any]):
    """Validate ``data`` as a whole configuration, then atomically replace ``path``. Returns the Settings."""
    from cashwatch.config import load_settings
    from cashwatch.errors import ConfigError

    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    folder = path.resolve().parent
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        try:
            settings = load_settings(tmp, env={})
        except ConfigError as exc:
            _fail(str(exc).replace(tmp, str(path)))
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o600)  # it may hold webhook secrets
        os.replace(tmp, path)
        return settings
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _redact(url: str) -> str:
    from cashwatch.sinks.webhook import redact_url

    return redact_url(url)


def _describe(sub) -> str:
    parts = []
    for label, val in (("regions", sub.regions), ("forces", sub.forces), ("types", sub.types),
                       ("countries", sub.countries), ("nations", sub.nations)):
        if val:
            parts.append(f"{label}={','.join(val)}")
    if sub.circle:
        parts.append(f"circle={sub.circle.lat},{sub.circle.lon},{sub.circle.km}km")
    if sub.attempted is not None:
        parts.append(f"attempted={str(sub.attempted).lower()}")
    if sub.min_confidence:
        parts.append(f"min_confidence={sub.min_confidence}")
    return " ".join(parts) or "(every incident)"


# ------------------------------------------------------------------------------ subscriptions

@subscriptions_app.command("list")
def list_subscriptions(config: Optional[str] = ConfigOpt,
                       as_json: bool = typer.Option(False, "--json", help="One JSON object per line.")) -> None:
    """Show the configured subscriptions (secrets and URL paths hidden)."""
    settings = _settings(config)
    if not settings.subscriptions:
        typer.echo("no subscriptions")
        return
    for s in settings.subscriptions:
        if as_json:
            doc = s.model_dump(mode="json", exclude={"secret"})
            doc["url"] = _redact(s.url)
            doc["signed"] = s.secret is not None
            typer.echo(json.dumps(doc))
        else:
            typer.echo(f"{s.name}  {s.format}  {_redact(s.url)}  events={','.join(s.events)}  "
                       f"{'signed' if s.secret else 'UNSIGNED'}  {_describe(s)}")


def _parse_circle(value: str | None) -> dict | None:
    if value is None:
        return None
    try:
        lat, lon, km = (float(x) for x in value.split(","))
    except ValueError:
        _fail(f"--circle: expected LAT,LON,KM (e.g. 53.48,-2.24,30), got {value!r}")
    return {"lat": lat, "lon": lon, "km": km}


@subscriptions_app.command("add")
def add_subscription(
    name: str = typer.Argument(..., help="Unique name (letters, digits, . _ -)."),
    url: str = typer.Argument(..., help="Target URL (http/https; private addresses need http.allow_hosts)."),
    fmt: str = typer.Option("json", "--format", help="json, slack or teams."),
    secret: Optional[str] = typer.Option(None, "--secret", help="HMAC secret (visible in the process list: "
                                         "prefer --secret-env or --generate-secret)."),
    secret_env: Optional[str] = typer.Option(None, "--secret-env", help="Read the secret from this environment variable."),
    generate_secret: bool = typer.Option(False, "--generate-secret", help="Make a random secret and print it once."),
    region: list[str] = typer.Option([], "--region", help="Region id (repeatable)."),
    force: list[str] = typer.Option([], "--force", help="Police force id (repeatable)."),
    type_: list[str] = typer.Option([], "--type", help="Incident type (repeatable)."),
    country: list[str] = typer.Option([], "--country", help="ISO 3166-1 alpha-2 country code, e.g. GB (repeatable)."),
    nation: list[str] = typer.Option([], "--nation", help="england, wales, scotland, northern-ireland (repeatable)."),
    circle: Optional[str] = typer.Option(None, "--circle", help="LAT,LON,KM: incidents within KM of a point."),
    attempted: Optional[bool] = typer.Option(None, "--attempted/--not-attempted", help="Only attempts / only completed."),
    min_confidence: Optional[float] = typer.Option(None, "--min-confidence"),
    event: list[str] = typer.Option([], "--event", help="created (default), updated, arrest, charged, convicted, sentenced."),
    max_age_s: Optional[float] = typer.Option(None, "--max-age-s", help="Give up retrying after this many seconds."),
    config: Optional[str] = ConfigOpt,
) -> None:
    """Add a webhook subscription to the configuration file."""
    from cashwatch.config import HttpConfig, SubscriptionConfig
    from cashwatch.errors import BlockedURLError
    from cashwatch.sinks.webhook import check_url
    from pydantic import ValidationError

    path = _edit_path(config)
    data = _read_raw(path)
    subs = data.get("subscriptions") or []
    if not isinstance(subs, list):
        _fail(f"{path}: 'subscriptions' must be a list")
    if any(isinstance(s, dict) and s.get("name") == name for s in subs):
        _fail(f"{path}: a subscription named {name!r} already exists (remove it first)")
    if secret_env:
        secret = os.environ.get(secret_env)
        if not secret:
            _fail(f"--secret-env: the environment variable {secret_env} is not set or empty")
    if generate_secret:
        secret = _secrets.token_urlsafe(32)
    entry: dict[str, Any] = {"name": name, "url": url, "format": fmt}
    if secret:
        entry["secret"] = secret
    for key, val in (("regions", region), ("forces", force), ("types", type_), ("countries", country),
                     ("nations", nation), ("events", event)):
        if val:
            entry[key] = list(val)
    if circle is not None:
        entry["circle"] = _parse_circle(circle)
    for key, val in (("attempted", attempted), ("min_confidence", min_confidence), ("max_age_s", max_age_s)):
        if val is not None:
            entry[key] = val
    try:
        SubscriptionConfig.model_validate(entry)
    except ValidationError as exc:
        from cashwatch.config import _message

        lines = [f"  {'.'.join(str(p) for p in e['loc'])}: {_message(e)}" for e in exc.errors()]
        _fail(f"subscription {name!r} is not valid:\n" + "\n".join(lines))
    try:
        http = HttpConfig.model_validate(data.get("http") or {})
    except ValidationError as exc:
        _fail(f"{path}: http: {exc}")
    try:
        check_url(url, http)
    except BlockedURLError as exc:
        if exc.error_code == "dns":  # may resolve where the monitor runs; the sender checks again anyway
            _err(f"warning: {exc}")
        else:
            _fail(str(exc))
    data["subscriptions"] = [*subs, entry]
    _write_validated(path, data)
    typer.echo(f"added {name} to {path}")
    if generate_secret:
        typer.echo(f"secret (shown once, give it to the receiver): {secret}")
    if not secret:
        _err("warning: no --secret: alerts to this subscription are not signed")


@subscriptions_app.command("remove")
def remove_subscription(name: str = typer.Argument(...), config: Optional[str] = ConfigOpt) -> None:
    """Remove a subscription from the configuration file (its queued alerts are dead-lettered on the next send)."""
    path = _edit_path(config)
    data = _read_raw(path)
    subs = data.get("subscriptions") or []
    kept = [s for s in subs if not (isinstance(s, dict) and s.get("name") == name)]
    if len(kept) == len(subs):
        _fail(f"{path}: no subscription named {name!r}", 1)
    data["subscriptions"] = kept
    _write_validated(path, data)
    typer.echo(f"removed {name} from {path}")


def _sample_event(sub):
    """A made-up incident that the subscription's filters should accept, with its place filled in as the
    analyser fills in a real one (force → region, nation; country ``GB``)."""
    from cashwatch.models import Incident, IncidentEvent, Report
    from cashwatch.places_table import FORCES, UK

    force = sub.forces[0] if sub.forces else next(
        (f.id for f in FORCES.values() if (not sub.regions or f.region in sub.regions)
         and (not sub.nations or f.nation in sub.nations)), "lancashire")
    lat, lon = (sub.circle.lat, sub.circle.lon) if sub.circle else (None, None)
    now = dt.datetime.now(dt.timezone.utc)
    inc = Incident(incident_id="i-test-" + _secrets.token_hex(4), type=(sub.types or ["atm_theft"])[0],
                   attempted=bool(sub.attempted), town="Testtown", force=force, region=FORCES[force].region,
                   country=UK, lat=lat, lon=lon,
                   date=now.date(), confidence=max(sub.min_confidence, 0.9), first_seen=now, last_seen=now,
                   reports=[Report(article_id="a-test", url="https://cashwatch.invalid/test-report",
                                   source="cashwatch test", title="Test alert from cashwatch (not a real incident)",
                                   published=now.date())])
    return IncidentEvent(event="created", incident=inc, article_id="a-test")


@subscriptions_app.command("test")
def test_subscription(
    name: str = typer.Argument(...),
    event_file: Optional[str] = typer.Option(None, "--event-file", help="An IncidentEvent JSON file to match "
                                             "(default: a made-up incident the filters accept)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the match and the body; send nothing."),
    config: Optional[str] = ConfigOpt,
) -> None:
    """Show whether an incident matches a subscription and the body it would get, then send it once
    unless --dry-run: signed, with a fresh "test-..." idempotency key and the header X-Cashwatch-Test: 1."""
    from cashwatch import alerting
    from cashwatch.models import IncidentEvent

    settings = _settings(config)
    sub = next((s for s in settings.subscriptions if s.name == name), None)
    if sub is None:
        _fail(f"no subscription named {name!r}", 1)
    if event_file:
        try:
            ev = IncidentEvent.from_json(Path(event_file).read_bytes())
        except (OSError, ValueError) as exc:
            _fail(f"{event_file}: not a valid IncidentEvent: {exc}")
    else:
        ev = _sample_event(sub)
    failed = alerting.mismatches(sub, ev)
    if failed:
        typer.echo(f"no match: failing filter(s): {', '.join(failed)}")
        return
    alert = alerting.build_alert(sub, ev, settings.kibana.url, key="test-" + _secrets.token_hex(8))
    key, alert_event = alert.idempotency_key, alert.event
    body = alerting.render_body(alert.payload, sub.format)
    typer.echo(f"matches: {alert_event}")
    typer.echo(json.dumps(json.loads(body), indent=2, ensure_ascii=False))
    if dry_run:
        return
    from cashwatch.sinks.webhook import send_once

    status, error = asyncio.run(send_once(settings, sub, body, key, alert_event, test=True))
    if status is not None and 200 <= status < 300:
        typer.echo(f"sent to {_redact(sub.url)}: HTTP {status}")
    else:
        _fail(f"sending to {_redact(sub.url)} failed: {error or f'HTTP {status}'}", 1)


# ------------------------------------------------------------------------------ alerts

def _ts(t: float | None) -> str:
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if t else "-"


@alerts_app.command("log")
def alerts_log(
    subscription: Optional[str] = typer.Option(None, "--subscription", "-s"),
    status: Optional[str] = typer.Option(None, "--status", help="pending, delivered or dead."),
    incident: Optional[str] = typer.Option(None, "--incident"),
    limit: int = typer.Option(50, "--limit", "-n"),
    attempts: bool = typer.Option(False, "--attempts", help="Also list every attempt."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
    config: Optional[str] = ConfigOpt,
) -> None:
    """The delivery log, newest first: what was queued, delivered, retried and dead-lettered."""
    from cashwatch.sinks.webhook import DeliveryLog

    if status is not None and status not in ("pending", "delivered", "dead"):
        _fail("--status must be pending, delivered or dead")
    settings = _settings(config)
    dlog = DeliveryLog(settings.store_path)
    try:
        rows = dlog.list(subscription=subscription, status=status, incident_id=incident, limit=limit)
        for d in rows:
            tries = dlog.attempts(d.id) if attempts else []
            if as_json:
                doc = {k: v for k, v in d.__dict__.items() if k != "body"}
                if attempts:
                    doc["attempt_log"] = [dict(zip(("attempt", "started_at", "duration_s", "status", "outcome",
                                                    "error_code"), a)) for a in tries]
                typer.echo(json.dumps(doc))
                continue
            last = d.last_error or (str(d.last_status) if d.last_status else "")
            when = _ts(d.delivered_at) if d.status == "delivered" else f"next {_ts(d.next_attempt_at)}" \
                if d.status == "pending" else (d.dead_reason or "")
            typer.echo(f"#{d.id}  {_ts(d.created_at)}  {d.subscription}  {d.incident_id}  {d.event}  "
                       f"{d.status}  attempts={d.attempts}  {last}  {when}".rstrip())
            for a in tries:
                typer.echo(f"    attempt {a[0]}  {_ts(a[1])}  {a[4]}  status={a[3] or '-'}  "
                           f"{a[5] or ''}  {a[2] or 0:.3f}s".rstrip())
        if not rows and not as_json:
            typer.echo("no deliveries")
        elif not as_json:
            counts = dlog.counts()
            typer.echo("total: " + ", ".join(f"{k}={counts.get(k, 0)}" for k in ("pending", "delivered", "dead")))
    finally:
        dlog.close()


@alerts_app.command("retry")
def alerts_retry(
    ids: list[int] = typer.Argument(None, help="Delivery ids (see `cashwatch alerts log --status dead`)."),
    subscription: Optional[str] = typer.Option(None, "--subscription", "-s", help="Every dead letter of one subscription."),
    all_dead: bool = typer.Option(False, "--all", help="Every dead letter."),
    config: Optional[str] = ConfigOpt,
) -> None:
    """Put dead letters back in the queue; the running monitor sends them (same idempotency keys)."""
    from cashwatch.sinks.webhook import DeliveryLog

    if not ids and subscription is None and not all_dead:
        _fail("say which: delivery ids, --subscription NAME or --all")
    settings = _settings(config)
    dlog = DeliveryLog(settings.store_path)
    try:
        problems: list[str] = []
        dead_ids: list[int] = []
        for i in ids or ():
            d = dlog.get(i)
            if d is None:
                problems.append(f"no delivery {i} (see `cashwatch alerts log`)")
            elif d.status != "dead":
                problems.append(f"delivery {i} is {d.status}, not dead: nothing to retry")
            else:
                dead_ids.append(i)
        if ids:
            n = dlog.retry_dead(ids=dead_ids) if dead_ids else 0
        else:
            if subscription is not None and not dlog.list(subscription=subscription, limit=1):
                problems.append(f"no delivery for a subscription named {subscription!r}")
            n = dlog.retry_dead(subscription=subscription, all_dead=all_dead)
    finally:
        dlog.close()
    for p in problems:
        _err(f"error: {p}")
    if n or not problems:
        typer.echo(f"requeued {n} dead letter(s)")
    if problems:
        raise typer.Exit(1)
