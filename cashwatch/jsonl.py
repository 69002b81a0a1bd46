"""JSONL input/output for the batch commands: bad lines are reported with their number, never fatal."""
from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any


@contextmanager
def open_in(path: str | None) -> Iterator[IO[str]]:
    if path in (None, "-"):
        yield sys.stdin
    else:
        with open(path, encoding="utf-8") as fh:
            yield fh


@contextmanager
def open_out(path: str | None) -> Iterator[IO[str]]:
    if path in (None, "-"):
        yield sys.stdout
    else:
        with open(path, "w", encoding="utf-8") as fh:
            yield fh


def read_records(fh: IO[str], source: str = "<stdin>") -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """Yield ``(line_number, record, error)``; exactly one of record/error is set. Blank lines are skipped."""
    for n, line in enumerate(fh, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            yield n, None, f"{source}:{n}: not valid JSON: {exc.msg} (column {exc.colno})"
            continue
        if not isinstance(rec, dict):
            yield n, None, f"{source}:{n}: expected a JSON object, got {type(rec).__name__}"
            continue
        yield n, rec, None


def write_record(fh: IO[str], rec: dict[str, Any]) -> None:
    fh.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")
    fh.flush()
