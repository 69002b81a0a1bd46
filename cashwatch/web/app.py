"""The web page: server-rendered (aiohttp + Jinja2), a little JavaScript, every asset in the package.

::

    GET  /                          incidents: filters (region, force, type, attempted, stage, window),
                                    full-text search (the store's FTS), counts per type and region
    GET  /incidents/{id}            one incident: fields, reports, evidence, link reasons, history
    POST /incidents/{id}/merge|split|dismiss|edit      an analyst's corrections (cashwatch.corrections)
    GET  /map                       incidents on the shipped UK outline (tiles when web.tile_url is set)
    GET  /feeds                     feeds' health and the force areas' coverage (as `cashwatch feeds`)
    GET  /alerts                    subscriptions (no secrets) and the delivery log
    POST /alerts/retry              dead letters back in the queue
    GET  /api/incidents.geojson     the map's points (the filters of /)
    GET  /static/...                CSS, JS, the outline

Lifecycle: :class:`WebPages` is built with the settings and the store path (and, inside the monitor,
its health function), :meth:`WebPages.add_routes` adds the pages to the ops server's application, and
:meth:`WebPages.close` closes its store handles.

Safety: on a loopback address the pages need nothing. Bound anywhere else, every page and change needs
``web.token`` (``Authorization: Bearer``, or once as ``?token=`` which sets an HttpOnly cookie), compared
in constant time; without a token configured the pages are not served at all. Every change (POST) also
needs the CSRF token of the page it came from (a SameSite=Strict cookie repeated in the form) and a
same-origin ``Origin`` when the browser sends one. Jinja2 autoescapes everything (article text is
untrusted input), a Content-Security-Policy forbids inline scripts, and no secret is put in a page.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import ipaddress
import json
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from aiohttp import web

from cashwatch import metrics
from cashwatch.config import Settings
from cashwatch.logs import get_logger

log = get_logger("cashwatch.web")

HERE = Path(__file__).parent
TOKEN_COOKIE = "cashwatch_token"
CSRF_COOKIE = "cashwatch_csrf"
ANALYST_COOKIE = "cashwatch_analyst"
WINDOWS = {"7d": 7, "30d": 30, "90d": 90, "1y": 365, "all": None}
TYPE_COLOURS = {"atm_theft": "#1f77b4", "atm_explosive": "#d62728", "atm_break_in": "#ff7f0e",
                "cit_robbery": "#2ca02c"}


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the port on this machine (127.0.0.0/8, ::1, localhost)."""
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _env():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE / "templates")),
                             autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters["ago"] = _ago
    env.filters["day_month"] = day_month
    env.filters["ts"] = lambda t: dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%d %H:%M") if t else ""
    env.globals["TYPE_COLOURS"] = TYPE_COLOURS
    return env


def day_month(month_day: str | None) -> str:
    """``"--08-16"`` (a day and month an undated report gave without a year) as "16 August, year not
    given"; "" for None."""
    if not month_day:
        return ""
    day = dt.date(2000, int(month_day[2:4]), int(month_day[5:7]))
    return f"{day.day} {day.strftime('%B')}, year not given"


def _ago(t: float | None) -> str:
    from cashwatch.cli.feeds import ago

    return ago(t, time.time()) if t else "never"


