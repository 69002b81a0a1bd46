"""Named features: what the rules and lexicons found, described as numbers a learned model can weigh.

Candidate generation stays in the analyser (attack sentences, place mentions, dates, candidate
incidents); these functions only describe what it proposed. Each feature has a name that says what it
measures, so a decision can be explained by the features that moved it (:meth:`LinearModel.explain`).
Counts are ``log1p`` so that a long article does not outweigh a short one by length alone.

* :func:`kind_features` — the whole article: is it an attack told as news, a court report, a campaign
  piece, or something else?
* :func:`mention_features` — one candidate incident: is it an attack this article reports (primary),
  or one it only mentions, or not a scene at all?

Pure functions over the analyser's reading of an article (duck-typed ``_Sentence`` objects: ``text``,
``low``, ``bits``, ``attack``, ``is_title``, ``past``, ``fresh``, ``general``, ``counts``, ``dates()``).
"""
from __future__ import annotations

import math
from datetime import date
from typing import Any, Sequence

from cashwatch.processors import classify as C
from cashwatch.processors.lexicon import found

KINDS = ("incident", "court", "campaign", "other")
TYPES = ("atm_theft", "atm_explosive", "atm_break_in", "cit_robbery")
_NEAR = ("fraud", "fees", "till", "accident", "drugs", "farm")
_STAGES = ("sentenced", "convicted", "charged", "arrest")
_DAY_KINDS = frozenset({"numeric", "dmy", "mdy", "overnight", "today", "yesterday", "weekday"})


def _log(n: float) -> float:
    return math.log1p(max(0.0, n))


def _count(rx: Any, sentences: Sequence[Any]) -> int:
    return sum(len(rx.findall(s.low)) for s in sentences if found(rx, s.low, s.bits))


def _age_days(day: date | None, published: date | None) -> float | None:
    if day is None or published is None:
        return None
    return float((published - day).days)


def kind_features(sentences: Sequence[Any], published: date | None, fresh: Sequence[bool],
                  rule_kind: str) -> dict[str, float]:
    """The article-level signals (``fresh[i]``: whether attack sentence ``i``, in order, is told as news
    by the analyser's news-time rule; ``rule_kind``: what the hand-written kind rules say).

    attacks, strong_attacks, fresh_attacks: attack sentences (an ATM or CIT target and an attack word),
    those with a decisive attack word, those told with a news-time marker; attack_in_title,
    strong_in_title, attack_in_lead (first three sentences); past_share: attack sentences set in the
    past; general: sentences about attacks in general; camp_*: campaign words (operations, advice,
    statistics) in all, the lead, the headline; court_<stage>: court words by stage in all, court_lead
    in the first four sentences, title_stage/head_stage: the furthest stage the headline / first two
    sentences name (0-1); near_<family>: near-miss words (card fraud, fees, tills, accidents, drugs,
    farm machinery), near_title: one in the headline; atm_words, cit_words; doc_atm_attack, doc_cit_robbery:
    the target and an attack word anywhere in the article (the fewer of the two counts); title_target,
    title_attack: the headline names a target, an attack; sentences; dated_attack: an attack sentence or
    the next gives a day (a date, a weekday, "overnight"); old_attack:
    an attack sentence dated more than 30 days before publication, recent_attack: within 10 days;
    rule_<kind>: the rules' verdict.
    """
    n = len(sentences)
    attacks = [s for s in sentences if s.attack]
    title = sentences[0] if sentences and sentences[0].is_title else None
    f: dict[str, float] = {
        "attacks": _log(len(attacks)),
        "strong_attacks": _log(sum(1 for s in attacks if s.attack.strong)),
        "fresh_attacks": _log(sum(1 for x in fresh if x)),
        "attack_in_title": float(bool(title is not None and title.attack)),
        "strong_in_title": float(bool(title is not None and title.attack and title.attack.strong)),
        "attack_in_lead": float(any(s.attack for s in sentences[:3])),
        "past_share": (sum(1 for s in attacks if s.past) / len(attacks)) if attacks else 0.0,
        "general": _log(sum(1 for s in sentences if s.general)),
        "sentences": _log(n),
    }
    total = [0] * 5
    lead_total = [0] * 5
    for i, s in enumerate(sentences):
        for k, v in enumerate(s.counts):
            total[k] += v
            if i < 4:
                lead_total[k] += v
    f["camp_words"] = _log(total[0])
    f["camp_lead"] = _log(lead_total[0])
    f["camp_title"] = float(bool(title is not None and title.counts[0]))
    for stage, v in zip(_STAGES, total[1:]):
        f[f"court_{stage}"] = _log(v)
    f["court_lead"] = _log(sum(lead_total[1:]))
    f["title_stage"] = C.STAGE_RANK.get(title.stage or "", 0) / 4 if title is not None else 0.0
    head_counts = [sum(s.counts[k] for s in sentences[:2]) for k in range(5)]
    f["head_stage"] = C.STAGE_RANK.get(C.stage_of(tuple(head_counts)) or "", 0) / 4
    for fam in _NEAR:
        f[f"near_{fam}"] = _log(_count(C.NEAR_MISS[fam], sentences))
    f["near_title"] = float(title is not None and any(found(C.NEAR_MISS[fam], title.low, title.bits)
                                                      for fam in ("fraud", "fees", "till")))
    f["atm_words"] = _log(_count(C.ATM, sentences))
    f["cit_words"] = _log(_count(C.CIT_STRONG, sentences))
    # the target and the attack anywhere in the article, not only in one sentence (a story told across
    # sentences: "the guard was loading the machine" ... "one man grabbed the cash box")
    strong = sum(1 for s in sentences if found(C.ATTACK_STRONG, s.low, s.bits))
    f["doc_atm_attack"] = _log(min(_count(C.ATM, sentences), strong))
    f["doc_cit_robbery"] = _log(min(_count(C.CIT_STRONG, sentences), _count(C.CIT_ROBBERY, sentences)))
    f["title_target"] = float(title is not None and (found(C.ATM, title.low, title.bits) or
                                                     found(C.CIT, title.low, title.bits)))
    f["title_attack"] = float(title is not None and found(C.ATTACK, title.low, title.bits))
    ages = [a for s in attacks for h in s.dates(published) if (a := _age_days(h.day, published)) is not None]
    # an attack given a day ("on November 8", "on Tuesday", "overnight"), in its sentence or the next: one
    # specific attack, told as news or followed up, rather than attacks in general
    f["dated_attack"] = float(any(h.kind in _DAY_KINDS for s in attacks
                                  for x in sentences[s.index:s.index + 2] for h in x.dates(published)))
    f["old_attack"] = float(any(a > 30 for a in ages))
    f["recent_attack"] = float(any(-1 <= a <= 10 for a in ages))
    for k in KINDS:
        f[f"rule_{k}"] = float(rule_kind == k)
    return f


