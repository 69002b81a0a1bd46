"""Structured logging: one event per line, console or JSON (``ops.log_format``)."""
from __future__ import annotations

import logging
import sys

import structlog


def configure(fmt: str = "console", level: str = "info") -> None:
    """Configure structlog and stdlib logging to write events to stderr."""
    lvl = getattr(logging, level.upper(), logging.INFO)
    logging.basicConfig(level=lvl, stream=sys.stderr, format="%(message)s", force=True)
    for noisy in ("trafilatura", "htmldate", "courlan", "urllib3", "httpx", "kafka", "aiokafka", "elastic_transport"):
        logging.getLogger(noisy).setLevel(max(lvl, logging.WARNING) if noisy != "trafilatura" else logging.ERROR)
    renderer = structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(lvl),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str = "cashwatch", **context):
    """A lazy logger: module-level loggers follow ``configure()`` even when made before it runs."""
    return structlog.get_logger(name, **context)