class Filters:
    """The incidents page's filters, parsed and validated from the query string (unknown ids ignored,
    with a note, rather than silently matching nothing)."""

    def __init__(self, query) -> None:
        from cashwatch.models import INCIDENT_TYPES, STAGES
        from cashwatch.places_table import FORCES, REGIONS

        self.notes: list[str] = []

        def pick(name: str, known) -> list[str]:
            vals = [v for v in query.getall(name, []) if v]
            bad = [v for v in vals if v not in known]
            if bad:
                self.notes.append(f"ignored unknown {name} {', '.join(bad)}")
            return [v for v in vals if v in known]

        self.region = pick("region", REGIONS)
        self.force = pick("force", FORCES)
        self.type = pick("type", INCIDENT_TYPES)
        self.stage = pick("stage", STAGES)
        a = query.get("attempted", "")
        self.attempted = {"yes": True, "no": False}.get(a)
        self.window = query.get("window", "all")
        if self.window not in WINDOWS:
            self.notes.append(f"ignored unknown window {self.window}")
            self.window = "all"
        days = WINDOWS[self.window]
        self.since = dt.date.today() - dt.timedelta(days=days) if days else None
        self.q = (query.get("q") or "").strip()[:200]

    def store_filters(self) -> dict:
        return {"forces": self.force, "types": self.type, "regions": self.region, "stages": self.stage,
                "attempted": self.attempted, "since": self.since}

    def query_string(self) -> str:
        pairs = [(k, v) for k in ("region", "force", "type", "stage") for v in getattr(self, k)]
        if self.attempted is not None:
            pairs.append(("attempted", "yes" if self.attempted else "no"))
        if self.window != "all":
            pairs.append(("window", self.window))
        if self.q:
            pairs.append(("q", self.q))
        return urlencode(pairs)


