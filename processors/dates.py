"""Dates: find when something happened, resolved against the article's published date.

Pure functions. :func:`find_dates` lists every date expression in a text with the day it fixes
(or None when it names a day that the published date cannot fix, e.g. "on Tuesday" with no
published date); :func:`resolve_date` gives the first fixed one.

Handled: explicit dates ("19 August 2024", "August 19, 2024", "19/08/2024"), police references
("quote 604 of 11/04/20", "log 123 of 20 March"), day and month without a year ("on Monday
February 2", "yesterday (October 31)"; the year is the published one, or the one before when that
would put it in the future), "today" / "this morning" / "earlier today" / "in the early hours",
"yesterday" / "last night", weekdays ("on Tuesday", "early hours of Sunday", "last Friday":
the latest such day on or before publication) and ranges ("between Sunday and Monday", "overnight
on Saturday into Sunday": the later day, when ATM attacks happen). Vague spans ("last week",
"earlier this year") fix nothing and are not listed. A day and month without a year that nothing
fixes (no published date) keep their calendar day (``DateHit.month_day``): "on August 16" and "on
November 23" are still two different attacks.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from cashwatch.processors.lexicon import lexicon, matches, word_bits

MONTHS = {m: i for i, m in enumerate(
    "january february march april may june july august september october november december".split(), 1)}
MONTHS.update({m[:3]: i for m, i in list(MONTHS.items())})
MONTHS["sept"] = 9
WEEKDAYS = {d: i for i, d in enumerate("monday tuesday wednesday thursday friday saturday sunday".split())}

_MON = r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_MON2 = _MON.replace("?P<mon>", "?P<mon2>")
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_DAY2 = r"(?P<day2>[0-3]?\d)(?:st|nd|rd|th)?"
_WD = r"(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_WD2 = r"(?P<wd2>monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_YEAR = r"(?P<year>(?:19|20)\d\d)"

_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("numeric", lexicon(r"\b(?P<d>[0-3]?\d)[/.](?P<m>[01]?\d)[/.](?P<y>(?:19|20)?\d\d)\b")),
    ("dmy", lexicon(rf"\b(?:{_WD},?\s+)?{_DAY}(?:\s+of)?\s+{_MON}(?:,?\s+{_YEAR})?\b")),
    ("mdy", lexicon(rf"\b(?:{_WD2},?\s+)?{_MON2}\s+{_DAY2}\b(?:,?\s+{_YEAR.replace('year', 'year2')})?")),
    ("range", lexicon(rf"\b(?:between|from)\s+(?:(?:the\s+)?(?:late\s+|early\s+)?)?{_WD}(?:\s+(?:night|evening|morning|afternoon))?"
                      rf"\s+(?:and|into|to)\s+(?:the\s+)?(?:early\s+hours\s+of\s+)?{_WD2}\b")),
    ("overnight", lexicon(rf"\bovernight\s+(?:on\s+)?{_WD}(?:\s+night)?\s+(?:into|and)\s+{_WD2}\b")),
    ("today", lexicon(r"\b(?:today|this\s+(?:morning|afternoon|evening|lunchtime)|tonight|earlier\s+today"
                      r"|early\s+hours\s+of\s+(?:today|this\s+morning))\b")),
    ("yesterday", lexicon(r"\b(?:yesterday|last\s+night)\b")),
    ("weekday", lexicon(rf"\b(?P<last>last\s+)?{_WD}(?:'s)?\b")),
]
# the patterns whose every match holds a digit (a day of the month): a text without any skips them
# (the others are skipped by their word gates: most sentences name no month, range or weekday)
_DIGIT_KINDS = frozenset({"numeric", "dmy", "mdy"})
# "(last) Tuesday week", "every Monday", "on Mondays" are not a day.
_WD_NOT_DAY = re.compile(r"^(?:s\b|\s+week\b|\s+to\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b)", re.I)


_DIGIT = re.compile(r"\d")
_STAMP = re.compile(r"\b(?:published|updated|posted|modified)\s*(?:on|at)?\s*:?\s*(?:\d{1,2}[:.]\d\d(?:\s*[ap]m)?,?\s*)?$")


@dataclass(frozen=True, slots=True)
class DateHit:
    start: int
    end: int
    kind: str  # numeric | dmy | mdy | range | overnight | today | yesterday | weekday | stamp (a page's own date)
    day: date | None  # None: a day was named but the published date cannot fix it
    year_inferred: bool = False  # a day and month without a year: the year came from publication
    # (month, day) of a day and month named without a year that nothing fixes ("on August 16" in an
    # undated report): not a day, but it still tells two attacks apart
    month_day: tuple[int, int] | None = None


def _safe(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _infer_year(month: int, day: int, published: date | None) -> date | None:
    if published is None:
        return None
    d = _safe(published.year, month, day)
    if d is None:
        return None
    if d > published + timedelta(days=2):
        d = _safe(published.year - 1, month, day)
    return d


def _weekday_on_or_before(wd: int, published: date | None, strictly_before: bool = False) -> date | None:
    if published is None:
        return None
    delta = (published.weekday() - wd) % 7
    if strictly_before and delta == 0:
        delta = 7
    return published - timedelta(days=delta)


def find_dates(text: str, published: date | None, bits: int | None = None) -> list[DateHit]:
    """Every date expression in ``text``, in order, with the day it fixes (see module docstring).
    ``bits``: the :func:`~cashwatch.processors.lexicon.word_bits` of ``text``, if known."""
    low = text.lower()
    digit = _DIGIT.search(text) is not None
    if not (digit or "day" in low or "night" in low or "this " in low):
        return []  # every pattern needs a digit, a day name, today/yesterday, "night" or "this ..."
    if len(low) != len(text):  # a few characters lower-case to two; keep offsets aligned
        low = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    orig, text = text, low  # the patterns are lower-case: matching lower-cased text is much faster than re.I
    if bits is None:
        bits = word_bits(orig)  # (they also serve the lower case: lexicon.word_bits)
    hits: list[DateHit] = []
    taken: list[tuple[int, int]] = []

    def free(s: int, e: int) -> bool:
        return all(e <= a or s >= b for a, b in taken)

    for kind, rx in _PATTERNS:
        if kind in _DIGIT_KINDS and not digit:
            continue
        for m in matches(rx, text, bits):
            s, e = m.span()
            if not free(s, e):
                continue
            day = _resolve(kind, m, published, text, orig)
            if day is False:
                continue
            taken.append((s, e))
            inferred = kind in ("dmy", "mdy") and not (m.groupdict().get("year") or m.groupdict().get("year2"))
            hits.append(DateHit(s, e, kind, day or None, inferred,
                                _month_day(m) if inferred and day is None else None))
    hits.sort(key=lambda h: h.start)
    # "Published: 11:08, 20 May 2019", "Date published: 14 April 2009": when the page was published, not an
    # event of the story (a stand-in for publication, never an attack's day)
    if digit and ("publish" in low or "updated" in low or "posted" in low or "modified" in low):
        hits = [DateHit(h.start, h.end, "stamp", h.day, h.year_inferred, h.month_day)
                if h.kind in _DIGIT_KINDS and _STAMP.search(text, max(0, h.start - 40), h.start) else h for h in hits]
    return hits


def _month_day(m: re.Match) -> tuple[int, int] | None:
    """(month, day) of a ``dmy`` or ``mdy`` match (one :func:`_resolve` accepted as a date)."""
    g = m.groupdict()
    month = MONTHS.get((g.get("mon") or g.get("mon2") or "").lower().rstrip("."))
    day = int(g.get("day") or g.get("day2") or 0)
    return (month, day) if month is not None and _safe(2000, month, day) else None


def _resolve(kind: str, m: re.Match, published: date | None, text: str, orig: str):
    """The day of one match, None when unfixable, False when the match is not a date at all."""
    g = m.groupdict()
    if kind == "numeric":
        d, mo, y = int(g["d"]), int(g["m"]), int(g["y"])
        if y < 100:
            y += 2000
        if not (1 <= mo <= 12) or not (1990 <= y <= 2100):
            return False
        return _safe(y, mo, d) or False
    if kind in ("dmy", "mdy"):
        mon = (g.get("mon") or g.get("mon2") or "").lower().rstrip(".")
        day = int(g.get("day") or g.get("day2"))  # type: ignore[arg-type]
        year = g.get("year") or g.get("year2")
        month = MONTHS.get(mon)
        if month is None or not 1 <= day <= 31:
            return False
        if mon == "may" and kind == "mdy" and not (g.get("wd2") or year):
            # lower-case "may 3" is the verb ("they may 3D-print"); "May 3" is the month
            if orig[m.start("mon2"):m.start("mon2") + 3] != "May":
                return False
        if year:
            return _safe(int(year), month, day) or False
        return _infer_year(month, day, published)
    if kind in ("range", "overnight"):
        return _weekday_on_or_before(WEEKDAYS[g["wd2"].lower()], published)
    if kind == "today":
        return published
    if kind == "yesterday":
        return published - timedelta(days=1) if published else None
    if kind == "weekday":
        if _WD_NOT_DAY.match(text[m.end():m.end() + 12]):
            return False
        before = text[max(0, m.start() - 6):m.start()].lower()
        if before.endswith("every ") or before.endswith("next "):
            return False
        return _weekday_on_or_before(WEEKDAYS[g["wd"].lower()], published, strictly_before=bool(g.get("last")))
    return False


def resolve_date(text: str, published: date | None) -> date | None:
    """The first day ``text`` fixes against ``published``, or None."""
    for hit in find_dates(text, published):
        if hit.day is not None:
            return hit.day
    return None
