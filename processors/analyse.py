"""Analyse one article: its kind and the incidents it reports, placed and dated.

:class:`Analyser` is the domain core's entry point for the intelligence issue; both runtimes and
``cashwatch analyse`` call :meth:`Analyser.analyse`. Pure: no I/O after construction.
"""
from __future__ import annotations

import re

from cashwatch.models import Analysis, Article, IncidentMention

_ATM = re.compile(r"\b(cash machine|cashpoint|ATM)\b", re.I)


class Analyser:
    """First version (replaced by the intelligence work): keyword rules only."""

    def analyse(self, article: Article) -> Analysis:
        text = f"{article.title}\n{article.text}"
        incidents: list[IncidentMention] = []
        kind = "other"
        if _ATM.search(text) and re.search(r"\b(stole|stolen|ram raid|explosi|blown)", text, re.I):
            kind = "incident"
            incidents.append(IncidentMention(type="atm_theft", force=article.place_hint,
                                             country="GB", evidence=text[:200]))
        return Analysis(article_id=article.article_id, url=article.url, source=article.source,
                        published=article.published, title=article.title, kind=kind,
                        incidents=incidents)