class WebPages:
    """The pages (see the module docstring). ``health``: the monitor's feed health and verdict, when the
    pages run inside it; else the feeds' states are read from the store."""

    def __init__(self, settings: Settings, *, health: Callable | None = None, bound_host: str | None = None,
                 correction_timeout_s: float = 20.0) -> None:
        from cashwatch.sinks.sqlite import Store
        from cashwatch.sinks.webhook import DeliveryLog

        self.settings = settings
        self.cfg = settings.web
        self.health = health
        self.host = bound_host or settings.ops.metrics_host
        token = self.cfg.token.get_secret_value() if self.cfg.token else ""
        self.token = token.encode("utf-8")
        self.needs_token = not is_loopback(self.host)
        self.store = Store(settings.store_path)
        self.deliveries = DeliveryLog(settings.store_path)
        self.env = _env()
        self.correction_timeout_s = correction_timeout_s

    @property
    def servable(self) -> bool:
        """False when bound beyond loopback without a token: the pages are then not served."""
        return self.cfg.enabled and (not self.needs_token or bool(self.token))

    def close(self) -> None:
        self.store.close()
        self.deliveries.close()

    # ------------------------------------------------------------ plumbing

    def add_routes(self, app: web.Application) -> None:
        if not self.cfg.enabled:
            return
        if not self.servable:
            log.warning("web_disabled_no_token", host=self.host,
                        note="the page is bound beyond loopback and web.token is not set "
                             "(CASHWATCH_WEB__TOKEN): the page is not served")
            return
        app.middlewares.append(self._guard)
        r = app.router
        r.add_get("/", self.incidents_page)
        r.add_get("/incidents/{id}", self.incident_page)
        for action in ("merge", "split", "dismiss", "edit"):
            r.add_post(f"/incidents/{{id}}/{action}", self._correct(action))
        r.add_get("/map", self.map_page)
        r.add_get("/feeds", self.feeds_page)
        r.add_get("/alerts", self.alerts_page)
        r.add_post("/alerts/retry", self.alerts_retry)
        r.add_get("/api/incidents.geojson", self.incidents_geojson)
        r.add_static("/static/", str(HERE / "static"), append_version=False)

    def _token_ok(self, request: web.Request) -> bool:
        if not self.needs_token:
            return True
        given = ""
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            given = auth[7:].strip()
        given = given or request.query.get("token", "") or request.cookies.get(TOKEN_COOKIE, "")
        return hmac.compare_digest(given.encode("utf-8"), self.token)

    @web.middleware
    async def _guard(self, request: web.Request, handler):
        path = request.path
        if path in ("/healthz", "/metrics"):
            return await handler(request)
        page = path.split("/")[1] or "incidents"
        page = page if page in ("incidents", "map", "feeds", "alerts", "api", "static") else "other"
        if not self._token_ok(request):
            metrics.WEB_REQUESTS.labels(page, "401").inc()
            return web.Response(status=401, text="401: this page needs the web token (web.token): open it once as "
                                "/?token=... or send Authorization: Bearer ...\n", content_type="text/plain")
        if request.method == "POST" and not await self._csrf_ok(request):
            metrics.WEB_REQUESTS.labels(page, "403").inc()
            return web.Response(status=403, text="403: the form is stale or came from another site (CSRF check "
                                "failed): reload the page and try again\n", content_type="text/plain")
        try:
            resp = await handler(request)
        except web.HTTPException as exc:
            metrics.WEB_REQUESTS.labels(page, f"{exc.status // 100}xx").inc()
            raise
        if self.needs_token and "token" in request.query and request.method == "GET":
            # the token came in the URL: keep it in a cookie and drop it from the address bar
            q = {k: v for k, v in request.query.items() if k != "token"}
            redirect = web.HTTPSeeOther(path + ("?" + urlencode(q) if q else ""))
            redirect.set_cookie(TOKEN_COOKIE, request.query["token"], httponly=True, samesite="Strict", path="/")
            raise redirect
        metrics.WEB_REQUESTS.labels(page, f"{resp.status // 100}xx").inc()
        if resp.content_type == "text/html":
            tiles = urlsplit(self.cfg.tile_url) if self.cfg.tile_url else None
            img = "'self' data:" + (f" {tiles.scheme}://{tiles.netloc}" if tiles else "")
            resp.headers["Content-Security-Policy"] = (
                f"default-src 'self'; script-src 'self'; style-src 'self'; img-src {img}; "
                "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
            resp.headers["X-Content-Type-Options"] = "nosniff"
            resp.headers["Referrer-Policy"] = "same-origin"
        return resp

    async def _csrf_ok(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if origin and origin != "null" and urlsplit(origin).netloc != request.host:
            return False
        form = await request.post()
        cookie = request.cookies.get(CSRF_COOKIE, "")
        given = str(form.get("csrf", ""))
        return bool(cookie) and hmac.compare_digest(cookie.encode(), given.encode())

    def _render(self, request: web.Request, template: str, http_status: int = 200, **ctx) -> web.Response:
        csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        verdict = None
        if self.health is not None:
            try:
                verdict = self.health()[1]
            except Exception:  # the banner is a nicety: never fail a page on it
                verdict = None
        html = self.env.get_template(template).render(
            csrf=csrf, request_path=request.path, verdict=verdict, msg=request.query.get("msg", "")[:300],
            err=request.query.get("err", "")[:300], **ctx)
        resp = web.Response(text=html, status=http_status, content_type="text/html", charset="utf-8")
        if request.cookies.get(CSRF_COOKIE) != csrf:
            resp.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="Strict", path="/")
        return resp

    # ------------------------------------------------------------ incidents

    def _find(self, f: Filters, limit: int):
        ids = None
        if f.q:
            ids = self.store.search_ids(f.q)
            if ids is not None and not ids:
                return [], {"total": {"": 0}, "type": {}, "region": {}}
        found = self.store.list_incidents(**f.store_filters(), ids=ids, limit=limit)
        counts = self.store.incident_counts(**f.store_filters(), ids=ids)
        return found, counts

    async def incidents_page(self, request: web.Request) -> web.Response:
        from cashwatch.alerting import incident_fields
        from cashwatch.models import INCIDENT_TYPES, STAGES
        from cashwatch.places_table import FORCES, REGIONS

        f = Filters(request.query)
        found, counts = self._find(f, self.cfg.page_size)
        rows = [{**incident_fields(i), "reports": len(i.reports),
                 "headline": i.reports[0].title if i.reports else ""} for i in found]
        return self._render(request, "incidents.html", title="Incidents", rows=rows, counts=counts, f=f,
                            qs=f.query_string(), types=INCIDENT_TYPES, stages=STAGES,
                            forces=sorted(FORCES.values(), key=lambda x: x.name), regions=sorted(REGIONS),
                            windows=list(WINDOWS), page_size=self.cfg.page_size)

    async def incidents_geojson(self, request: web.Request) -> web.Response:
        from cashwatch.cli.incidents import geojson

        f = Filters(request.query)
        found, _ = self._find(f, 5000)
        return web.json_response(geojson(found), dumps=lambda d: json.dumps(d, ensure_ascii=False))

    async def incident_page(self, request: web.Request) -> web.Response:
        from cashwatch.alerting import incident_fields
        from cashwatch.models import INCIDENT_TYPES
        from cashwatch.places_table import FORCES
        from cashwatch.web.evidence import link_reasons, report_evidence

        iid = request.match_info["id"]
        now_id = self.store.resolve(iid)
        if now_id != iid:
            raise web.HTTPSeeOther(f"/incidents/{now_id}?" + urlencode({"msg": f"{iid} was merged into {now_id}"}))
        inc = self.store.get_incident(iid)
        if inc is None:
            return self._render(request, "error.html", http_status=404, title="No such incident",
                                message=f"No incident {iid}.")
        stored = {r["article_id"]: r for r in self.store.reports_of(iid)}
        reasons = link_reasons(inc)
        reports = []
        for r in sorted(inc.reports, key=lambda r: (r.published is None, r.published or dt.date.min)):
            reports.append({"r": r, "stored": stored.get(r.article_id, {}),
                            "ev": report_evidence(r, self.store.get_analysis(r.article_id)),
                            "link": reasons.get((r.article_id, r.mention), {})})
        ids = [iid, *inc.merged_ids]
        history = [{"at": e["at"], "what": e["event"], "detail": e["article_id"], "incident": e["incident_id"]}
                   for e in self.store.events_of(ids)]
        for st, c in self.store.corrections(incident_ids=ids):
            if c.incident_id in ids or c.other_id in ids:
                history.append({"at": c.at.isoformat(), "what": f"corrected: {c.action}",
                                "detail": _describe(c) + f" — by {c.by} ({st['status']}"
                                + (f": {st['result']}" if st["status"] == "rejected" else "") + ")",
                                "incident": c.incident_id})
        for i in ids:
            for d in self.deliveries.list(incident_id=i, limit=200):
                history.append({"at": dt.datetime.fromtimestamp(d.created_at, dt.timezone.utc).isoformat(),
                                "what": f"alert {d.event}", "detail": f"to {d.subscription}: {d.status}"
                                + (f" ({d.last_error})" if d.last_error else ""), "incident": i})
        history.sort(key=lambda h: h["at"])
        return self._render(request, "incident.html", title=f"Incident {iid}", inc=inc, f=incident_fields(inc),
                            reports=reports, history=history, types=INCIDENT_TYPES,
                            forces=sorted(FORCES.values(), key=lambda x: x.name),
                            analyst=request.cookies.get(ANALYST_COOKIE, ""))

    def _correct(self, action: str):
        async def handler(request: web.Request) -> web.Response:
            from cashwatch import corrections
            from cashwatch.errors import CashwatchError

            iid = request.match_info["id"]
            form = await request.post()
            by = str(form.get("by", "")).strip()
            fields = None
            if action == "edit":
                fields = {k: str(form.get(k, "")) for k in corrections.EDITABLE}
                if fields["attempted"] in ("", "any"):
                    fields["attempted"] = ""
            try:
                mention = int(form["mention"]) if form.get("mention") not in (None, "") else None
                c = corrections.make(action, iid, by=by, other_id=str(form.get("other", "")),
                                     article_id=str(form.get("article_id", "")), mention=mention, fields=fields,
                                     note=str(form.get("note", "")))
                loop = asyncio.get_running_loop()
                status = await loop.run_in_executor(None, lambda: corrections.submit(
                    self.settings, self.store, c, timeout_s=self.correction_timeout_s))
            except (CashwatchError, ValueError) as exc:
                raise _back(iid, err=str(exc)) from None
            log.info("correction_submitted", correction_id=c.correction_id, action=action, incident_id=iid,
                     status=status.get("status"))
            if status.get("status") == "rejected":
                raise _back(iid, err=f"{action} refused: {status.get('result')}")
            if status.get("status") != "applied":
                raise _back(iid, msg=f"{action} queued ({c.correction_id}); the monitor has not applied it yet")
            target = self.store.resolve(iid)
            if action == "split":
                new = [e["incident_id"] for e in json.loads(status.get("result") or "[]") if e["event"] == "created"]
                msg = f"report moved to a new incident {new[0]}" if new else "split"
            elif action == "merge":
                msg = f"merged: {', '.join(sorted({iid, c.other_id or ''} - {target}))} now point to {target}"
            elif action == "dismiss":
                msg = "dismissed: hidden from the lists, subscribers told (retracted)"
            else:
                msg = "corrected: " + ", ".join(c.fields.given())
            resp = _back(target, msg=msg)
            resp.set_cookie(ANALYST_COOKIE, c.by, httponly=True, samesite="Strict", path="/")
            raise resp
        return handler

    # ------------------------------------------------------------ map, feeds, alerts

    async def map_page(self, request: web.Request) -> web.Response:
        from cashwatch.models import INCIDENT_TYPES

        f = Filters(request.query)
        return self._render(request, "map.html", title="Map", f=f, qs=f.query_string(), types=INCIDENT_TYPES,
                            tile_url=self.cfg.tile_url or "", tile_attribution=self.cfg.tile_attribution)

    def _feeds_health(self):
        from cashwatch import health
        from cashwatch.cli.feeds import _states

        if self.health is not None:
            feeds, verdict = self.health()
        else:
            now = time.time()
            feeds = health.feeds_health(self.settings, _states(self.settings.store_path), now)
            verdict = health.assess(feeds, started_at=0.0, now=now, grace_s=0.0)
        return feeds, verdict, health.coverage(feeds)

    async def feeds_page(self, request: web.Request) -> web.Response:
        from cashwatch import health

        feeds, verdict, cover = self._feeds_health()
        groups = {s: [c for c in cover if c.status == s] for s in health.COVERAGE_STATES}
        return self._render(request, "feeds.html", title="Feeds", feeds=feeds, summary=verdict.summary,
                            status=verdict.status, reasons=verdict.reasons, groups=groups,
                            line=health.reachability_line(feeds))

    async def alerts_page(self, request: web.Request) -> web.Response:
        from cashwatch.cli.alerts import _describe as describe_sub
        from cashwatch.sinks.webhook import redact_url

        subs = [{"name": s.name, "url": redact_url(s.url), "format": s.format, "signed": s.secret is not None,
                 "filters": describe_sub(s), "events": ", ".join(s.events)} for s in self.settings.subscriptions]
        status = request.query.get("status") or None
        if status not in (None, "pending", "delivered", "dead"):
            status = None
        rows = self.deliveries.list(status=status, limit=300)
        return self._render(request, "alerts.html", title="Alerts", subs=subs, rows=rows,
                            counts=self.deliveries.counts(), status=status or "")

    async def alerts_retry(self, request: web.Request) -> web.Response:
        form = await request.post()
        raw = str(form.get("id", "")).strip()
        if raw == "all":
            n = self.deliveries.retry_dead(all_dead=True)
        else:
            try:
                n = self.deliveries.retry_dead(ids=[int(raw)])
            except ValueError:
                raise web.HTTPSeeOther("/alerts?" + urlencode({"err": f"no delivery {raw!r}"})) from None
        raise web.HTTPSeeOther("/alerts?" + urlencode({"msg": f"{n} dead letter(s) queued again"}))


def _back(iid: str, **q) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"/incidents/{iid}?" + urlencode(q))


def _describe(c) -> str:
    if c.action == "merge":
        return f"merge {c.incident_id} with {c.other_id}"
    if c.action == "split":
        return f"split report {c.article_id} from {c.incident_id}"
    if c.action == "dismiss":
        return f"dismiss {c.incident_id}" + (f": {c.note}" if c.note else "")
    return "edit " + ", ".join(f"{k}={v}" for k, v in c.fields.given().items() if k not in ("lat", "lon"))
