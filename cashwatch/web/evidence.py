"""Why an incident is what it is: per report, the sentence that made it an attack, the place it
resolved to, and, for every report after the first, the linker's pair features and score against the
incident as it stood before that report (recomputed: the linker keeps the reports, not the scores).

Pure functions over stored records; the web page renders what they return.
"""
from __future__ import annotations

import datetime as dt
import math

from cashwatch.models import Analysis, Incident, Report
from cashwatch.places_table import FORCES


def link_reasons(inc: Incident) -> dict[tuple[str, int], dict]:
    """``(article_id, mention) -> {"first": bool, "features": {...}, "points": float|None,
    "model": float|None}`` for each report of ``inc`` in the order the incident holds them."""
    from cashwatch.processors.link import (
        LinkerConfig, _consensus, _incident_evidence, default_scorer, report_as_mention,
    )
    from cashwatch.processors.linking_score import features, score

    from cashwatch.processors.model import default_models

    # the learned link model's probability only when one is shipped (the hand-set points decide otherwise)
    scorer = default_scorer(LinkerConfig()) if default_models().get("link") is not None else None
    out: dict[tuple[str, int], dict] = {}
    now = inc.first_seen
    reports = sorted(inc.reports, key=lambda r: (r.published is None, r.published or dt.date.min))
    for k, r in enumerate(reports):
        key = (r.article_id, r.mention)
        if k == 0:
            out[key] = {"first": True}
            continue
        before = _consensus(inc.model_copy(update={"reports": reports[:k]}), reports[:k], now)
        ev = _incident_evidence(before)
        m = report_as_mention(r, inc)
        sigs = [x.text_signature for x in reports[:k] if x.text_signature] if m.signature else []
        x = features(m, ev, sigs)
        pts = score(m, ev, sigs)
        model = scorer(m, ev, sigs) if scorer is not None else None
        out[key] = {"first": False, "features": {n: v for n, v in (x or {}).items() if v},
                    "points": pts, "model": model,
                    "probability": (1 / (1 + math.exp(-model))) if model is not None else None}
    return out


def report_evidence(r: Report, analysis: Analysis | None) -> dict:
    """What the analysis of one report said: kind (confidence, signals), the attack sentence, the
    mention's confidence and signals, the place and its force."""
    m = analysis.incidents[r.mention] if analysis and 0 <= r.mention < len(analysis.incidents) else None
    force = FORCES.get((m.force if m else r.force) or "")
    return {
        "kind": analysis.kind if analysis else r.kind,
        "kind_confidence": analysis.kind_confidence if analysis else None,
        "kind_signals": sorted((analysis.kind_signals or {}).items(), key=lambda kv: -abs(kv[1]))[:8] if analysis else [],
        "sentence": m.evidence if m else "",
        "confidence": m.confidence if m else None,
        "signals": sorted((m.signals or {}).items(), key=lambda kv: -abs(kv[1]))[:8] if m else [],
        "town": m.town if m else r.town,
        "force": (m.force if m else r.force),
        "force_name": force.name if force else None,
        "region": force.region if force else None,
        "lat": m.lat if m else r.lat,
        "lon": m.lon if m else r.lon,
        "date": (m.date if m else r.date),
        "month_day": (m.month_day if m else r.month_day),
        "type": (m.type if m else r.type),
        "attempted": (m.attempted if m else r.attempted),
        "store": (m.store if m else r.store),
        "mo": list(m.mo) if m else [],
    }
