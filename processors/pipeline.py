"""The processing core shared by both runtimes: analyse an article, then link its incidents.

``AnalysisPipeline.process`` is what the embedded runtime, the faust agents and ``cashwatch
analyse`` all call, so they cannot drift apart.
"""
from __future__ import annotations

from datetime import datetime

from cashwatch.models import Analysis, Article, IncidentEvent
from cashwatch.processors.analyse import Analyser
from cashwatch.processors.link import IncidentLookup, Linker


class AnalysisPipeline:
    def __init__(self, analyser: Analyser | None = None, linker: Linker | None = None,
                 lookup: IncidentLookup | None = None) -> None:
        self.analyser = analyser or Analyser()
        self.linker = linker or Linker(lookup)

    def process(self, article: Article, now: datetime | None = None) -> tuple[Analysis, list[IncidentEvent]]:
        analysis = self.analyser.analyse(article)
        return self.linker.link(analysis, now=now)
