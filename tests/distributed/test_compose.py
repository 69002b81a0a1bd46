"""docker-compose.yml, the Dockerfile and the Kibana saved objects name only things that exist.

Docker is not available here, so the compose file is checked by reading it: services, volumes,
dependencies, every CASHWATCH_* variable (applied to the real configuration loader), every
cashwatch command (run with --help), healthchecks, image versions against deploy/local. The Kibana
objects are checked against the Elasticsearch templates they are meant for.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from cashwatch.cli import app
from cashwatch.config import load_settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES: dict = COMPOSE["services"]
APP_SERVICES = {n: s for n, s in SERVICES.items() if s.get("image", "").startswith("cashwatch")}
KIBANA = [json.loads(line) for line in (ROOT / "deploy/kibana/cashwatch.ndjson").read_text().splitlines() if line.strip()]


def _local_default(var: str) -> str:
    m = re.search(rf': "\${{{var}:=([^}}]+)}}"', (ROOT / "deploy/local/common.sh").read_text())
    assert m, f"{var} has no default in deploy/local/common.sh"
    return m.group(1)


def test_every_dependency_and_volume_is_declared():
    declared_volumes = set(COMPOSE.get("volumes") or {})
    for name, svc in SERVICES.items():
        for dep in svc.get("depends_on") or {}:
            assert dep in SERVICES, f"{name} depends on unknown service {dep}"
            assert dep != name, f"{name} depends on itself"
        for vol in svc.get("volumes") or []:
            src = vol.split(":", 1)[0]
            if not src.startswith((".", "/")):
                assert src in declared_volumes, f"{name} uses undeclared volume {src}"


def test_the_stages_are_all_there_with_two_processor_workers():
    commands = [tuple(s["command"][:2]) if s["command"][0] == "kafka" else (s["command"][0],) for s in APP_SERVICES.values()]
    assert commands.count(("process",)) == 2
    for needed in [("kafka", "topics"), ("kafka", "produce"), ("kafka", "sink"), ("kibana",)]:
        assert any(c[: len(needed)] == needed for c in commands), needed
    assert {"kafka", "elasticsearch", "kibana"} <= set(SERVICES)


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_app_service_commands_exist(name):
    result = CliRunner().invoke(app, [*APP_SERVICES[name]["command"], "--help"])
    assert result.exit_code == 0, f"`cashwatch {' '.join(APP_SERVICES[name]['command'])}`: {result.output}"


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_app_service_variables_are_real_settings(name):
    env = {k: str(v) for k, v in APP_SERVICES[name]["environment"].items()}
    config = env.pop("CASHWATCH_CONFIG")
    assert config.startswith("/app/"), "the image holds the source tree at /app"
    local = ROOT / config.removeprefix("/app/")
    assert local.is_file(), f"{config} is not in the image: {local} missing"
    settings = load_settings(local, env=env)  # an unknown variable is a ConfigError naming it
    for key, raw in env.items():
        node = settings
        for part in key.removeprefix("CASHWATCH_").lower().split("__"):
            node = getattr(node, part)
        assert str(node) == str(yaml.safe_load(raw)), key
    assert settings.runtime == "distributed"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_long_running_services_have_healthchecks(name):
    svc = SERVICES[name]
    if svc.get("restart") == "no":  # one-shot jobs
        return
    check = svc.get("healthcheck")
    assert check and not check.get("disable") and check.get("test"), f"{name} has no healthcheck"


def test_images_match_the_versions_tested_here():
    assert SERVICES["kafka"]["image"].endswith(":" + _local_default("KAFKA_VERSION"))
    es_version = _local_default("ES_VERSION")
    assert SERVICES["elasticsearch"]["image"].endswith(":" + es_version)
    assert SERVICES["kibana"]["image"].endswith(":" + es_version)


def test_dockerfile_copies_what_exists():
    text = (ROOT / "Dockerfile").read_text()
    for line in text.splitlines():
        if line.startswith("COPY "):
            for src in line.split()[1:-1]:
                assert (ROOT / src).exists(), f"Dockerfile copies missing {src}"
    assert "deploy" in text, "the templates and saved objects must be in the image"


# ---------------------------------------------------------------- Kibana saved objects

def _template_fields(name: str) -> set[str]:
    body = json.loads((ROOT / f"deploy/elasticsearch/{name}.template.json").read_text())
    out: set[str] = set()

    def walk(props: dict, prefix: str) -> None:
        for k, v in props.items():
            out.add(prefix + k)
            walk(v.get("properties", {}), f"{prefix}{k}.")
            walk(v.get("fields", {}), f"{prefix}{k}.")
    walk(body["template"]["mappings"]["properties"], "")
    return out


FIELDS = {"cashwatch-incidents": _template_fields("incidents"), "cashwatch-articles": _template_fields("articles")}
BY_ID = {o["id"]: o for o in KIBANA}


def test_kibana_objects_are_unique_and_references_resolve():
    assert len(BY_ID) == len(KIBANA)
    for o in KIBANA:
        for ref in o["references"]:
            assert ref["id"] in BY_ID and BY_ID[ref["id"]]["type"] == ref["type"], (o["id"], ref)
    types = {o["type"] for o in KIBANA}
    assert {"index-pattern", "search", "visualization", "map", "dashboard"} <= types


def _index_of(o: dict) -> str:
    (ref,) = [r for r in o["references"] if r["type"] == "index-pattern"]
    return BY_ID[ref["id"]]["attributes"]["title"]


def test_kibana_fields_exist_in_the_index_templates():
    for o in KIBANA:
        a = o["attributes"]
        if o["type"] == "index-pattern":
            assert a["title"] in FIELDS and a["timeFieldName"] in FIELDS[a["title"]]
            continue
        if o["type"] == "dashboard":
            panels = json.loads(a["panelsJSON"])
            names = {r["name"] for r in o["references"]}
            assert {p["panelRefName"] for p in panels} == names
            continue
        fields = FIELDS[_index_of(o)]
        used: list[str] = []
        if o["type"] == "search":
            used += a["columns"] + [s[0] for s in a["sort"]]
        if o["type"] == "visualization":
            used += [agg["params"]["field"] for agg in json.loads(a["visState"])["aggs"] if "field" in agg["params"]]
        if o["type"] == "map":
            for layer in json.loads(a["layerListJSON"]):
                src = layer["sourceDescriptor"]
                used += [src["geoField"], *src.get("tooltipProperties", [])] if "geoField" in src else []
        assert used, o["id"]
        missing = [f for f in used if f not in fields]
        assert not missing, f"{o['id']} uses fields not in the template: {missing}"
