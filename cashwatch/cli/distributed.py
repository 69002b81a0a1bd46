"""Commands of the distributed runtime (Kafka, faust-streaming, Elasticsearch, Kibana)."""
from __future__ import annotations

import typer

from cashwatch.cli import app

kibana_app = typer.Typer(help="Kibana saved objects.", no_args_is_help=True)
app.add_typer(kibana_app, name="kibana")
