"""``cashwatch subscriptions ...`` and ``cashwatch alerts ...`` (the alerts work fills these in)."""
from __future__ import annotations

import typer

from cashwatch.cli import app

subscriptions_app = typer.Typer(help="List, add, remove and test webhook subscriptions.", no_args_is_help=True)
alerts_app = typer.Typer(help="The webhook delivery log: list, retry dead letters.", no_args_is_help=True)
app.add_typer(subscriptions_app, name="subscriptions")
app.add_typer(alerts_app, name="alerts")
