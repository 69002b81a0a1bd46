"""The processing core shared by both runtimes: analyse an article, then link its incidents.

``AnalysisPipeline.process`` is what the embedded runtime, the faust agents and ``cashwatch
analyse`` all call, so they cannot drift apart.
"""
from __future__ import annotations

from datetime import datetime

from cashwatch.models import Analysis, Article, IncidentEvent
from cashwatch.processors.analyse import Analyser
from cashwatch.processors.link import IncidentLookup, Linker
from cashwatch.processors.linking_text import text_signature


class AnalysisPipeline:
    def __init__(self, analyser: Analyser | None = None, linker: Linker | None = None,
                 lookup: IncidentLookup | None = None) -> None:
        self.analyser = analyser or Analyser()
        self.linker = linker or Linker(lookup)

    def process(self, article: Article, now: datetime | None = None) -> tuple[Analysis, list[IncidentEvent]]:
        analysis = self.analyser.analyse(article)
        if analysis.text_signature is None and analysis.incidents:
            # near-duplicate detection of syndicated copies (MinHash over the title and body)
            sig = text_signature(f"{article.title}\n{article.text}")
            analysis = analysis.model_copy(update={"text_signature": sig})
        return self.linker.link(analysis, now=now)
