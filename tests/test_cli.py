"""The batch commands over a real subprocess: bad lines are reported by number and the rest analysed."""
from __future__ import annotations

import json
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
    proc = run(["analyse"], "\n".join(lines) + "\n")
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["id"] for o in out] == ["x1", "x2"]
    assert all(o["kind"] in {"incident", "court", "campaign", "other"} for o in out)
    assert "<stdin>:2: not valid JSON" in proc.stderr
    assert "<stdin>:3: expected a JSON object" in proc.stderr


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
