"""Configuration: validated on load, errors name the file and the field, env overrides apply."""
from __future__ import annotations

import pytest
import yaml

from cashwatch.config import load_settings
from cashwatch.errors import ConfigError
from tests.conftest import REPO


def write(tmp_path, data, name="cw.yaml"):
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data, encoding="utf-8")
    return p


def test_shipped_config_and_feeds_load():
    s = load_settings(REPO / "deploy" / "cashwatch.yaml", env={})
    assert s.runtime == "embedded"
    assert len(s.feeds) >= 30
    kinds = {f.kind for f in s.feeds}
    assert {"police", "local_news", "news_search"} <= kinds
    # every local source carries a place hint, and the regions the issue names are covered
    from cashwatch.places_table import region_of
    hinted = [f for f in s.feeds if f.kind == "local_news" and f.place_hint]
    regions = {region_of(f.place_hint) for f in hinted}
    assert {"north-west", "west-midlands", "east-midlands", "yorkshire-and-humber", "south-west"} <= regions


@pytest.mark.parametrize(
    "data, field, words",
    [
        ({"runtime": "cloud"}, "runtime", "embedded"),
        ({"feeds": [{"id": "x", "url": "ftp://example.org/feed"}]}, "feeds.0.url", "http"),
        ({"feeds": [{"id": "x", "url": "https://e.org/f", "place_hint": "gotham"}]}, "feeds.0.place_hint", "gotham"),
        ({"feeds": [{"id": "x", "url": "https://e.org/f", "poll_interval_s": 0}]}, "feeds.0.poll_interval_s", "greater"),
        ({"subscriptions": [{"name": "s", "url": "https://e.org/h", "regions": ["mordor"]}]}, "subscriptions.0.regions", "mordor"),
        ({"http": {"max_page_bytes": -1}}, "http.max_page_bytes", "greater"),
        ({"colour": "blue"}, "colour", "unknown field"),
        ({"feeds": [{"id": "a", "url": "https://e.org/1"}, {"id": "a", "url": "https://e.org/2"}]}, "", "duplicate"),
    ],
)
def test_bad_config_names_file_and_field(tmp_path, data, field, words):
    p = write(tmp_path, data)
    with pytest.raises(ConfigError) as err:
        load_settings(p, env={})
    msg = str(err.value)
    assert str(p) in msg
    assert field in msg
    assert words.lower() in msg.lower()


def test_not_yaml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(write(tmp_path, "feeds: [unclosed"), env={})
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "nope.yaml", env={})


def test_env_overrides_and_relative_paths(tmp_path):
    p = write(tmp_path, {"store_path": "data/cw.db", "ops": {"metrics_port": 1234}})
    s = load_settings(p, env={"CASHWATCH_OPS__METRICS_PORT": "9999", "CASHWATCH_OPS__LOG_FORMAT": "json"})
    assert s.ops.metrics_port == 9999 and s.ops.log_format == "json"
    assert s.store_path == str(tmp_path / "data" / "cw.db")
    with pytest.raises(ConfigError, match="ops.metrics_port"):
        load_settings(p, env={"CASHWATCH_OPS__METRICS_PORT": "lots"})


def test_secret_is_not_printed(tmp_path):
    p = write(tmp_path, {"subscriptions": [{"name": "s", "url": "https://e.org/h", "secret": "hunter2"}]})
    s = load_settings(p, env={})
    assert "hunter2" not in repr(s) and "hunter2" not in str(s.subscriptions[0])
    assert s.subscriptions[0].secret.get_secret_value() == "hunter2"


def test_env_override_reaches_into_lists_for_secrets(tmp_path):
    p = write(tmp_path, {"subscriptions": [{"name": "s", "url": "https://e.org/h"}]})
    s = load_settings(p, env={"CASHWATCH_SUBSCRIPTIONS__0__SECRET": "from-env"})
    assert s.subscriptions[0].secret.get_secret_value() == "from-env"
    with pytest.raises(ConfigError, match="CASHWATCH_SUBSCRIPTIONS__3__SECRET"):
        load_settings(p, env={"CASHWATCH_SUBSCRIPTIONS__3__SECRET": "x"})
