"""The processing core shared by both runtimes: analyse an article, then link its incidents.

``AnalysisPipeline.process`` (analyse, then link) is what the embedded runtime and ``cashwatch
analyse`` call; the faust agents call its two halves in two stages (``analyse`` in one, the
linker in the other), so the runtimes cannot drift apart.
"""
from __future__ import annotations

from collections.abc import Callable
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

    def analyse(self, article: Article) -> Analysis:
        """The article's analysis, with the text signature the linker needs when it reports incidents."""
        analysis = self.analyser.analyse(article)
        if analysis.text_signature is None and analysis.incidents:
            # near-duplicate detection of syndicated copies (MinHash over the title and body)
            sig = text_signature(f"{article.title}\n{article.text}")
            analysis = analysis.model_copy(update={"text_signature": sig})
        return analysis

    def process(self, article: Article, now: datetime | None = None) -> tuple[Analysis, list[IncidentEvent]]:
        """Analyse, then link: the whole core for one article."""
        return self.linker.link(self.analyse(article), now=now)


def analysis_to_result(article_id: str, analysis: Analysis) -> dict:
    """The ``cashwatch analyse`` output record for one analysed article (with the kind model's probability
    and the signals behind it, when a model decided)."""
    out = analysis.model_dump(mode="json", include={"kind", "stage", "kind_confidence", "kind_signals"})
    out["incidents"] = [m.model_dump(mode="json") for m in analysis.incidents]
    return {"id": article_id, **out}


def final_ids(result: dict, resolve: Callable[[str], str]) -> dict:
    """An ``analyse`` result with each incident id replaced by the id it is known by now (``resolve``: an
    incident merged into another since takes the survivor's id)."""
    return {**result, "incidents": [{**m, "incident_id": resolve(m["incident_id"]) if m.get("incident_id") else None}
                                    for m in result["incidents"]]}
