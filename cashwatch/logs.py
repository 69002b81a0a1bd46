"""Structured logging: one event per line, console or JSON (``ops.log_format``)."""
from __future__ import annotations

import logging
import sys

import structlog


class _StderrLogger:
    """Writes each event to whatever ``sys.stderr`` is at that moment (not the one at configure time,
    which a test runner or a daemon may have closed or replaced since)."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log = debug = info = warn = warning = error = critical = exception = fatal = msg


class _StderrHandler(logging.StreamHandler):
    """A stdlib handler that, like :class:`_StderrLogger`, follows the current ``sys.stderr``."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # StreamHandler.__init__ assigns it; the property ignores that
        pass


def configure(fmt: str = "console", level: str = "info") -> None:
    """Configure structlog and stdlib logging to write events to stderr."""
    lvl = getattr(logging, level.upper(), logging.INFO)
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logging.basicConfig(level=lvl, handlers=[handler], force=True)
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
        logger_factory=lambda *args: _StderrLogger(),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str = "cashwatch", **context):
    """A lazy logger: module-level loggers follow ``configure()`` even when made before it runs."""
    return structlog.get_logger(name, **context)
