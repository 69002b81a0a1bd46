"""The batch commands over a real subprocess: bad lines are reported by number and the rest analysed."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

CLI = [sys.executable, "-m", "cashwatch"]


def run(args, stdin="", check=True):
    return subprocess.run(CLI + args, input=stdin, capture_output=True, text=True, timeout=120, check=check)


def test_analyse_reports_bad_lines_and_keeps_going():
    good = {"id": "x1", "url": "https://news.example/x1", "source": "example", "published": "2026-02-03",
            "title": "Council agrees new budget", "text": "The council met on Tuesday and agreed its budget."}
    lines = [json.dumps(good), "{not json", json.dumps([1, 2]), json.dumps({**good, "id": "x2"})]
    proc = run(["analyse"], "\n".join(lines) + "\n", check=False)
    assert proc.returncode == 1  # some lines rejected
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["id"] for o in out] == ["x1", "x2"]
    assert all(o["kind"] in {"incident", "court", "campaign", "other"} for o in out)
    assert "<stdin>:2: not valid JSON" in proc.stderr
    assert "<stdin>:3: expected a JSON object" in proc.stderr


def test_analysis_is_the_same_in_every_process():
    """Python salts str hashes per process: nothing the analyser decides may depend on set or dict
    order, or two workers (or a replay) would place the same article differently."""
    stories = [
        ("h1", "https://www.example-news.co.uk/newport-shropshire-telford/crime/atm", "Cash machine ripped out",
         "Thieves used a digger to rip a cash machine from the wall of a shop in the early hours of Monday. "
         "The machine was found later in a field."),
        ("h2", "https://www.richmond-north-yorkshire-news.example/crime/van", "Guard robbed",
         "A security guard was threatened and robbed of a cash box outside a bank on Tuesday morning."),
        ("h3", "https://local.example/stories/bristol-bath-atm-blast", "Explosion at cash machine",
         "Police say gas was used to blow open a cash machine at a supermarket overnight."),
    ]
    lines = "".join(json.dumps({"id": i, "url": u, "source": "example", "published": "2026-03-04", "title": t,
                                "text": x}) + "\n" for i, u, t, x in stories)
    outputs = set()
    for seed in ("1", "2", "3"):
        proc = subprocess.run(CLI + ["analyse"], input=lines, capture_output=True, text=True, timeout=120,
                              check=True, env={**os.environ, "PYTHONHASHSEED": seed})
        outputs.add(proc.stdout)
    assert len(outputs) == 1
    assert all(json.loads(line)["kind"] == "incident" for line in outputs.pop().splitlines())


def test_extract_reads_pages():
    html = ("<html><head><title>Van robbed</title></head><body><article><h1>Van robbed</h1>"
            + "".join(f"<p>Paragraph {i} of a story about a security van crew threatened outside a bank in the town centre.</p>" for i in range(6))
            + "</article></body></html>")
    proc = run(["extract"], json.dumps({"id": "p1", "url": "https://news.example/p1", "html": html}) + "\n")
    (res,) = [json.loads(line) for line in proc.stdout.splitlines()]
    assert res["id"] == "p1" and "security van crew" in res["body"]


@pytest.mark.parametrize("args", [["run", "--config", "/nonexistent/cw.yaml"], ["search", "x", "--config", "/nonexistent/cw.yaml"]])
def test_bad_config_exits_2_naming_the_file(args):
    proc = run(args, check=False)
    assert proc.returncode == 2
    assert "/nonexistent/cw.yaml" in proc.stderr


def test_printed_incidents_leave_out_the_linkers_text_signatures():
    import datetime as dt

    from cashwatch.cli.incidents import _incident_json
    from cashwatch.models import Incident, Report

    now = dt.datetime(2026, 3, 4, tzinfo=dt.timezone.utc)
    inc = Incident(incident_id="i-1", type="atm_theft", first_seen=now, last_seen=now,
                   reports=[Report(article_id="a1", url="https://news.example/a1", text_signature=[7] * 64)])
    (report,) = _incident_json(inc)["reports"]
    assert report["article_id"] == "a1" and "text_signature" not in report
