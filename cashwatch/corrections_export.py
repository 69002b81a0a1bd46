"""``cashwatch corrections export``: the articles an analyst's corrections touched, labelled in the
corpus format of ``shared/eval/README.md`` (the format of ``dev.jsonl``), so they can join the training
data of the analyser's models::

    {"id", "url", "source", "published", "title", "text",
     "label": {"kind", "incidents": [{"type", "attempted", "town", "force", "country", "date",
                                      "cluster", "role"}], "notes"}}

The label is what cashwatch now holds after the corrections: each mention's incident as corrected
(type, attempted, town, force, date win over the analysis), ``cluster`` the incident id it is linked
to now (merges join clusters, splits part them), and the attacks of dismissed incidents left out; an
article all of whose attacks were dismissed is ``other`` (not an ATM or CIT attack).
"""
from __future__ import annotations

import json

from cashwatch.models import Incident
from cashwatch.places_table import country_code


def _touched(store) -> set[str]:
    ids: set[str] = set()
    for st, c in store.corrections(status="applied"):
        ids.update(x for x in (c.incident_id, c.other_id) if x)
        for e in json.loads(st["result"] or "[]"):
            ids.add(e["incident_id"])
    return {store.resolve(i) for i in ids}


def _holders(store, article_id: str) -> list[Incident]:
    found = [store.get_incident(i) for i in store.incidents_of_article(article_id)]
    return [i for i in found if i is not None]


def export_records(store, *, all_articles: bool = False) -> list[dict]:
    """The labelled records, in publication order (see the module docstring)."""
    if all_articles:
        article_ids = [a for a, _, _ in store.analyses()]
    else:
        article_ids = []
        for iid in sorted(_touched(store)):
            inc = store.get_incident(iid)
            for r in inc.reports if inc else ():
                if r.article_id not in article_ids:
                    article_ids.append(r.article_id)
    records = []
    for aid in article_ids:
        art = store.article(aid)
        if art is None:
            continue
        analysis = store.get_analysis(aid)
        holders = _holders(store, aid)
        labelled, dismissed = [], 0
        for i, m in enumerate(analysis.incidents if analysis else []):
            inc = next((h for h in holders for r in h.reports if r.article_id == aid and r.mention == i), None)
            if inc is None:
                continue
            report = next(r for r in inc.reports if r.article_id == aid and r.mention == i)
            if inc.dismissed:
                dismissed += 1
                continue
            labelled.append({"type": inc.type, "attempted": inc.attempted, "town": inc.town, "force": inc.force,
                             "country": country_code(inc.country, inc.force),
                             "date": inc.date.isoformat() if inc.date else None,
                             "cluster": inc.incident_id, "role": report.role})
        kind = art["kind"]
        if dismissed and not any(x["role"] == "primary" for x in labelled) and kind in ("incident", "court"):
            kind = "other"  # every attack it reported was dismissed: not an ATM or CIT attack
        notes = ["exported from cashwatch after an analyst's corrections"]
        if dismissed:
            notes.append(f"{dismissed} attack(s) dismissed as not an ATM or CIT attack")
        records.append({"id": aid, "url": art["url"], "source": art["source"], "published": art["published"],
                        "title": art["title"], "text": art["text"],
                        "label": {"kind": kind, "incidents": labelled, "notes": "; ".join(notes)}})
    records.sort(key=lambda r: (r["published"] is None, r["published"] or ""))
    return records