def mention_features(*, kind: str, index: int, groups: int, first_sentence: int, sentences: int,
                     own: Sequence[Any], rule_role: str, itype: str, town: str | None, force: str | None,
                     country: str | None, day: date | None, published: date | None, top_force: str | None,
                     force_share: float, hint: str | None, town_mentions: int, dated_old: bool) -> dict[str, float]:
    """The signals about one candidate incident of an article.

    court: the article is a court report; first, position (where its first sentence is, 0-1), groups
    (candidates in the article), own_sentences, strong, fresh, past, general, in_title: its own
    sentences; listed: named only in a list of scenes (no attack word of its own); rule_primary: the
    rules call it the news; dated, age (days before publication, log), dated_old (over ten days);
    has_town, force_only, abroad; top_force: its force has most of the article's place evidence,
    force_share: that force's share of it, hint_match: the feed's own force; town_mentions: sentences
    naming its town; type_<type>.
    """
    age = _age_days(day, published)
    f = {
        "court": float(kind == "court"),
        "first": float(index == 0),
        "position": first_sentence / max(1, sentences),
        "groups": _log(groups),
        "own_sentences": _log(len(own)),
        "strong": float(any(s.attack is not None and s.attack.strong for s in own)),
        "fresh": float(any(s.fresh and not s.past for s in own)),
        "past": float(any(s.past for s in own if not s.is_title)),
        "general": float(any(s.general for s in own)),
        "in_title": float(any(s.is_title for s in own)),
        "listed": float(all(s.attack is None or (s.attack.type is None and not s.attack.strong) for s in own)),
        "rule_primary": float(rule_role == "primary"),
        "dated": float(day is not None),
        "age": _log(age) if age is not None and age > 0 else 0.0,
        "dated_old": float(dated_old),
        "has_town": float(town is not None),
        "force_only": float(town is None and force is not None),
        "abroad": float(bool(country) and country != "GB"),
        "top_force": float(force is not None and force == top_force),
        "force_share": force_share,
        "hint_match": float(force is not None and force == hint),
        "town_mentions": _log(town_mentions),
    }
    for t in TYPES:
        f[f"type_{t}"] = float(itype == t)
    return f


ATM_TYPES = ("atm_theft", "atm_explosive", "atm_break_in")


def type_features(rule_type: str, own: Sequence[Any], story: Sequence[Any], title: Any | None,
                  single: bool) -> dict[str, float]:
    """Signals about how an ATM was attacked, for the type model (``tx_`` names): which method lexicons
    (explosive, whole-machine theft, a bare explosion, break-in, the generic "stolen") match the
    incident's own sentences (``own_<lexicon>``), the whole story (``story_<lexicon>``, log count) and
    the headline (``title_<lexicon>``); ``single``: the article reports one attack; ``rule_<type>``:
    the type the lexicons' priority order gives."""
    f: dict[str, float] = {"tx_single": float(single)}
    for name, _, rx in C.ATM_TYPES:
        f[f"tx_own_{name}"] = float(any(found(rx, s.low, s.bits) for s in own))
        f[f"tx_story_{name}"] = _log(sum(1 for s in story if found(rx, s.low, s.bits)))
        f[f"tx_title_{name}"] = float(title is not None and found(rx, title.low, title.bits))
    for t in ATM_TYPES:
        f[f"tx_rule_{t}"] = float(rule_type == t)
    return f


# A court report is about past attacks: age and order mean something else there than in news
_COURT_SPLIT = ("age", "dated_old", "past", "first", "position", "listed", "extra", "general", "rule_primary",
                "scene_prep", "court_sentence", "attack_sentence", "fresh", "strong", "in_title")


def split_by_kind(f: dict[str, float]) -> dict[str, float]:
    """``f`` with the features whose meaning depends on the article's kind also given per kind
    (``<name>_court``), so that a linear model can weigh them differently in court reports."""
    court = f.get("court", 0.0)
    out = dict(f)
    for name in _COURT_SPLIT:
        out[f"{name}_court"] = f.get(name, 0.0) * court
    return out
