"""Configuration: one YAML file, environment overrides, validated on load.

Layout of the file (every section optional, defaults shown in ``deploy/cashwatch.yaml``)::

    runtime: embedded | distributed
    store_path: cashwatch.db
    http:   {user_agent_contact, connect_timeout_s, read_timeout_s, max_page_bytes, ...}
    feeds:  [{id, url, kind, place_hint, poll_interval_s}, ...]      # or feeds_file: feeds.yaml
    subscriptions: [{name, url, secret, format, regions, forces, types, ...}, ...]
    kafka / elasticsearch / kibana: settings of the distributed runtime
    ops:    {metrics_host, metrics_port, log_format, log_level}
    web:    {enabled, token, tile_url}                                 # the page beside /healthz

Environment overrides use ``CASHWATCH_`` plus the dotted path with ``__`` between parts, e.g.
``CASHWATCH_STORE_PATH=/data/cw.db`` or ``CASHWATCH_OPS__METRICS_PORT=9200``; values are parsed as
YAML scalars. Any error names the file, the field and what is wrong (``ConfigError``), and nothing
starts half-configured.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from cashwatch.errors import ConfigError
from cashwatch.models import INCIDENT_TYPES, IncidentType
from cashwatch.places_table import FORCES, NATIONS, REGIONS

ENV_PREFIX = "CASHWATCH_"
# CASHWATCH_ variables that are not configuration fields: the file itself, the build switches and who
# makes a correction (cashwatch incidents merge|split|dismiss|edit --by).
ENV_NOT_FIELDS = frozenset({"CONFIG", "MYPYC", "ANALYST"})


def unknown_ids_message(what: str, bad: list[str], known) -> str:
    """``unknown police force id 'lancs' (did you mean 'lancashire'?); known: ...``: the same words for
    the configuration, the command line's filters and subscriptions."""
    import difflib

    known = sorted(known)
    parts = []
    for b in bad:
        close = difflib.get_close_matches(b, known, n=1, cutoff=0.6)
        parts.append(f"{b!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return f"unknown {what}{'s' if len(bad) > 1 else ''} {', '.join(parts)}; known: {', '.join(known)}"


def _http_url(v: str) -> str:
    if not v.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return v


HttpUrlStr = Annotated[str, AfterValidator(_http_url)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FeedConfig(Strict):
    """One RSS/Atom feed to poll."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    url: HttpUrlStr
    kind: Literal["police", "local_news", "national_news", "news_search", "other"] = "local_news"
    name: str | None = None
    place_hint: str | None = None  # police force id covering the feed's area
    poll_interval_s: float = Field(600.0, ge=1.0)
    enabled: bool = True

    @field_validator("place_hint")
    @classmethod
    def _force(cls, v: str | None) -> str | None:
        if v is not None and v not in FORCES:
            raise ValueError(unknown_ids_message("police force id", [v], FORCES))
        return v


class HttpConfig(Strict):
    """How producers talk to the web."""

    user_agent_contact: str = "https://github.com/cashwatch/cashwatch"
    connect_timeout_s: float = Field(10.0, gt=0)
    read_timeout_s: float = Field(20.0, gt=0)
    max_feed_bytes: int = Field(5_000_000, gt=0)
    max_page_bytes: int = Field(3_000_000, gt=0)
    max_redirects: int = Field(5, ge=0)
    per_host_concurrency: int = Field(2, ge=1)
    max_concurrency: int = Field(32, ge=1)
    jitter_fraction: float = Field(0.1, ge=0, le=1)
    backoff_initial_s: float = Field(60.0, gt=0)
    backoff_max_s: float = Field(3600.0, gt=0)
    respect_robots_txt: bool = True
    allow_hosts: list[str] = Field(default_factory=list)  # hosts or CIDRs allowed even if private
    allow_private: bool = False


class Circle(Strict):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    km: float = Field(gt=0)


class SubscriptionConfig(Strict):
    """Who gets a webhook for which incidents."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    url: HttpUrlStr
    secret: SecretStr | None = None
    format: Literal["json", "slack", "teams"] = "json"
    regions: list[str] = Field(default_factory=list)
    forces: list[str] = Field(default_factory=list)
    types: list[IncidentType] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=list)  # ISO 3166-1 alpha-2: GB, IE, ...
    nations: list[str] = Field(default_factory=list)  # england, wales, scotland, northern-ireland
    circle: Circle | None = None
    attempted: bool | None = None  # None: both
    min_confidence: float = Field(0.0, ge=0, le=1)
    events: list[Literal["created", "updated", "merged", "retracted", "arrest", "charged", "convicted",
                         "sentenced"]] = Field(
        default_factory=lambda: ["created"]
    )
    max_age_s: float = Field(86400.0, gt=0)  # give up retrying (dead-letter) after this long

    @field_validator("regions")
    @classmethod
    def _regions(cls, v: list[str]) -> list[str]:
        bad = [r for r in v if r not in REGIONS]
        if bad:
            raise ValueError(unknown_ids_message("region id", bad, REGIONS))
        return v

    @field_validator("forces")
    @classmethod
    def _forces(cls, v: list[str]) -> list[str]:
        bad = [f for f in v if f not in FORCES]
        if bad:
            raise ValueError(unknown_ids_message("police force id", bad, FORCES))
        return v

    @field_validator("countries")
    @classmethod
    def _countries(cls, v: list[str]) -> list[str]:
        nations = [c for c in v if c.strip().lower().replace(" ", "-") in NATIONS]
        if nations:
            raise ValueError(f"{', '.join(map(repr, nations))}: a nation of the UK, not a country: use "
                             f"nations: [{', '.join(nations)}] (countries are ISO 3166-1 alpha-2 codes, e.g. GB)")
        bad = [c for c in v if not (len(c.strip()) == 2 and c.strip().isalpha())]
        if bad:
            raise ValueError(f"{', '.join(map(repr, bad))}: not an ISO 3166-1 alpha-2 country code (e.g. GB, IE)")
        return [c.strip().upper() for c in v]

    @field_validator("nations")
    @classmethod
    def _nations(cls, v: list[str]) -> list[str]:
        bad = [n for n in v if n not in NATIONS]
        if bad:
            raise ValueError(unknown_ids_message("nation", bad, NATIONS))
        return v


class AlertsConfig(Strict):
    """How the webhook sink delivers alerts (sinks/webhook.py; docs/alerts.md).

    A failed attempt is retried after ``retry_initial_s * retry_multiplier ** (attempt - 1)`` seconds,
    capped at ``retry_max_s``, times a random factor in ``1 ± jitter_fraction``; a ``Retry-After``
    answer is honoured up to ``max_retry_after_s``. A delivery older than its subscription's
    ``max_age_s`` is dead-lettered instead of retried.
    """

    timeout_s: float = Field(10.0, gt=0)  # whole request, connect to last byte of the answer
    retry_initial_s: float = Field(2.0, gt=0)
    retry_max_s: float = Field(60.0, gt=0)
    retry_multiplier: float = Field(2.0, ge=1)
    jitter_fraction: float = Field(0.2, ge=0, le=1)
    max_retry_after_s: float = Field(3600.0, ge=0)
    poll_interval_s: float = Field(1.0, gt=0)  # how often the sender looks for work queued by other processes
    replay_window_s: float = Field(300.0, gt=0)  # receivers should reject signatures older than this


class KafkaConfig(Strict):
    bootstrap_servers: str = "localhost:9092"
    topic_prefix: str = "cashwatch."
    partitions: int = Field(6, ge=1)
    replication_factor: int = Field(1, ge=1)
    retention_ms: int = Field(7 * 24 * 3600 * 1000, gt=0)
    compression_type: Literal["gzip", "none", "lz4", "snappy", "zstd"] = "gzip"
    max_message_bytes: int = Field(1_000_000, gt=0)


class ElasticsearchConfig(Strict):
    url: str = "http://localhost:9200"
    index_prefix: str = "cashwatch-"
    username: str | None = None
    password: SecretStr | None = None


class KibanaConfig(Strict):
    url: str | None = None  # e.g. http://localhost:5601; used for links in alerts and `kibana import`


class OpsConfig(Strict):
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(9464, ge=0, le=65535)  # 0 disables the HTTP port
    log_format: Literal["console", "json"] = "console"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # /healthz says "starting" (200), not "degraded" (503), for this long after start-up while no feed
    # has been fetched yet and some have not been polled once (cashwatch/health.py).
    health_grace_s: float = Field(120.0, ge=0)


class WebConfig(Strict):
    """The web page served beside /healthz and /metrics (``ops.metrics_host``:``ops.metrics_port``).

    On a loopback address it needs nothing; bound anywhere else it needs ``token`` (set it with
    ``CASHWATCH_WEB__TOKEN``) on every page and change, and without one the pages are not served."""

    enabled: bool = True
    token: SecretStr | None = None
    # an XYZ tile server for users who are online, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png
    # (the map otherwise draws the shipped outline of the UK only)
    tile_url: str | None = None
    tile_attribution: str = ""
    page_size: int = Field(200, ge=1, le=5000)

    @field_validator("tile_url")
    @classmethod
    def _tiles(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        if not v.startswith(("https://", "http://")) or not all(p in v for p in ("{z}", "{x}", "{y}")):
            raise ValueError(f"{v!r}: an http(s) URL with {{z}}, {{x}} and {{y}}")
        return v


class Settings(Strict):
    """The whole configuration."""

    runtime: Literal["embedded", "distributed"] = "embedded"
    store_path: str = "cashwatch.db"
    feeds_file: str | None = None
    feeds: list[FeedConfig] = Field(default_factory=list)
    subscriptions: list[SubscriptionConfig] = Field(default_factory=list)
    http: HttpConfig = Field(default_factory=HttpConfig)
    kafka: KafkaConfig = Field(default_factory=KafkaConfig)
    elasticsearch: ElasticsearchConfig = Field(default_factory=ElasticsearchConfig)
    kibana: KibanaConfig = Field(default_factory=KibanaConfig)
    ops: OpsConfig = Field(default_factory=OpsConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    queue_size: int = Field(256, ge=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> "Settings":
        for what, ids in (("feeds", [f.id for f in self.feeds]), ("subscriptions", [s.name for s in self.subscriptions])):
            seen: set[str] = set()
            for i in ids:
                if i in seen:
                    raise ValueError(f"duplicate {what} id {i!r}")
                seen.add(i)
        return self


def _where(loc: tuple, data: Any) -> str:
    """A field path for people: list items by their id or name (``feeds[bbc-lancs].url``), not ``feeds.0``."""
    out: list[str] = []
    node = data
    for part in loc:
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            label = item.get("id") or item.get("name") if isinstance(item, dict) else None
            out[-1:] = [f"{out[-1] if out else ''}[{label if isinstance(label, str) and label else f'item {part + 1}'}]"]
            node = item
        else:
            out.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return ".".join(out) or "(top level)"


def _fields_at(loc: tuple) -> list[str]:
    """The field names the model at ``loc[:-1]`` of a :class:`Settings` has (for "did you mean")."""
    import typing

    model: Any = Settings
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        ann = field.annotation
        args = [a for a in (typing.get_args(ann) or (ann,)) if isinstance(a, type) and issubclass(a, BaseModel)]
        model = args[0] if args else None
    return list(getattr(model, "model_fields", {}))


def _message(err: dict) -> str:
    if err["type"] == "extra_forbidden":
        import difflib

        close = difflib.get_close_matches(str(err["loc"][-1]), _fields_at(tuple(err["loc"])), n=1)
        return "unknown field" + (f" (did you mean {close[0]!r}?)" if close else "")
    msg = err["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):  # pydantic's wording for a validator's ValueError
        msg = msg.removeprefix(prefix)
    return msg


def _format_errors(exc: ValidationError, source: str, data: Any = None, env_paths: dict | None = None) -> str:
    """One line per error: the field (list items by id), what is wrong, and where the value came from:
    the file, or the environment variable that set it (``env_paths``: field path -> variable)."""
    env_paths = env_paths or {}
    from_env, from_file = [], []
    for err in exc.errors():
        loc = tuple(err["loc"])
        key = tuple(str(p) for p in loc)
        var = next((v for path, v in env_paths.items() if key[:len(path)] == path), None)
        line = f"  {_where(loc, data)}: {_message(err)}"
        if var:
            from_env.append(f"{line} (set by the environment variable {var})")
        else:
            from_file.append(line)
    lines = []
    if from_file:
        lines += [f"{source}: invalid configuration", *from_file]
    if from_env:
        lines += ["invalid configuration from the environment", *from_env]
    return "\n".join(lines)


def _apply_env(data: dict[str, Any], env: dict[str, str], applied: dict | None = None) -> dict[str, Any]:
    """Apply ``CASHWATCH_A__B=value`` overrides to ``data``; ``applied`` collects path -> variable."""
    for key, raw in env.items():
        if not key.startswith(ENV_PREFIX) or key[len(ENV_PREFIX):] in ENV_NOT_FIELDS:
            continue
        path = [p.lower() for p in key[len(ENV_PREFIX):].split("__") if p]
        if not path:
            continue
        if applied is not None:
            applied[tuple(path)] = key
        try:
            value = yaml.safe_load(raw) if raw != "" else ""
        except yaml.YAMLError as exc:
            raise ConfigError(f"environment variable {key}: not a valid value: {exc}") from exc
        node: Any = data
        for i, part in enumerate(path[:-1]):
            nxt = path[i + 1]
            if isinstance(node, list):  # CASHWATCH_SUBSCRIPTIONS__0__SECRET: an item of a list
                if not part.isdigit() or int(part) >= len(node):
                    raise ConfigError(f"environment variable {key}: no item {part!r} in "
                                      f"{'.'.join(path[:i]) or 'config'}")
                node = node[int(part)]
                continue
            child = node.get(part)
            if not isinstance(child, (dict, list)) or (isinstance(child, list) and not nxt.isdigit()):
                child = {}
                node[part] = child
            node = child
        last = path[-1]
        if isinstance(node, list):
            if not last.isdigit() or int(last) >= len(node):
                raise ConfigError(f"environment variable {key}: no item {last!r} in {'.'.join(path[:-1])}")
            node[int(last)] = value
        else:
            node[last] = value
    return data


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration file: {exc.strerror or exc}") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc


def load_settings(path: str | Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Load, override and validate the configuration, or raise ``ConfigError``.

    ``path`` None means defaults only (plus environment overrides). Relative ``feeds_file`` and
    ``store_path`` are resolved against the configuration file's folder.
    """
    env = dict(os.environ if env is None else env)
    data: dict[str, Any] = {}
    source = "defaults"
    base = Path.cwd()
    if path is not None:
        p = Path(path)
        source = str(p)
        base = p.resolve().parent
        loaded = _read_yaml(p)
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{p}: the top level must be a mapping, got {type(loaded).__name__}")
        data = loaded
    env_paths: dict[tuple, str] = {}
    data = _apply_env(data, env, env_paths)
    feeds_file = data.get("feeds_file")
    if feeds_file:
        fpath = Path(feeds_file)
        if not fpath.is_absolute():
            fpath = base / fpath
        fdata = _read_yaml(fpath)
        feeds = fdata.get("feeds") if isinstance(fdata, dict) else fdata
        if not isinstance(feeds, list):
            raise ConfigError(f"{fpath}: expected a list of feeds under 'feeds'")
        parsed = []
        for i, f in enumerate(feeds):
            try:
                parsed.append(FeedConfig.model_validate(f))
            except ValidationError as exc:
                raise ConfigError(_format_errors(exc, str(fpath)).replace(
                    "\n  ", "\n  " + _where(("feeds", i), {"feeds": feeds}) + ".")) from exc
        data["feeds"] = [f.model_dump() for f in parsed] + list(data.get("feeds") or [])
        data["feeds_file"] = str(fpath)
    store = data.get("store_path")
    if isinstance(store, str) and store and store != ":memory:" and not Path(store).is_absolute():
        data["store_path"] = str((base / store).resolve())
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, source, data, env_paths)) from exc
