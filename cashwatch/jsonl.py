"""JSONL input/output for the batch commands (``analyse``, ``extract``, ``replay``).

Contract, the same for a file and for stdin:

* the input is read as bytes, line by line, and each line is decoded as UTF-8 on its own (a UTF-8 BOM
  on the first line is allowed): a line that is not UTF-8, not JSON or not a JSON object is reported
  with its line number (and column) and every other line is still read;
* a file that cannot be opened raises :class:`BatchFileError`, whose message names the file and why
  (the commands print it on one line and exit with :data:`EXIT_USAGE`);
* :data:`EXIT_OK` when every line was used, :data:`EXIT_REJECTED` when some were rejected.
"""
from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from cashwatch.errors import CashwatchError

EXIT_OK = 0
EXIT_REJECTED = 1  # the run finished, but some input lines were rejected (each reported on stderr)
EXIT_USAGE = 2  # bad usage: a missing or unwritable file, an unknown option value, a bad configuration


class BatchFileError(CashwatchError):
    """An input or output file of a batch command cannot be opened; the message says which and why."""


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


class InputFile:
    """A binary input (a file or stdin) that knows how far it has been read, for progress bars."""

    def __init__(self, fh: IO[bytes], name: str, size: int | None) -> None:
        self.fh, self.name, self.size = fh, name, size
        self.bytes_read = 0

    def __iter__(self) -> Iterator[bytes]:
        for line in self.fh:
            self.bytes_read += len(line)
            yield line


@contextmanager
def open_in(path: str | None) -> Iterator[InputFile]:
    """The input named by ``path`` (``None`` or ``-``: stdin), in binary; raises :class:`BatchFileError`."""
    if path in (None, "-"):
        yield InputFile(sys.stdin.buffer, "<stdin>", None)
        return
    try:
        fh = open(path, "rb")  # noqa: SIM115  (closed below)
        size = os.fstat(fh.fileno()).st_size
    except IsADirectoryError as exc:
        raise BatchFileError(f"{path}: cannot read: it is a directory") from exc
    except OSError as exc:
        raise BatchFileError(f"{path}: cannot read: {_why(exc)}") from exc
    with fh:
        yield InputFile(fh, str(path), size)


@contextmanager
def open_out(path: str | None) -> Iterator[IO[str]]:
    """The output named by ``path`` (``None`` or ``-``: stdout); raises :class:`BatchFileError`."""
    if path in (None, "-"):
        yield sys.stdout
        return
    try:
        fh = open(path, "w", encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        raise BatchFileError(f"{path}: cannot write: {_why(exc)}") from exc
    with fh:
        yield fh


def _json_error(exc: json.JSONDecodeError) -> str:
    # json's messages end "at" when they mean "at this position" ("Invalid control character at")
    # and "starting at" for an unterminated string: finish the sentence with the column.
    msg = exc.msg
    if msg.endswith(" at"):
        return f"{msg} column {exc.colno}"
    return f"{msg} at column {exc.colno}"


def read_records(lines, source: str = "<stdin>") -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """Yield ``(line_number, record, error)``; exactly one of record/error is set. Blank lines are skipped.

    ``lines`` yields ``bytes`` (an :class:`InputFile`) or ``str``. The line's own end (``\\n``,
    ``\\r\\n``) is not part of the JSON text, so an error's column is a column of what the user sees.
    """
    for n, raw in enumerate(lines, 1):
        if isinstance(raw, bytes):
            if n == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield n, None, (f"{source}:{n}: not UTF-8 text: byte 0x{raw[exc.start]:02x} at byte "
                                f"{exc.start + 1} of the line cannot be decoded")
                continue
        else:
            line = raw
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            yield n, None, f"{source}:{n}: not valid JSON: {_json_error(exc)}"
            continue
        except RecursionError:
            yield n, None, f"{source}:{n}: not valid JSON: nested too deeply"
            continue
        if not isinstance(rec, dict):
            yield n, None, f"{source}:{n}: expected a JSON object, got {type(rec).__name__}"
            continue
        yield n, rec, None


def write_record(fh: IO[str], rec: dict[str, Any]) -> None:
    fh.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")
    fh.flush()
