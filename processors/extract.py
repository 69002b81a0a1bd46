"""Extract the story from an article page: title, body, published date, language.

The one extraction stage of cashwatch: the pipeline, ``cashwatch extract`` and the benchmarks all
call :func:`extract`. Pure function of its input (no I/O).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import trafilatura


@dataclass(frozen=True)
class Extracted:
    title: str
    body: str
    published: date | None
    language: str | None


def extract(html: str, url: str | None = None) -> Extracted:
    """Return the story of ``html``; an empty ``body`` means nothing usable was found."""
    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, favor_precision=False)
    if doc is None:
        return Extracted("", "", None, None)
    d = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    published = None
    if d.get("date"):
        try:
            published = date.fromisoformat(str(d["date"])[:10])
        except ValueError:
            published = None
    return Extracted(d.get("title") or "", d.get("text") or "", published, d.get("language"))
