"""The ``cashwatch`` command line. Each command group lives in its own module of this package."""
from __future__ import annotations

import typer

app = typer.Typer(
    name="cashwatch",
    help="Watch UK police and local-news feeds for ATM attacks and cash-in-transit robberies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

from cashwatch.cli import core as _core  # noqa: E402,F401  (registers run, analyse, extract, replay, demo)
from cashwatch.cli import incidents as _incidents  # noqa: E402,F401  (search, incidents, forces)
from cashwatch.cli import feeds as _feeds  # noqa: E402,F401  (feeds)
from cashwatch.cli import alerts as _alerts  # noqa: E402,F401  (subscriptions, alerts)
from cashwatch.cli import distributed as _distributed  # noqa: E402,F401  (process, kafka, kibana)
from cashwatch.cli import corrections as _corrections  # noqa: E402,F401  (incidents merge|split|dismiss|edit, corrections, web)


def main() -> None:
    app()
