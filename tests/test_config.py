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
        ({"feeds": [{"id": "x", "url": "ftp://example.org/feed"}]}, "feeds[x].url", "http"),
        ({"feeds": [{"id": "x", "url": "https://e.org/f", "place_hint": "gotham"}]}, "feeds[x].place_hint", "gotham"),
        ({"feeds": [{"id": "x", "url": "https://e.org/f", "poll_interval_s": 0}]}, "feeds[x].poll_interval_s", "greater"),
        ({"subscriptions": [{"name": "s", "url": "https://e.org/h", "regions": ["mordor"]}]}, "subscriptions[s].regions", "mordor"),
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


# ---------------------------------------------------------------- issue 15: errors say where a value came from

def test_an_environment_override_is_blamed_not_the_file(tmp_path):
    p = write(tmp_path, {"store_path": "cw.db"})
    with pytest.raises(ConfigError) as err:
        load_settings(p, env={"CASHWATCH_OPS__METRIC_PORT": "9500"})
    msg = str(err.value)
    assert "CASHWATCH_OPS__METRIC_PORT" in msg and "ops.metric_port: unknown field" in msg
    assert "did you mean 'metrics_port'" in msg
    assert str(p) not in msg  # the file is fine


def test_file_and_environment_errors_are_told_apart(tmp_path):
    p = write(tmp_path, {"colour": "blue"})
    with pytest.raises(ConfigError) as err:
        load_settings(p, env={"CASHWATCH_HTTP__MAX_PAGE_BYTES": "-5"})
    file_part, env_part = str(err.value).split("invalid configuration from the environment")
    assert str(p) in file_part and "colour: unknown field" in file_part
    assert "http.max_page_bytes" in env_part and "CASHWATCH_HTTP__MAX_PAGE_BYTES" in env_part


def test_cashwatch_variables_that_are_not_fields_are_ignored(tmp_path):
    p = write(tmp_path, {"store_path": "cw.db"})
    load_settings(p, env={"CASHWATCH_CONFIG": str(p), "CASHWATCH_MYPYC": "1"})


@pytest.mark.parametrize("data, expected, not_expected", [
    # list items are named by their id or name, not their position
    ({"feeds": [{"id": "ok", "url": "https://e.org/1"}, {"id": "bbc-lancs", "url": "https://e.org/2",
                                                        "place_hint": "lancs"}]},
     "feeds[bbc-lancs].place_hint: unknown police force id 'lancs' (did you mean 'lancashire'?)", "feeds.1"),
    # the unknown-force message lists the ids rather than pointing to a CSV file
    ({"feeds": [{"id": "a", "url": "https://e.org/1", "place_hint": "gotham"}]}, "known: avon-and-somerset, ", ".csv"),
    # pydantic's "Value error," prefix is not shown
    ({"subscriptions": [{"name": "nw", "url": "https://e.org/h", "regions": ["north-wst"]}]},
     "subscriptions[nw].regions: unknown region id 'north-wst' (did you mean 'north-west'?)", "Value error"),
    ({"feeds": [{"url": "https://e.org/1"}]}, "feeds[item 1].id: Field required", "feeds.0"),
    ({"feeds": [{"id": "a", "url": "https://e.org/1", "poll_interval": 60}]},
     "feeds[a].poll_interval: unknown field (did you mean 'poll_interval_s'?)", None),
])
def test_config_errors_read_as_a_person_would_write_them(tmp_path, data, expected, not_expected):
    p = write(tmp_path, data)
    with pytest.raises(ConfigError) as err:
        load_settings(p, env={})
    assert expected in str(err.value)
    if not_expected:
        assert not_expected not in str(err.value)


def test_a_feeds_file_error_names_the_feed(tmp_path):
    write(tmp_path, {"feeds": [{"id": "good", "url": "https://e.org/1"},
                               {"id": "bad-one", "url": "https://e.org/2", "place_hint": "lancs"}]}, "feeds.yaml")
    p = write(tmp_path, {"feeds_file": "feeds.yaml"})
    with pytest.raises(ConfigError) as err:
        load_settings(p, env={})
    assert "feeds.yaml" in str(err.value) and "feeds[bad-one].place_hint" in str(err.value)
