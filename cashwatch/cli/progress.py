"""Progress bars for long batch work: drawn on stderr when it is a terminal, nothing otherwise.

Output that goes to a pipe or a file (a script, CI, ``2> log``) gets no progress text at all, so
logs and captured stderr hold only the messages about the input.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

REFRESH_S = 0.1  # redraw at most this often: a bar must not cost the batch its speed


def stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # closed or replaced by something that is not a file
        return False


@contextmanager
def progress_bar(source, label: str, *, total: int | None = None) -> Iterator[Callable[[], None]]:
    """Yield ``tick()``, to call once per record read from ``source`` (an :class:`~cashwatch.jsonl.InputFile`).

    On a terminal, a transient bar on stderr: by bytes of the input file (its size known), else a
    count of records. Elsewhere ``tick`` does nothing."""
    if not stderr_is_terminal():
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    size = getattr(source, "size", None) if total is None else None
    columns = [TextColumn(f"{label} {{task.fields[records]}} records"), BarColumn()]
    columns.append(TimeRemainingColumn() if (size or total) else TextColumn(""))
    if total is not None:
        columns.insert(1, MofNCompleteColumn())
    bar = Progress(*columns, console=Console(file=sys.stderr), transient=True)
    task = bar.add_task(label, total=size or total, records=0)
    state = {"records": 0, "drawn": 0.0}

    def tick() -> None:
        state["records"] += 1
        now = time.monotonic()
        if now - state["drawn"] >= REFRESH_S:
            state["drawn"] = now
            done = getattr(source, "bytes_read", 0) if size else state["records"]
            bar.update(task, completed=done, records=state["records"])

    with bar:
        yield tick
