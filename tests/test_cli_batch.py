"""The batch commands' contract, from a file or stdin alike: every bad line reported with its number,
every other line processed, missing or unwritable files named on one line with exit status 2, and
exit status 1 when some lines were rejected (README, "Exit status")."""
from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

import pytest

CLI = [sys.executable, "-m", "cashwatch"]
GOOD = {"id": "g1", "url": "https://news.example/g1", "source": "example", "published": "2026-02-03",
        "title": "Council agrees new budget", "text": "The council met on Tuesday and agreed its budget."}


def run(args, stdin: bytes = b"", cwd=None):
    return subprocess.run(CLI + args, input=stdin, capture_output=True, timeout=180, cwd=cwd)


def lines(*recs) -> bytes:
    return b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in recs)


MIXED = lines(GOOD, b'{"id": "x", "text": "caf\xff"}', {**GOOD, "id": "g2"})


@pytest.mark.parametrize("from_file", [True, False], ids=["file", "stdin"])
def test_a_line_that_is_not_utf8_is_reported_and_the_others_analysed(tmp_path, from_file):
    path = tmp_path / "in.jsonl"
    path.write_bytes(MIXED)
    proc = run(["analyse", str(path)]) if from_file else run(["analyse"], MIXED)
    where = str(path) if from_file else "<stdin>"
    assert [json.loads(x)["id"] for x in proc.stdout.splitlines()] == ["g1", "g2"]
    err = proc.stderr.decode()
    assert f"{where}:2: not UTF-8" in err and "Traceback" not in err
    assert "1 input line(s) could not be analysed" in err
    assert proc.returncode == 1


@pytest.mark.parametrize("args, named, why", [
    (["analyse", "nosuch.jsonl"], "nosuch.jsonl", "No such file"),
    (["extract", "nosuch.jsonl"], "nosuch.jsonl", "No such file"),
    (["replay", "nosuch.jsonl"], "nosuch.jsonl", "No such file"),
    (["analyse", "-", "-o", "/nonexistent/out.jsonl"], "/nonexistent/out.jsonl", "cannot write"),
    (["extract", "-", "-o", "/nonexistent/out.jsonl"], "/nonexistent/out.jsonl", "cannot write"),
    (["analyse", "."], ".", "directory"),
])
def test_missing_or_unwritable_files_are_one_line_and_exit_2(tmp_path, args, named, why):
    proc = run(args, lines(GOOD), cwd=tmp_path)
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert named in err and why in err


@pytest.mark.parametrize("record, reason", [
    ({"id": "n1", "title": "Cash machine stolen"}, "no 'text'"),
    ({"id": "n2", "text": "A cash machine was stolen.", "published": "yesterday"}, "'published' must be an ISO date"),
    ({"id": "n3", "text": "A cash machine was stolen.", "published": 20260203}, "'published' must be an ISO date"),
    ({"id": "n4", "text": ["not", "a", "string"]}, "'text' must be a string"),
    ({"text": "no id and no url"}, "neither 'id' nor 'url'"),
])
def test_articles_that_cannot_be_analysed_are_rejected_with_their_line(record, reason):
    proc = run(["analyse"], lines(GOOD, record))
    err = proc.stderr.decode()
    assert f"<stdin>:2: not a valid article: {reason}" in err
    assert [json.loads(x)["id"] for x in proc.stdout.splitlines()] == ["g1"]
    assert proc.returncode == 1


def test_a_datetime_published_and_a_missing_one_are_accepted():
    proc = run(["analyse"], lines({**GOOD, "published": "2026-02-03T10:00:00Z"}, {**GOOD, "id": "g2", "published": None}))
    assert proc.returncode == 0 and proc.stderr == b""
    assert len(proc.stdout.splitlines()) == 2


@pytest.mark.parametrize("line, message", [
    # the line's own newline is not part of the JSON: an unterminated string is reported where it starts
    (b'{"id": "abc', "Unterminated string starting at column 8"),
    (b'{"id": "a", "text" "x"}', "Expecting ':' delimiter at column 20"),
    (b"\xef\xbb\xbf" + json.dumps(GOOD).encode(), None),  # a BOM on the first line is allowed
])
def test_json_errors_name_the_column_the_user_sees(line, message):
    proc = run(["analyse"], line + b"\r\n")
    if message is None:
        assert proc.returncode == 0 and json.loads(proc.stdout)["id"] == "g1"
    else:
        assert f"<stdin>:1: not valid JSON: {message}" in proc.stderr.decode()


def test_extract_reports_bad_pages_and_exits_1():
    page = {"id": "p1", "url": "https://news.example/p1", "html": "<html><body><p>Hello</p></body></html>"}
    proc = run(["extract"], lines(page, {"id": "p2", "html": 7}))
    assert [json.loads(x)["id"] for x in proc.stdout.splitlines()] == ["p1"]
    assert "<stdin>:2: 'html' must be a string" in proc.stderr.decode()
    assert proc.returncode == 1


def test_no_progress_output_when_stderr_is_not_a_terminal(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(lines(*({**GOOD, "id": f"g{i}"} for i in range(30))))
    proc = run(["analyse", str(path), "-o", str(tmp_path / "out.jsonl")])
    assert proc.returncode == 0 and proc.stderr == b"" and proc.stdout == b""


def test_a_progress_bar_is_drawn_when_stderr_is_a_terminal(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(lines(*({**GOOD, "id": f"g{i}"} for i in range(200))))
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(CLI + ["analyse", str(path), "-o", str(tmp_path / "out.jsonl")],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave,
                                env={**os.environ, "COLUMNS": "100", "TERM": "xterm"})
        os.close(slave)
        seen = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the pty closes when the process ends
                break
            if not chunk:
                break
            seen += chunk
        assert proc.wait(timeout=180) == 0
    finally:
        os.close(master)
    assert b"analyse" in seen and b"records" in seen
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 200
