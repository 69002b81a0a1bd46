"""Analyse one article: its kind and the incidents it reports, placed and dated.

:class:`Analyser` is the domain core's entry point for incident intelligence; both runtimes and
``cashwatch analyse`` call :meth:`Analyser.analyse` (through ``AnalysisPipeline``). Pure: no I/O
after construction (the gazetteer is loaded once, in under a second).

How an article is read::

    title + body ──► clean (drop "READ MORE", related headlines, repeated captions)
                 ──► sentences ──► attack sentences (classify.attack_sentence)
                 ──► kind: court / campaign / incident / other (article-level vocabulary)
                 ──► (incident, court only) place mentions (places.Gazetteer.scan) + context
                 ──► incidents: attack sentences grouped by scene, typed, placed, dated,
                     primary or reference

Grouping rules: a sentence naming a new scene starts a new incident when it says so ("in a
separate incident", "a fourth raid", its own date, another force's area) or lists several scenes
("at Mill Road, Dungiven and Main Street, Tempo"); otherwise it continues the current one, and
"the raid in X" sentences only fill in its place. A town named as where someone lives, where the
getaway car was found, or a suburb next to its city ("Northwood, Stoke-on-Trent") is not a new
scene. The first attack of a news article is primary; later ones told with past markers or
dated more than ten days before publication are references. ``incident_id`` is left to the linker.

Placing an incident (the linker depends on it: a report without its town is a report it cannot
join): an incident placed so far only by its county ("a shop in Co Antrim") takes a town inside that
force named later as a scene ("in the village of Ahoghill", "the theft happened in Dungiven"); one
with no place at all takes the nearest scene named anywhere after it, as late as the closing appeal
("information about the incident in Brandon"), skipping far-off sentences about past or general
attacks and where the case is heard; failing that, the headline's town (for the story's first
attack), then a settlement the gazetteer lacks named after a street or as "the village of X"
("Squires Lane, South Shore"). The store is the one named with the machine ("a Co-op ATM") or the
scene's town ("a Tesco Express in nearby Hinckley") before the first one its own sentences name.
Dating: a sentence saying when "the theft happened" is read before others (captions, video dates).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from cashwatch.models import Analysis, Article, IncidentMention
from cashwatch.places_table import region_of
from cashwatch.processors import classify as C
from cashwatch.processors.dates import MONTHS, DateHit, find_dates
from cashwatch.processors import features as F
from cashwatch.processors.model import Models, default_models
from cashwatch.processors.lexicon import found, gate, lexicon, matches, word_bits, word_char
from cashwatch.processors.places import Gazetteer, Mention, Place, PlaceContext, default_gazetteer, distance_km

_BOILERPLATE = re.compile(
    r"^\s*(?:READ\s+(?:MORE|SOME\s+MORE|ALSO|NEXT)\b|Read\s+(?:more|also|next)\b|Related\s*(?:stories|articles|content|:)|"
    r"More\s+(?:on\s+this\s+story|stories|from)\b|Most\s+(?:read|popular)\b|Also\s+read\b|See\s+also\b|"
    r"Sign\s+up\b|Subscribe\b|Follow\s+us\b|Share\s+(?:this|on)\b|Have\s+your\s+say\b|Advertisement\b|"
    r"(?:Image|Picture|Photo|Photograph)(?:\s+caption)?\s*[:|]|Image\s+source|Media\s+caption|Copyright\b|"
    r"Click\s+(?:here|to\s+play|for\s+more)\b|Watch\s*:|WATCH\s*:|Video\s*:|Listen\s*:|Top\s+stories\b|You\s+may\s+also\s+like\b|"
    # the heads of a list of other stories' headlines, or of readers' comments
    r"Related\b|Most\s+(?:viewed|shared|commented)\b|Latest\s+(?:news|stories|headlines)\b|Trending\b|Recommended\b|"
    r"More\s+like\s+this\b|In\s+other\s+news\b|Don'?t\s+miss\b|Editor'?s\s+picks?\b|Comments\s*(?::|\(|$|are\s+closed))", re.I)
# where a sentence ends: its closing punctuation (and quote), the whitespace after it (group 1, dropped between
# the sentences) and then a capital, digit or opening quote. (The punctuation first: the regex engine skips
# straight to it, where a pattern that begins at the whitespace is tried at every space)
_SENT_END = re.compile(r"[.!?…](?:(?<=[.!?])[\"”’'])?(\s+)(?=[\"“‘'(]?[A-Z0-9£])")
_ABBREV = lexicon(r"\b(?:Mr|Mrs|Ms|Dr|St|Det|Sgt|Insp|Supt|Con|Ch|No|Co|Rd|Ave|approx|Jan|Feb|Aug|Sept|Oct|Nov|Dec|[A-Z])\.$")
_STORE = lexicon(
    r"\b(?:(?:the\s+)?(?:Tesco(?:\s+(?:Express|Extra|Metro))?|Co-?op(?:erative)?|Sainsbury'?s(?:\s+Local)?|Asda|"
    r"Morrisons|Aldi|Lidl|Spar|SPAR|Londis|Nisa(?:\s+Local)?|Costcutter|Premier|Budgens|One\s+Stop|Centra|Mace|Eurospar|"
    r"McColl'?s|Post\s+Office|Lloyds(?:\s+TSB)?|NatWest|Barclays|HSBC|Santander|Nationwide|TSB|Halifax|"
    r"Bank\s+of\s+Scotland|Royal\s+Bank\s+of\s+Scotland|RBS|Ulster\s+Bank|Danske\s+Bank|Bank\s+of\s+Ireland|AIB|"
    r"Texaco|Esso|Shell|BP|Applegreen|Jet|Gulf|Greggs|Boots|Iceland|Farmfoods|B&M|Poundland))\b")
_STREET = lexicon(r"\b(?:[A-Z][a-z']+\s+){1,2}(?:Road|Street|Lane|Avenue|Way|Drive|Close|Parade|Square|Place|"
                  r"Crescent|Terrace|Row|Walk|Circle|Gate|Hill|Broadway|Precinct|Centre)\b")
# a settlement after one of these is the scene; after "from"/"of" it is often where a person lives
_SCENE_PREP = lexicon(r"\b(?:in|at|near|outside|on\s+the\s+outskirts\s+of|village\s+of|town\s+of|city\s+of|"
                      r"area\s+of|centre\s+of|suburb\s+of|district\s+of|heart\s+of)\s+(?:the\s+|nearby\s+)?$", re.I)
# where a person lives ("Smith, 31, of Mere Lane, Leigh", "a man from Leigh"), not the scene
_RESIDENT = lexicon(r"(?:\d{2},?\s+(?:of|from)\s+(?:[\w'’]+[\s,]+){0,4}$|,\s+(?:of|from)\s+(?:[\w'’]+[\s,]+){0,4}$|"
                    r"\b(?:man|woman|men|women|boy|girl|teenager|youth|pair|duo|brothers|gang|resident|native|lad|"
                    r"father|mother|people|persons?|suspects?|offenders?|yobs?|thugs?|crooks?|robbers?|raiders?|burglars?|thie(?:f|ves)|"
                    r"criminals?|accomplices?|drivers?|defendants?)\s+(?:\w+\s+)?(?:from|of)\s+$|"
                    r"\bwho\s+lives?\s+in\s+$|\bbased\s+in\s+$|\bhome\s+in\s+$)", re.I)
# (lower-case patterns, matched against lower-cased text: much faster than re.I)
_ANAPHOR = lexicon(r"\b(?:the|this|that)\s+(?:\w+\s+)?(?:raid|attack|theft|robbery|break-in|burglary|explosion|"
                   r"incident|blast|heist|crime)\b|\b(?:happened|took\s+place|occurred|were\s+called|was\s+reported|"
                   r"reported\s+to\s+police)\b")
_POLICE_REF = lexicon(r"\b(?:reference|ref\.?|log|incident|crime|occurrence|serial|number|quote|quoting)\b[^.]{0,40}?"
                      r"(?<![\d/])(?P<d>[0-3]?\d)/(?P<m>[01]?\d)/(?P<y>(?:20)?\d\d)\b", re.I)
# the same with the month in words: "quoting incident number 1089 of 20 September 2017"
_POLICE_REF_WORDS = lexicon(r"\b(?:reference|ref\.?|log|incident|crime|occurrence|serial|number|quote|quoting)\b[^.]{0,40}?"
                            r"\d\s+of\s+(?P<d>[0-3]?\d)(?:st|nd|rd|th)?\s+(?P<mon>[a-z]{3,9})\.?,?\s+(?P<y>(?:19|20)\d\d)\b", re.I)
# a court's account of the offence: "the court heard that", "jurors were told that", "prosecutors said that",
# "the court heard he ..."
_TOLD_THAT = lexicon(r"\b(?:(?:heard|told|said)\s+that|heard)\b")
_TOLD_REACH = 60  # characters from "heard that" to the offence's day: "heard he threatened the guard with a hammer on ..."
# a sentence that starts another incident rather than continuing the current one
_SAME_DAY = lexicon(r"\b(?:on\s+)?the\s+(same|following|next)\s+(?:day|night|date|morning|evening)\b")
_ORIGIN_AFTER = re.compile(r"(?:-based)?\s+(?:man|woman|men|women|pair|duo|gang|couple|teenager|youth|thief|thieves|"
                           r"robbers?|raiders?|crooks?|yobs?|criminals?|burglars?|brothers|trio|family|father|mother|"
                           r"lad|boy|girl|resident|native)\b", re.I)
_GENERAL = lexicon(r"\b(?:a\s+number\s+of|series\s+of|spate\s+of|string\s+of|wave\s+of|several|numerous|"
                   r"(?:incidents|attacks|raids|thefts)\s+(?:have|has)\s+(?:occurred|taken\s+place|happened|been)|"
                   r"across\s+the\s+(?:area|region|county|country|uk)|in\s+recent\s+(?:days|weeks|months|years)|"
                   r"so\s+far\s+this\s+year|since\s+the\s+(?:start|beginning))\b")
_SEPARATE = lexicon(r"\b(?:in\s+a\s+separate|separate\s+(?:incident|attack|raid|robbery)|a\s+short\s+time\s+later|"
                    r"(?:minutes|hours)\s+later|later\s+that\s+(?:day|morning|night|evening)|"
                    r"a\s+second\s+(?:attack|robbery|raid|incident|theft))\b")
# "in locations including A, B and C", "sites such as D": places that are scenes of the attacks told
_INCLUDING = lexicon(r"\b(?:including|includ(?:ed|es)|such\s+as|namely|among\s+them)\s+(?:in\s+|at\s+)?$")
# where a suspect was arrested, held or tried: not a scene
_CUSTODY = lexicon(r"\b(?:arrest\w*|detained|held|appeared|appear|remanded|custody|bail\w*|court|magistrates|"
                   r"sentenced|jailed|charged|raided|searched|addresses|homes?|warrants?)\b[^.]{0,40}$", re.I)
_LOCATOR = re.compile(r",?\s*(?:near(?:\s+to)?|outside|close\s+to|just\s+outside)\s+", re.I)
# a line of a list of addresses: a town and county, or a date in brackets at its end
_ADDRESS_LINE = re.compile(r"\(\s*\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\s*\)|^\s*[-•*]\s")
# the machine opened where it stands (for an attack whose method no type lexicon names)
_OPENED = lexicon(r"\b(?:burgl\w+|bro(?:ke|ken)\s+into|break[- ]?ins?|damag\w+|forc(?:ed|ing)|tamper\w*|"
                  r"prised|jemm\w+|burn\w*\s+(?:\w+\s+){0,2}(?:through|into)|gain\w*\s+access)\b")
_STRUCK = lexicon(r"\b(?:struck|targeted|hit|raided|attacked|blew\s+up|blown\s+up)\b")
_LIST_GAP = re.compile(r"\s*(?:,|and|or|&)\s*(?:(?:and|or)\s+)?(?:(?:north|south|east|west|central)\s+)?")
_LIST_LEAD = re.compile(r"(?:These|They|Others|The\s+others?|A\s+further|Further|The\s+(?:other|remaining)|"
                        r"The\s+(?:attacks|raids|thefts|incidents|break-ins))\b")
_STREET_BEFORE = lexicon(r"\b(?:Road|Street|Lane|Avenue|Way|Drive|Close|Parade|Square|Place|Crescent|Terrace|Row|"
                         r"Walk|Centre|Precinct|Estate)\s*,\s*$")
_STREET_TOWN = lexicon(r"\b(?:Road|Street|Lane|Avenue|Way|Drive|Close|Parade|Square|Crescent|Terrace|Row|Walk)"
                       r"\s*,\s*([A-Z][a-z]+(?:[- ][A-Z][a-z]+)?)\b")
_PLACE_LEADERS_WORDS = frozenset("North South East West Upper Lower Great Little Old New Central Greater Mid The "
                                  "Village Town Suburb District Hamlet Road Street Lane Avenue Way Drive".split())
_NOT_TOWN = frozenset({"police", "officers", "detectives", "the", "and", "but", "which", "where", "while", "at",
                       "in", "on", "near", "who", "he", "she", "they", "it", "a", "an", "all"})
_AFTERMATH = lexicon(r"\b(?:found|abandoned|dumped|recovered|burnt|burned|torched|alight|on\s+fire|discovered|"
                     r"arrested|crashed|towards|direction\s+of|heading\s+for|headed\s+for|stopped)\b[^.]{0,30}$",
                     re.I)
_EVENT_WORD = lexicon(r"\b(?:raids?|attacks?|incidents?|thefts?|robber(?:y|ies)|break-ins?|burglar(?:y|ies)|explosions?|bombings?|"
                      r"blasts?|heists?)\b")
_NEW_EVENT = lexicon(r"\b(?:separate|another|second|third|fourth|fifth|final|first\s+(?:\w+\s+)?(?:incident|raid|attack|bombing)|also|earlier|"
                     r"later|similar|same\s+(?:night|day|morning|date)|following\s+(?:day|night)|next\s+day|further|"
                     r"other|latest|previous|a\s+short\s+time\s+later|meanwhile|before\s+that|days?\s+(?:before|after)|"
                     r"weeks?\s+(?:before|after)|two\s+(?:raids|attacks|incidents))\b")
_LISTED_SCENE = lexicon(r"\b(?:in|at|near|outside)\s+(?:the\s+)?(?:[A-Z][\w'’-]*\s*){1,4},\s*$")
_WHEN = lexicon(r"\b(?:the|this)\s+(?:\w+\s+)?(?:raid|attack|theft|robbery|break-in|explosion|blast|heist|incident)"
                r",?\s+(?:which\s+)?(?:happened|took\s+place|occurred)\b", re.I)
_TYPE_RANK = {"atm_explosive": 3, "atm_theft": 2, "atm_break_in": 1, "cit_robbery": 0}
_REFERENCE_AGE = timedelta(days=10)


@dataclass(eq=False)  # one object per sentence: compared by identity ("x not in g.sentences")
class _Sentence:
    """One sentence of the cleaned article (the headline is sentence 0 when there is one)."""

    index: int
    text: str
    attack: C.AttackSentence | None
    mentions: list[Mention]
    is_title: bool = False
    # lexicon results, computed on first use (most sentences never need most of them)
    _fresh: bool | None = None
    _past: bool | None = None
    scene: tuple | None = None  # (place, area mention, is scene), see Analyser._scene

    @property
    def fresh(self) -> bool:
        if self._fresh is None:
            self._fresh = C.is_fresh(self.text, self.bits)
        return self._fresh

    _low: str | None = None
    _bits: int | None = None
    _general: bool | None = None
    _when: bool | None = None

    @property
    def low(self) -> str:
        """The text in lower case (the lower-case lexicons read it several times)."""
        if self._low is None:
            self._low = self.text.lower()
        return self._low

    @property
    def bits(self) -> int:
        """The lexicons the text or :attr:`low` may match (:func:`cashwatch.processors.lexicon.word_bits`):
        the others are not run on them."""
        if self._bits is None:
            self._bits = word_bits(self.text)
        return self._bits

    @property
    def general(self) -> bool:
        """About attacks in general ("a spate of raids across the county"), not one attack."""
        if self._general is None:
            self._general = found(_GENERAL, self.low, self.bits)
        return self._general

    @property
    def when(self) -> bool:
        """Says when the attack happened ("the theft happened early on Sunday")."""
        if self._when is None:
            self._when = found(_WHEN, self.text, self.bits)
        return self._when

    @property
    def past(self) -> bool:
        if self._past is None:
            self._past = found(C.PAST, self.low, self.bits)  # C.is_past on the cached lower-case text
        return self._past

    _counts: tuple[int, ...] | None = None

    @property
    def counts(self) -> tuple[int, ...]:
        """Campaign and court word counts (:func:`classify.word_counts`), added up by :func:`_word_counts`."""
        if self._counts is None:
            self._counts = C.word_counts(self.low, self.bits)
        return self._counts

    @property
    def stage(self) -> str | None:
        """The furthest court stage this sentence names ("jailed" -> sentenced), if any."""
        return C.stage_of(self.counts)

    @property
    def camp(self) -> int:
        return self.counts[0]

    _closed: bool | None = None

    @property
    def closed(self) -> bool:
        """Ends like a sentence (:func:`classify.closes`): no lexicon phrase runs on into the next."""
        if self._closed is None:
            self._closed = C.closes(self.low)
        return self._closed

    _hits: dict | None = None
    _dates: dict | None = None

    def dates(self, published: date | None) -> tuple[DateHit, ...]:
        """:func:`cashwatch.processors.dates.find_dates` of the text against ``published``, remembered:
        an article asks about a sentence often."""
        if self._dates is None:
            self._dates = {}
        hits = self._dates.get(published)
        if hits is None:
            hits = self._dates[published] = tuple(find_dates(self.text, published, self.bits))
        return hits

    def has(self, key: str, rx: re.Pattern) -> bool:
        """Whether lexicon ``rx`` matches the lower-cased text (:func:`classify.found`). Cached under ``key``."""
        if self._hits is None:
            self._hits = {}
        hit = self._hits.get(key)
        if hit is None:
            hit = self._hits[key] = found(rx, self.low, self.bits)
        return hit


@dataclass
class Reading:
    """An article's analysis with the features its decisions were made from (for training and explaining)."""

    analysis: Analysis
    kind_features: dict[str, float]
    candidates: list[tuple[IncidentMention, dict[str, float]]]


@dataclass
class _Days:
    """Per-article dating state: the anchor day and the day of the attack dated last."""

    anchor: date | None
    previous: date | None = None


@dataclass
class _Incident:
    place: Place | None
    area: Mention | None
    sentences: list[_Sentence] = field(default_factory=list)
    support: list[_Sentence] = field(default_factory=list)  # "the raid in Ballynahinch...": place/time only
    key: str = ""
    town: str | None = None  # a settlement the gazetteer does not know ("Main Street, Tempo")
    scene: "_Sentence | None" = None  # the sentence that placed it when none of its own did


_WEB_ADDRESS = re.compile(r"(?:https?://|www\.)\S+")


def clean_lines(text: str) -> list[str]:
    """The story's lines: boilerplate ("READ MORE: ...", related headlines, captions) and
    repeated lines dropped, blank lines removed."""
    out: list[str] = []
    seen: set[str] = set()
    skip_block = False
    for raw in text.splitlines():
        line = raw.strip()
        if "://" in line or "www." in line:
            # a web address is not prose: its slug's words ("...-plots-raid-on-...") are not the story's
            line = _WEB_ADDRESS.sub("", line).strip()
        if not line:
            skip_block = False
            continue
        if _BOILERPLATE.match(line):
            # "READ MORE" alone on a line introduces the related headline on the next line
            skip_block = len(line) < 30
            continue
        if skip_block and len(line) < 160 and not line.endswith((".", "\"", "”")):
            continue  # a headline of the list the line above introduced (the next may be one too)
        skip_block = False
        if line in seen:
            continue
        seen.add(line)
        out.append(line)
    return out


def _pieces(line: str) -> list[str]:
    """``line`` cut at each :data:`_SENT_END`, the whitespace dropped."""
    out = []
    at = 0
    for end in _SENT_END.finditer(line):
        out.append(line[at:end.start(1)])
        at = end.end(1)
    out.append(line[at:])
    return out


def split_sentences(lines: list[str]) -> list[str]:
    """Sentences of the cleaned lines (a line never spans two sentences)."""
    out: list[str] = []
    for line in lines:
        pieces = [p.strip() for p in _pieces(line) if p and p.strip()]
        merged: list[str] = []
        for p in pieces:
            # (the abbreviation ends the piece: only its last eight characters are searched)
            if merged and _ABBREV.search(merged[-1], max(0, len(merged[-1]) - 8)):
                merged[-1] = f"{merged[-1]} {p}"
            else:
                merged.append(p)
        out.extend(merged)
    return out


class Analyser:
    """Rules and lexicons over sentences; see the module docstring for the flow.

    ``gazetteer`` defaults to the packaged one (loaded once per process).
    """

    def __init__(self, gazetteer: Gazetteer | None = None, models: Models | None = None,
                 use_models: bool = True) -> None:
        self.gazetteer = gazetteer or default_gazetteer()
        self.models = models if models is not None else default_models()
        self.use_models = use_models  # False: the hand-written rules alone (training reads their verdicts)

    # -- entry point ------------------------------------------------------------------------------
    def analyse(self, article: Article) -> Analysis:
        """The kind of ``article`` and the incidents it reports (none for campaign and other)."""
        return self.read(article).analysis

    def read(self, article: Article, kind: str | None = None) -> "Reading":
        """:meth:`analyse` with the features behind each decision (what training and ``explain`` need).

        ``kind``: read the article as this kind instead of deciding it (training reads the candidate
        incidents of every labelled incident and court report)."""
        # the target words' beginnings ("atm", "cash", "guard") in the raw headline and body. Reading only drops
        # lines and whitespace, so its sentences hold no others: an article without any names no target and
        # is "other" without being read (much general news); one with some looks for just those in each sentence
        starts = C.target_starts(f"{article.title or ''}\n{article.text}".lower())
        if not starts:
            return Reading(self._result(article, "other", None, []), {}, [])
        sentences = self._sentences(article, starts)
        rule_kind, stage = self._kind(article, sentences)
        # the day relative dates count from: publication, else a police reference or dateline date
        published = article.published or _reference_anchor(sentences) or _dateline(sentences)
        fresh = [self._fresh(s, sentences) for s in sentences if s.attack]
        kind_x = F.kind_features(sentences, published, fresh, rule_kind)
        forced = kind
        kind, kind_p, kind_why = forced or rule_kind, None, {}
        model = self.models.get("kind")
        if forced is None and not about_a_target(kind_x):
            kind = "other"  # no cash machine, no cash-in-transit crew, no attack on either: not about them
        elif model is not None and self.use_models and forced is None:
            kind, kind_p = model.predict(kind_x)
            kind_why = model.explain(kind_x, kind)
        if kind == "court" and stage is None:
            stage = C.stage_of(_word_counts(sentences, len(sentences), {}))
        candidates: list[tuple[IncidentMention, dict[str, float]]] = []
        if kind in ("incident", "court"):
            # places are only needed to place incidents: scan them for relevant articles only
            for s in sentences:
                s.mentions = self.gazetteer.scan(s.text, title_case=s.is_title)
            mentions = [m for s in sentences for m in s.mentions]
            ctx = self.gazetteer.context(mentions, hint=article.place_hint, url=article.url, source=article.source)
            candidates = self._incidents(article, sentences, ctx, kind, published)
        incidents = [self._decide(m, x) for m, x in candidates]
        if kind == "incident" and not any(i.role == "primary" for i in incidents) and incidents and \
                (model is None or not self.use_models) and forced is None:
            # only old attacks are reported: a follow-up about past attacks, not new news
            kind = "campaign" if C.campaign_score(" ".join(s.text for s in sentences), _bits(sentences)) >= 3 \
                else kind
        analysis = self._result(article, kind, stage, incidents)
        if kind_p is not None:
            analysis = analysis.model_copy(update={"kind_confidence": round(kind_p, 3), "kind_signals": kind_why})
        return Reading(analysis, kind_x, candidates)

    def _decide(self, m: IncidentMention, x: dict[str, float]) -> IncidentMention:
        """The models' calls on the rules' candidate: how the ATM was attacked (type), then primary or
        reference, each with its evidence (:attr:`IncidentMention.signals`)."""
        typer = self.models.get("type")
        if typer is not None and self.use_models and m.type in F.ATM_TYPES:
            itype, _ = typer.predict(x)
            m = m.model_copy(update={"type": itype, "signals": {f"type: {k}": v for k, v in typer.explain(x, itype).items()}})
        model = self.models.get("mention")
        if model is None or not self.use_models:
            return m
        x = F.split_by_kind(x)
        p = model.proba(x)["primary"]
        role = "primary" if p >= 0.5 else "reference"
        return m.model_copy(update={"role": role, "confidence": round(p if role == "primary" else 1 - p, 2),
                                    "signals": {**m.signals, **{f"role: {k}": v for k, v in model.explain(x, role).items()}}})

    @staticmethod
    def _result(article: Article, kind: str, stage: str | None, incidents: list[IncidentMention]) -> Analysis:
        return Analysis(article_id=article.article_id, url=article.url, source=article.source,  # type: ignore[call-arg]
                        published=article.published, title=article.title, kind=kind,  # type: ignore[arg-type]
                        stage=stage if kind == "court" else None, incidents=incidents)  # type: ignore[arg-type]

    # -- reading ----------------------------------------------------------------------------------
    def _sentences(self, article: Article, starts: tuple[str, ...]) -> list[_Sentence]:
        """The article's sentences, attack sentences marked. ``starts``: the :func:`classify.target_starts` of
        its raw headline and body, looked for in each sentence (most sentences hold none: their word bits
        are not taken yet). Some may be only in the lines reading drops; they are found in no sentence."""
        lines = clean_lines(article.text)
        title = (article.title or "").strip()
        texts: list[tuple[str, bool]] = []
        if title and not (lines and lines[0].startswith(title[:60])):
            texts.append((title, True))
        texts.extend((s, False) for s in split_sentences(lines))
        if texts and title and not texts[0][1]:
            texts[0] = (texts[0][0], True)  # the body starts with the headline
        out = [_Sentence(i, t, None, [], is_title) for i, (t, is_title) in enumerate(texts)]
        for s in out:
            s.attack = C.attack_sentence(s.text, s.bits) if C.may_name_target(s.low, starts) else None
        # an attack told across two sentences: the machine in one ("The incident at the cash machine in
        # Queen Street happened at 5am"), what was done in the next or the one before ("offenders used a
        # chainsaw to break in and steal cash"): a weak attack sentence, for the models to weigh
        for k, s in enumerate(out):
            if s.attack is not None or s.is_title or not C.may_name_target(s.low, starts):
                continue
            if not found(C.ATM, s.low, s.bits) or C._near_miss(s.low, s.bits, ("fraud", "fees")):
                continue
            for o in out[max(1, k - 1):k + 2]:
                if o is s or o.attack is not None or o.is_title or not found(C.ATTACK_STRONG, o.low, o.bits):
                    continue
                if C._near_miss(o.low, o.bits, ("fraud", "fees")):
                    continue
                s.attack = C.AttackSentence(C.atm_type(f"{s.text} {o.text}"), False, None)
                break
        return out

    # -- kind -------------------------------------------------------------------------------------
    def _kind(self, article: Article, sentences: list[_Sentence]) -> tuple[str, str | None]:
        """Article kind from attack sentences plus court, campaign and near-miss vocabulary.

        court: the headline or first sentence names a charge, conviction or sentence, or the
        text is dense with court words, or it names an arrest/sentence and reports no fresh
        attack. campaign: ATM/CIT crime vocabulary with operation/advice/statistics words and no
        attack told as news (no news-time marker near any attack sentence). other: no attack
        sentence, or a near miss (card fraud, fees) is the headline's subject.
        """
        attacks = [s for s in sentences if s.attack]
        strong = [s for s in attacks if s.attack.strong]  # type: ignore[union-attr]
        # one weak attack sentence ("the branch was targeted") is not enough, unless it is told as news
        if not attacks or (not strong and len(attacks) < 2 and not self._fresh(attacks[0], sentences)):
            # (classify.names_target of the text, sentence by sentence: most name no target)
            target_runs = _runs(sentences)
            if not (_has(target_runs, "atm", C.ATM) or _has(target_runs, "cit_strong", C.CIT_STRONG)):
                return "other", None  # the words' beginnings only ("city", "security"), no target
            body = " ".join(s.text for s in sentences)
            if C.campaign_score(body, _bits(sentences)) < 4:
                return "other", None
            crime = re.search(r"\b(?:crimes?|criminals?|attack\w*|raid\w*|robb\w*|thefts?|thie\w+|gangs?|heists?|"
                              r"assault\w*|burglar\w*)\b", body, re.I)
            low = body.lower()
            misses = sum(len(C.NEAR_MISS[f].findall(low)) for f in ("fraud", "fees"))
            if crime and misses < 3:
                return "campaign", None
            return "other", None
        # campaign and court words of the whole text, its first two and first four sentences:
        # counted once per sentence and added up
        runs: dict[tuple[int, int], tuple[int, ...]] = {}
        body_counts = _word_counts(sentences, len(sentences), runs)
        lead_counts = _word_counts(sentences, 4, runs)
        camp_all = body_counts[0]
        court_all, body_stage = sum(body_counts[1:]), C.stage_of(body_counts)
        head = sentences[0]  # (there is an attack sentence)
        if found(C.NEAR_MISS["fraud"], head.low, head.bits) or found(C.NEAR_MISS["fees"], head.low, head.bits):
            if not (found(C.EXPLOSIVE, head.low, head.bits) or found(C.THEFT_WHOLE, head.low, head.bits)):
                return "other", None
        lead = sentences[:4]
        fresh = [s for s in attacks if self._fresh(s, sentences)]
        head_stage = C.stage_of(_word_counts(sentences, 2, runs))
        lead_stage = C.stage_of(lead_counts)
        stage = lead_stage or body_stage
        title_stage = sentences[0].stage if sentences and sentences[0].is_title else None
        if head_stage in ("sentenced", "convicted", "charged") or title_stage:
            return "court", stage
        if not fresh and camp_all >= max(4, court_all):
            return "campaign", None
        if camp_all >= 12 and sentences[0].is_title and sentences[0].camp and camp_all >= 4 * len(fresh):
            # a headline about an operation or scheme and a text full of its vocabulary
            return "campaign", None
        if court_all >= 6 or (sum(lead_counts[1:]) >= 2 and court_all >= 3 and not fresh) or \
                (court_all >= 3 and not fresh and stage) or \
                (not fresh and body_stage in ("sentenced", "convicted")):
            return "court", stage
        if head_stage == "arrest" and not fresh:
            return "court", "arrest"
        if not fresh and camp_all >= 2:
            return "campaign", None
        camp_lead = lead_counts[0]
        if camp_all >= 10 and camp_lead >= 3 and len(fresh) <= 1 and not any(s.fresh for s in lead):
            return "campaign", None
        return "incident", None

    @staticmethod
    def _fresh(s: _Sentence, sentences: list[_Sentence]) -> bool:
        """The attack in ``s`` is told as news: a news-time marker in it or next to it, not past."""
        if s.past and not s.fresh:
            return False
        window = sentences[max(0, s.index - 1):s.index + 2]
        return any(x.fresh and not x.past for x in window)

    # -- incidents --------------------------------------------------------------------------------
    def _scene(self, s: _Sentence, ctx: PlaceContext) -> tuple[Place | None, Mention | None, bool]:
        """The scene named in one sentence: (place, area mention, introduced as a scene).

        Cached on the sentence: the article's place context does not change while it is read."""
        if s.scene is None:
            s.scene = self._find_scene(s, ctx)
        return s.scene

    def _find_scene(self, s: _Sentence, ctx: PlaceContext) -> tuple[Place | None, Mention | None, bool]:
        best: tuple[int, Place | None, Mention | None] | None = None
        for k, m in enumerate(s.mentions):
            before = s.text[max(0, m.start - 40):m.start]
            if m.kind == "place":
                if _RESIDENT.search(before) or _ORIGIN_AFTER.match(s.text, m.end):
                    continue  # where someone lives ("a Wigan man", "39, of Leigh"), not the scene
                if _AFTERMATH.search(before):
                    continue  # where the getaway car was found burnt out, not the scene
                place = self._resolve_in_sentence(s, k, ctx)
                if place is None:
                    continue
                rank = 3 if _SCENE_PREP.search(before) or _LISTED_SCENE.search(before) else (
                    1 if s.is_title else 2 if m.prep else 0)
                if best is None or rank > best[0]:
                    best = (rank, place, None)
            elif m.kind == "area" and (m.force or m.country) and not _RESIDENT.search(before):
                rank = 1 if _SCENE_PREP.search(before) else -1
                if best is None or rank > best[0]:
                    best = (rank, None, m)
        if best is None:
            return None, None, False
        return best[1], best[2], best[0] >= 2

    def _resolve_in_sentence(self, s: _Sentence, k: int, ctx: PlaceContext) -> Place | None:
        """Resolve place mention ``k`` of ``s``, letting the name right after it decide:
        "Burwell, Cambridgeshire" (a county) or "Northwood, Stoke-on-Trent" (its town)."""
        m = s.mentions[k]
        nxt = s.mentions[k + 1] if k + 1 < len(s.mentions) else None
        gap = s.text[m.end:nxt.start] if nxt is not None else ""
        near = nxt if nxt is not None and nxt.kind == "area" and \
            re.fullmatch(r",?\s*(?:in\s+|near\s+)?(?:Co\.?\s+)?", gap) else None
        after = s.mentions[k + 2] if k + 2 < len(s.mentions) else None
        if near is not None and after is not None and _LIST_GAP.fullmatch(s.text[near.end:after.start]):
            near = None  # "in Coventry, Northants, Norfolk and Monmouth": a list of places, not "town, county"
        place = self.gazetteer.resolve(m, ctx, near)
        if nxt is not None and nxt.kind == "place" and re.fullmatch(r",\s*", gap):
            parent = self.gazetteer.resolve(nxt, ctx)
            if parent is not None and parent.population >= max(10000, place.population if place else 0):
                close = [p for p in m.places if distance_km(p, parent) < 25]
                place = close[0] if close else Place(m.name, parent.country, parent.lat, parent.lon, 0,
                                                     parent.force, parent.area)
                if place.force != parent.force and parent.country == "GB":
                    # near a force border the text's "Burwell, Cambridge" beats the county guess
                    place = Place(place.name, "GB", place.lat, place.lon, place.population,
                                  parent.force, parent.area)
        if place is not None and near is not None and near.force and place.country == "GB" and \
                place.force != near.force:
            place = Place(place.name, "GB", place.lat, place.lon, place.population, near.force, place.area)
        return place

    def _listed_scenes(self, s: _Sentence, ctx: PlaceContext, story: list[_Sentence]) -> list[tuple[Place | None, str]]:
        """Every scene a sentence lists: gazetteer places introduced as scenes, and towns named
        after a street ("Main Street, Tempo") even when the gazetteer does not know them, unless the street is
        someone's address or the name one ``story`` gives a person."""
        out: list[tuple[Place | None, str]] = []
        seen: set[str] = set()
        known = {m.start: m for m in s.mentions if m.kind == "place"}
        previous_end = None  # end of the last scene accepted: "in Trafford, Rochdale and Bury"
        for k, m in enumerate(s.mentions):
            listed = previous_end is not None and _LIST_GAP.fullmatch(s.text[previous_end:m.start])
            previous_end = None
            if m.kind == "area" and listed and m.force:
                previous_end = m.end  # a borough in the list: keeps the list going
                continue
            if m.kind != "place":
                continue
            before = s.text[max(0, m.start - 40):m.start]
            if _RESIDENT.search(before) or _ORIGIN_AFTER.match(s.text, m.end):
                continue
            if not (listed or _SCENE_PREP.search(before) or _LISTED_SCENE.search(before)
                    or _STREET_BEFORE.search(before)):
                continue
            place = self._resolve_in_sentence(s, k, ctx)
            if place is None or place.name.lower() in seen:
                continue
            seen.add(place.name.lower())
            out.append((place, place.name))
            previous_end = m.end
        for t in matches(_STREET_TOWN, s.text, s.bits):
            name = t.group(1)
            if name.lower() in seen or t.start(1) in known or name.lower() in _NOT_TOWN:
                continue
            if _RESIDENT.search(s.text[max(0, t.start() - 40):t.start()]) or _a_persons_name(name, story):
                continue  # "Adams, of Mill Lane, Smith and Doran": an address, then people
            seen.add(name.lower())
            out.append((None, name))
        # "Northwood, Stoke-on-Trent": a district and its city are one scene
        places = [p for p, _ in out if p is not None]
        return [(p, name) for p, name in out
                if p is None or not any(q is not p and q.population > p.population and distance_km(p, q) < 15 for q in places)]

    def _incidents(self, article: Article, sentences: list[_Sentence], ctx: PlaceContext,
                   kind: str, anchor: date | None) -> list[tuple[IncidentMention, dict[str, float]]]:
        # ``anchor``: the day relative dates count from (publication, else a police reference or dateline date)
        days = _Days(anchor)
        groups: list[_Incident] = []
        current: _Incident | None = None
        for s in sentences:
            if current is not None and (s.attack or _LIST_LEAD.match(s.text) or found(_STRUCK, s.text, s.bits)):
                scenes = self._listed_scenes(s, ctx, sentences)
                if len(scenes) >= 2:
                    # a round-up: "at Mill Road, Ardglass, Main Street, Tempo and in Portadown"
                    if not s.attack:
                        s.attack = C.AttackSentence(None, False, None)
                    for place, name in scenes:
                        key = name.lower()
                        # the same scene again, or a district and its city ("Northwood" ... "Stoke-on-Trent")
                        target = next((g for g in groups if g.key == key or (
                            place is not None and g.place is not None and distance_km(place, g.place) < 15)), None)
                        if target is None and not current.key:
                            target, current.key, current.place = current, key, place
                            current.town = None if place else name
                        if target is None:
                            target = _Incident(place, None, key=key, town=None if place else name)
                            groups.append(target)
                        target.sentences.append(s)
                        current = target
                    continue
            # (cheapest tests first: a sentence's court stage costs several lexicon passes)
            if not s.attack and current is not None and found(_EVENT_WORD, s.low, s.bits) and \
                    found(_NEW_EVENT, s.low, s.bits) and not s.stage:
                place, area, is_scene = self._scene(s, ctx)
                if place is not None and is_scene:
                    # "a fourth raid took place at the Co-op in Burwell": another attack of the story
                    s.attack = C.AttackSentence(None, False, None)
            if not s.attack:
                if current is not None and s.index - current.sentences[-1].index <= 3 and \
                        found(_ANAPHOR, s.low, s.bits):
                    current.support.append(s)
                    place, area, is_scene = self._scene(s, ctx)
                    if not current.key:
                        if (place or area) and is_scene:
                            current.place, current.area = place, area
                            current.key = place.name.lower() if place else area.name.lower()  # type: ignore[union-attr]
                    elif is_scene and _fills(current, place):
                        # "The theft happened in the small town of Dungiven": the county named so far
                        # was only the area of this scene
                        current.place, current.key = place, place.name.lower()  # type: ignore[union-attr]
                continue
            place, area, is_scene = self._scene(s, ctx)
            if not is_scene and s.general:
                continue  # "a number of cash machines have been attacked this year": background, not this attack
            key = (place.name.lower() if place else (area.name.lower() if area else ""))
            target = None
            if key:
                target = next((g for g in groups if g.key == key), None)
                fresh_event = found(_NEW_EVENT, s.low, s.bits) and bool(current and current.sentences and any(
                    x.attack.strong for x in current.sentences))  # type: ignore[union-attr]
                if target is None and current is not None and not fresh_event and (not current.key or (
                        current.place is None and current.town is None and current.area is not None
                        and place is not None and place.force == current.area.force
                        and not any(x.attack.strong for x in current.sentences))):  # type: ignore[union-attr]
                    # the first scene named, or a town inside the area named so far ("in Northern Ireland")
                    current.place, current.area, current.key = place, area, key
                    target = current
                if target is None and current is not None:
                    other_force = place is not None and current.place is not None and place.force != current.place.force
                    starts_new = is_scene and (found(_NEW_EVENT, s.low, s.bits) or other_force or s.past or
                                               any(h.day for h in s.dates(article.published)))
                    if starts_new and not other_force and place is not None and current.place is not None and \
                            distance_km(place, current.place) < 15:
                        starts_new = False  # "Garforth ... Leeds": a suburb and its city are one scene
                    if not starts_new:
                        # a town named in passing ("the Bristol raid", "Garforth, Leeds") continues the story
                        target = current
                        if is_scene and _fills(current, place):
                            # "... from a shop in the village of Ahoghill" after "a shop in Co Antrim"
                            current.place, current.key = place, key
                if target is None:
                    target = _Incident(place, area, key=key)
                    groups.append(target)
            elif current is not None and current.sentences and found(_SEPARATE, s.low, s.bits):
                # "A short time later, a second guard was threatened outside a shop on Glen Road":
                # another attack in the same place
                target = _Incident(current.place, current.area, key=f"{current.key}#{len(groups)}", town=current.town)
                groups.append(target)
            else:
                target = current
                if target is None:
                    target = _Incident(None, None)
                    groups.append(target)
            target.sentences.append(s)
            current = target
        out = []
        claimed = {x.index for g in groups for x in g.sentences}
        for n, g in enumerate(groups):
            if g.place is None and g.area is None and g.town is None and g.sentences:
                # told without a place ("a guard was shot outside a supermarket"): the scene is
                # usually named a few sentences on ("They drove off from London Road, Tring")
                start = g.sentences[0].index
                later = [h.sentences[0].index for h in groups[n + 1:] if h.sentences]
                # the last (often only) attack of the story may be placed as late as the appeal at its
                # end ("anyone with information about the incident in Brandon ...")
                stop = min(later) if later else len(sentences)
                for x in sorted(sentences[max(0, start - 2):stop], key=lambda x: abs(x.index - start)):
                    if x.index in claimed and x not in g.sentences:
                        continue
                    if x not in g.sentences and x.stage:
                        continue  # "pleaded guilty at Nuneaton ...": where the case is heard
                    if x.index - start > 7 and (x.past or x.general):
                        continue  # far from the attack and about other attacks
                    place, area, is_scene = self._scene(x, ctx)
                    if is_scene and place is not None:
                        g.place, g.key, g.scene = place, place.name.lower(), x
                        break
                else:
                    # the headline's town ("Cash machine ripped from Ahoghill shop"), for the story's
                    # first attack only; then a settlement the gazetteer lacks
                    head = sentences[0] if sentences and sentences[0].is_title and n == 0 else None
                    place = self._scene(head, ctx)[0] if head is not None else None
                    if place is not None:
                        g.place, g.key, g.scene = place, place.name.lower(), head
                        continue
                    town = _unknown_town(sentences[max(0, start - 2):stop], start, sentences)
                    if town is not None:
                        g.town, g.key = town, town.lower()
        for n, g in enumerate(groups):
            mention = self._mention(g, sentences, ctx, article, kind, days, main=(n == 0), single=len(groups) == 1)
            if mention is not None:
                out.append((mention, _candidate_features(
                    mention, article, sentences, ctx, kind, index=n, groups=len(groups), own=g.sentences,
                    method=g.sentences + g.support, single=len(groups) == 1)))
                days.previous = mention.date
        # the same scene reached twice (town in one sentence, its area in another): keep one
        dedup: list[tuple[IncidentMention, dict[str, float]]] = []
        for m, x in out:
            k = next((k for k, (d, _) in enumerate(dedup) if d.force == m.force and d.country == m.country and
                      (d.town is None or m.town is None) and d.type == m.type), None)
            if k is None:
                dedup.append((m, x))
            elif dedup[k][0].town is None and m.town is not None:
                twin, tx = dedup[k]
                role = twin.role if twin.role == "primary" else m.role
                dedup[k] = (m.model_copy(update={"role": role}),
                            {**x, "rule_primary": float(role == "primary"), "first": max(x["first"], tx["first"])})
        return dedup + self._series(article, sentences, ctx, kind, [m for m, _ in dedup], days)

    def _series(self, article: Article, sentences: list[_Sentence], ctx: PlaceContext, kind: str,
                known: list[IncidentMention], days: "_Days") -> list[tuple[IncidentMention, dict[str, float]]]:
        """The other attacks of a series: every settlement a sentence about attacks introduces as where
        one happened ("thefts at stores in A, B and C", "on 2 May they struck in D", a list of addresses
        with their towns), that no candidate above is already placed at. In a court report, a sentence that
        only refers back to the case's attack ("at a cafe in X when the robbery took place") tells no other.

        A court report's case is its whole series, so each becomes a primary incident, as does each line of
        a round-up's list of attacks with its place and day; a news report naming other attacks in passing
        does so for context, so there they are references (kept, for the analyst and for linking, not
        alerted). Typed by the sentence's own method words, else by the
        article's commonest type; dated by the sentence."""
        out: list[tuple[IncidentMention, dict[str, float]]] = []
        towns = {(m.town or "").lower() for m in known}
        spots = [(m.lat, m.lon) for m in known if m.lat is not None and m.lon is not None]
        types = [m.type for m in known]
        attacks = [x for x in sentences if x.attack is not None]
        if types:
            default: str | None = max(sorted(set(types)), key=types.count)
        elif any(x.attack.type == "cit_robbery" for x in attacks):  # type: ignore[union-attr]
            default = "cit_robbery"
        else:
            default = (_atm_type(attacks) or _unsaid_method(sentences)) if attacks else None
        seen_attack = False
        for s in sentences:
            about_attacks = s.attack is not None or (found(_EVENT_WORD, s.low, s.bits) and not (
                # "... in Birmingham when the robbery took place": the attack told already, not another
                kind == "court" and known and found(_ANAPHOR, s.low, s.bits) and not found(_NEW_EVENT, s.low, s.bits))) or \
                found(_STRUCK, s.text, s.bits)
            # a line of a list of addresses after the story's first attack ("Post Office, High Street, Sandy (1/2/17)")
            listed_line = seen_attack and len(s.text) < 160 and bool(_ADDRESS_LINE.search(s.text))
            seen_attack = seen_attack or s.attack is not None
            if not (about_attacks or listed_line) or s.is_title:
                continue
            if s.stage is not None and s.attack is None:
                continue  # the arrest, charge or plea alone: where suspects were held or live, the case is heard
            previous_end: int | None = None
            for k, m in enumerate(s.mentions):
                continued = previous_end is not None and _LIST_GAP.fullmatch(s.text[previous_end:m.start])
                previous_end = None
                if m.kind != "place":
                    continue
                before = s.text[max(0, m.start - 40):m.start]
                if _RESIDENT.search(before) or _ORIGIN_AFTER.match(s.text, m.end) or _AFTERMATH.search(before):
                    continue  # where someone lives, or where the getaway car turned up
                if k and s.mentions[k - 1].kind == "place" and _LOCATOR.fullmatch(s.text[s.mentions[k - 1].end:m.start]):
                    continue  # "Shildon, near Bishop Auckland": says where the scene before it is
                if s.stage is not None and _CUSTODY.search(before):
                    continue  # "arrested in Bradford", "appeared before magistrates in Preston"
                introduced = continued or _SCENE_PREP.search(before) or _LISTED_SCENE.search(before) or \
                    _STREET_BEFORE.search(before) or _INCLUDING.search(before) or (listed_line and before.rstrip().endswith(","))
                if not introduced:
                    continue
                place = self._resolve_in_sentence(s, k, ctx)
                if place is None:
                    continue
                if k and s.mentions[k - 1].kind == "place" and re.fullmatch(r",\s*", s.text[s.mentions[k - 1].end:m.start]):
                    before_place = self._resolve_in_sentence(s, k - 1, ctx)
                    if before_place is not None and place.population > before_place.population and \
                            distance_km(place, before_place) < 25:
                        continue  # "Sawston, Cambridge": the town that says where the village before it is
                previous_end = m.end
                name = place.name.lower()
                if name in towns or any(distance_km(place, Place("", "GB", lat, lon, 0, None, "")) < 3
                                        for lat, lon in spots):
                    continue
                itype = (s.attack.type if s.attack is not None else None) or _atm_type([s]) or default
                if itype is None:
                    continue
                towns.add(name)
                spots.append((place.lat, place.lon))
                day, month_day = _pick_near(s.dates(days.anchor), m.start, m.end)
                if day is not None and days.anchor is not None and day > days.anchor + timedelta(days=1):
                    day = None  # a hearing's date, not the attack's
                # a round-up whose news is the series lists each attack with its place and day: those are news too
                role = "primary" if kind == "court" or (day is not None and listed_line) else "reference"
                mention = IncidentMention(type=itype, attempted=C.is_attempted(s.text, s.bits),  # type: ignore[arg-type]
                                          town=place.name, force=place.force, region=region_of(place.force),
                                          country=place.country, lat=place.lat, lon=place.lon, date=day,
                                          month_day=month_day, mo=_mo_tags([s]), evidence=s.text[:500], confidence=0.5, role=role)  # type: ignore[arg-type]
                x = _candidate_features(mention, article, sentences, ctx, kind, index=len(known) + len(out),
                                        groups=len(known) + len(out) + 1, own=[s], method=[s], single=False)
                x["series"] = 1.0
                out.append((mention, x))
        return out

    def _mention(self, g: _Incident, sentences: list[_Sentence], ctx: PlaceContext, article: Article,
                 kind: str, days: "_Days", main: bool, single: bool = False) -> IncidentMention | None:
        text = " ".join(s.text for s in g.sentences)
        types = [s.attack.type for s in g.sentences]  # type: ignore[union-attr]
        # with one attack in the article, every sentence about it (not the past, not attacks in general)
        story = [x for x in sentences if not x.past and not x.general] if single else None
        if types[0] == "cit_robbery" or (types.count("cit_robbery") > len(types) / 2):
            itype = "cit_robbery"
        else:
            atm = [t for t in types if t not in (None, "cit_robbery")]
            # the method is often told in a sentence of its own ("Gas canisters were found"): when the
            # article reports one attack, all of it describes that attack
            scope = story if single \
                else g.sentences + g.support
            together = _atm_type([x for x in scope if not (x.attack and x.attack.type == "cit_robbery")])  # type: ignore[union-attr]
            if single:
                # a method the attack's own sentences name ("a digger was driven into the wall") beats the
                # rest of the story's method words (a paragraph on how machines are guarded against gas)
                told = _atm_type([x for x in g.sentences + g.support
                                  if not (x.attack and x.attack.type == "cit_robbery")], loose=False)  # type: ignore[union-attr]
                together = told or together
            if together:
                atm = [together]  # the type lexicons' priority over the whole story, not per sentence
            if not atm:
                # the method is said elsewhere ("... used gas to blow it open") or not at all
                lexical = _atm_type(g.sentences + g.support) or \
                    _atm_type([x for x in sentences if x.attack and x.attack.type != "cit_robbery"])
                atm = [lexical or _unsaid_method(story if single else g.sentences + g.support)]
            itype = max(atm, key=lambda t: _TYPE_RANK[t])
        place = g.place
        force = country = town = None
        lat = lon = None
        if place is not None:
            town, force, country, lat, lon = place.name, place.force, place.country, place.lat, place.lon
        elif g.town is not None:
            # a settlement the gazetteer lacks: the article's area decides the force
            town = g.town
            abroad = ctx.abroad()
            force, country = (None, abroad) if abroad else (ctx.top_force(), "GB")
        elif g.area is not None:
            if kind == "court":
                return None  # a case placed only by county ("in Greater Manchester"): no scene to report
            force, country = g.area.force, g.area.country
        else:
            if kind == "court":
                return None  # a case with no identifiable scene: nothing to place
            abroad = ctx.abroad()
            if abroad:
                country = abroad
            else:
                force = ctx.top_force()
                country = "GB" if force else None
        if country == "GB" and force is None:
            force = ctx.top_force()
        if force and not country:
            country = "GB"
        first = g.sentences[0]
        evidence = next((x for x in g.sentences if not x.is_title), first)
        # with one attack in the article, every sentence about it may tell how it was done
        mo = _mo_tags(story if single else g.sentences)  # type: ignore[arg-type]
        following = [s for s in sentences if first.index < s.index <= first.index + 3 and not s.past]
        attempted = C.is_attempted(" ".join([text] + [s.text for s in following]), _bits(g.sentences + following))
        day, dated_old = self._date(g, sentences, article, kind, days, single)
        month_day = None if day is not None else _month_day(g, sentences, kind, days.anchor)
        past = any(s.past for s in g.sentences if not s.is_title) and not any(
            s.fresh and not s.past for s in g.sentences)
        # the article's first attack is its news; later ones may be context
        role = "reference" if (past or dated_old) and kind == "incident" and not main else "primary"
        confidence = (0.45 + (0.2 if any(s.attack.strong for s in g.sentences) else 0) +  # type: ignore[union-attr]
            (0.15 if town else 0.05 if force else 0) + (0.1 if day else 0) + (0.05 if len(g.sentences) > 1 else 0))
        store = _store(g, town, story)
        return IncidentMention(type=itype, attempted=attempted, town=town, force=force,  # type: ignore[arg-type]
                               region=region_of(force), country=country, lat=lat, lon=lon, date=day,
                               month_day=month_day, mo=mo, evidence=evidence.text[:500], confidence=round(min(confidence, 0.95), 2),
                               role=role, store=store)  # type: ignore[arg-type]

    def _date(self, g: _Incident, sentences: list[_Sentence], article: Article, kind: str,
              days: "_Days", single: bool = False) -> tuple[date | None, bool]:
        """(day of the incident, whether that day is old news relative to publication).

        Looks in the incident's own sentences, then their neighbours, then (for a court report of one
        attack) the court's account of it ("the court heard that on 6 March ..."), then (for news) the
        lead, else the published day. Without a published date, a police reference date ("quote 604
        of 11/04/20") anchors relative expressions.
        """
        published = days.anchor
        day: date | None
        own, near = _day_sources(g, sentences)
        # "on the same day", "the following day": relative to the attack told before this one
        for s in own if days.previous is not None else ():
            m = _SAME_DAY.search(s.low) if s.bits & gate(_SAME_DAY) else None
            if m and not _pick(s.dates(published)):
                assert days.previous is not None
                day = days.previous + timedelta(days=1 if m.group(1) in ("following", "next") else 0)
                return day, bool(article.published and day < article.published - _REFERENCE_AGE)
        for group in (own, near):
            # "The theft happened early on Sunday" says when; a caption's or video's date may not
            for s in sorted(group, key=lambda x: (not x.when, x.index)):
                hits = s.dates(published)
                day = _pick(hits)
                if day is not None and kind == "court":
                    day = _in_named_year(day, hits, sentences, s.index, published)
                if day is not None:
                    if published and day > published + timedelta(days=1):
                        continue  # a court date or an appeal deadline, not the attack
                    old = bool(article.published and day < article.published - _REFERENCE_AGE)
                    return day, old
        if kind == "court" and single:
            # "The court heard that on 6 March ...": the prosecution's account of the one offence opens with its day
            for s in sentences:
                told = _TOLD_THAT.search(s.text) if s.stage and s.bits & gate(_TOLD_THAT) else None
                hits = [h for h in s.dates(published) if told and h.start - told.end() <= _TOLD_REACH and h.start >= told.end()]
                day = _pick(tuple(hits)) if hits else None
                if day is not None and (published is None or day <= published):
                    return day, bool(article.published and day < article.published - _REFERENCE_AGE)
        if kind == "incident" and published is not None:
            for s in sentences[:3]:
                day = _pick(s.dates(published))
                if day is not None and day <= published:
                    return day, False
            return published, False
        return None, False


_STORE_ATM = re.compile(r"^[\w'’-]*\s*(?:store\s+|shop\s+|branch\s+|garage\s+|supermarket\s+)?(?:ATM|cash\s*machine|"
                        r"cash[- ]?point|cash\s+dispenser)", re.I)


# what leads from a store's name to its town: "Tesco Express in Hinckley", "a Co-op store in nearby Barwell"
_TOWN_LEAD = re.compile(r"\s+(?:store\s+|shop\s+|branch\s+|supermarket\s+)?(?:in|at)\s+(nearby\s+)?")


def _names_town(after: str, town: str) -> bool:
    """Whether ``after`` (the text after a store's name) begins with :data:`_TOWN_LEAD` and the word(s)
    ``town``: as ``re.match(_TOWN_LEAD.pattern + re.escape(town) + r"\b", after)``, without compiling a
    pattern for every town (a fifth of a millisecond each)."""
    lead = _TOWN_LEAD.match(after)
    if lead is None:
        return False
    # the lead's "nearby" may also be the town's own first word: both readings, as the regex would try
    return any(after.startswith(town, at) and _boundary(after, at + len(town))
               for at in ((lead.end(), lead.start(1)) if lead.start(1) >= 0 else (lead.end(),)))


def _boundary(text: str, at: int) -> bool:
    """Whether ``at`` is a word boundary of ``text`` (regex ``\b``: a word character on one side only)."""
    def word(k: int) -> bool:
        return 0 <= k < len(text) and word_char(text[k])
    return word(at - 1) != word(at)


def _store(g: _Incident, town: str | None, story: list[_Sentence] | None = None) -> str | None:
    """The shop, bank or street of the scene. A store named with the machine ("a Co-op ATM") or with
    the scene's town ("a Tesco Express in Hinckley") beats the first one named in the incident's own
    sentences (a bakery where the evacuated took refuge, the other shops of a round-up); sentences
    that only place or date it are read last, for shops only. ``story``: when the article reports this
    one attack, its sentences (not of the past, not in general): a shop or bank they name anywhere is the
    scene's, if the attack's own sentences name none."""
    own = sorted(g.sentences, key=lambda x: x.index)
    extra = sorted({id(x): x for x in g.support + ([g.scene] if g.scene else []) if x not in g.sentences}.values(),
                   key=lambda x: x.index)
    first = None
    for x in own + extra:
        store = None
        for m in matches(_STORE, x.text, x.bits):
            after = x.text[m.end():m.end() + 40]
            if _STORE_ATM.match(after) or (town and _names_town(after, town)):
                return m.group(0).removeprefix("the ").strip()
            store = store or m
        if first is None:
            # a street in a sentence that only places the attack may be anywhere in the story (where
            # the digger was taken, where the car was found): streets come from its own sentences
            first = store or (_STREET.search(x.text) if x in own and x.bits & gate(_STREET) else None)
    if first is None:
        first = next((m for x in story or () if x.bits & gate(_STORE) for m in matches(_STORE, x.text, x.bits)), None)
    return first.group(0).removeprefix("the ").strip() if first else None


def _fills(g: _Incident, place: Place | None) -> bool:
    """Whether ``place`` can be the scene of ``g``, so far placed at most by its area (county,
    region or nothing): a place inside that area's force, never one that moves it elsewhere."""
    if place is None or g.place is not None or g.town is not None:
        return False
    return g.area is None or (g.area.force is not None and place.force == g.area.force)


# a settlement the gazetteer lacks, named as the scene: "Squires Lane, South Shore", "the village of X"
_UNKNOWN_TOWN = lexicon(r"\b(?:(?:Road|Street|Lane|Avenue|Way|Drive|Parade|Square|Crescent|Terrace)\s*,\s*|"
                        r"(?:village|hamlet|town|suburb|district)\s+of\s+)([A-Z][a-z]+(?:[- ][A-Z][a-z]+)?)\b")


def _unknown_town(sentences: list[_Sentence], start: int, story: list[_Sentence]) -> str | None:
    """The scene's settlement when the gazetteer does not know it, nearest the attack first: not a name the
    story gives a person ("Charlie Smith, 31"; "of Mill Lane, Smith and Doran struck")."""
    for x in sorted(sentences, key=lambda x: abs(x.index - start)):
        if x.past:
            continue
        for m in matches(_UNKNOWN_TOWN, x.text, x.bits):
            name = m.group(1)
            if name.lower() not in _NOT_TOWN and not _RESIDENT.search(x.text[max(0, m.start() - 40):m.start()]) \
                    and not _a_persons_name(name, story):
                return name
    return None


def _a_persons_name(name: str, story: list[_Sentence]) -> bool:
    """The story names a person so: a first name before it ("Charlie Smith"), or an age after it ("Smith, 31")."""
    person = re.compile(rf"\b(?:[A-Z][a-z]+\s+{re.escape(name)}\b(?!\s+(?:Road|Street|Lane|Avenue|Way|Drive))|"
                        rf"{re.escape(name)},\s+(?:aged\s+)?\d{{1,2}}\b)")
    for x in story:
        for m in person.finditer(x.text):
            first = m.group(0).split()[0]
            if not m.group(0).startswith(name) and (first in _PLACE_LEADERS_WORDS or first.lower() in _NOT_TOWN):
                continue  # "North Smith", "In Smith": not a first name
            return True
    return False


def _candidate_features(m: IncidentMention, article: Article, sentences: list[_Sentence], ctx: PlaceContext,
                        kind: str, *, index: int, groups: int, own: list[_Sentence], method: list[_Sentence],
                        single: bool) -> dict[str, float]:
    """The named features of candidate incident ``m`` (:func:`features.mention_features` and
    :func:`features.type_features`): ``own`` its sentences, ``method`` those that may say how it was done."""
    town = (m.town or "").lower()
    evidence = sum(ctx.forces.values()) or 1.0
    x = F.mention_features(
        kind=kind, index=index, groups=groups, first_sentence=own[0].index if own else 0, sentences=len(sentences),
        own=own, rule_role=m.role, itype=m.type, town=m.town, force=m.force, country=m.country, day=m.date,
        published=article.published, top_force=ctx.top_force(),
        force_share=ctx.forces.get(m.force, 0) / evidence if m.force else 0.0, hint=ctx.hint,
        town_mentions=sum(1 for s in sentences if town and town in s.low),
        dated_old=bool(article.published and m.date and m.date < article.published - _REFERENCE_AGE))
    title = sentences[0] if sentences and sentences[0].is_title else None
    x.update(F.type_features(m.type, method, sentences, title, single))
    return x


def _unsaid_method(sentences: list[_Sentence]) -> str:
    """The type of an ATM attack whose method no type lexicon names (the machine taken away would have been
    named: :data:`classify.THEFT_GENERIC`): opened in place (a break-in) when the story speaks of breaking
    into, damaging or forcing it; else whole-machine theft, the commonest attack."""
    return "atm_break_in" if any(found(_OPENED, s.low, s.bits) for s in sentences) else "atm_theft"


def _runs(sentences: list[_Sentence]) -> list[list[_Sentence]]:
    """``sentences`` in runs to read together: a sentence that does not :func:`classify.closes` runs
    on into the next, since a lexicon phrase may span them. A match of the target, campaign, court,
    attack-type or modus operandi lexicons in the sentences joined by spaces lies in one run."""
    runs: list[list[_Sentence]] = []
    joined = False  # whether the last sentence runs on into the next
    for s in sentences:
        if joined:
            runs[-1].append(s)
        else:
            runs.append([s])
        joined = not s.closed
    return runs


def _bits(sentences: list[_Sentence]) -> int:
    """The word bits of the sentences' texts joined by spaces, or of their lower case (a word lies in one
    sentence)."""
    bits = 0
    for s in sentences:
        bits |= s.bits
    return bits


def _has(runs: list[list[_Sentence]], key: str, rx: re.Pattern) -> bool:
    """Whether ``rx`` matches the lower-cased texts of some sentences joined by spaces, given as their
    :func:`_runs`: each sentence read (and remembered) on its own."""
    bit = gate(rx)
    for run in runs:
        if len(run) == 1:
            if run[0].bits & bit and run[0].has(key, rx):  # (the bits first: most sentences lack them)
                return True
        elif _bits(run) & bit and rx.search(" ".join(s.low for s in run)):
            return True
    return False


def _atm_type(sentences: list[_Sentence], loose: bool = True) -> str | None:
    """:func:`classify.atm_type` of the sentences' text joined by spaces; with ``loose`` False, only a
    method named outright (not "the cash machine was stolen", which is said of any attack)."""
    runs = _runs(sentences)
    for name, kind, rx in C.ATM_TYPES:
        if (loose or name != "theft_generic") and _has(runs, name, rx):
            return kind
    return None


def _mo_tags(sentences: list[_Sentence]) -> list[str]:
    """:func:`classify.mo_tags` of the sentences' text joined by spaces."""
    bits = _bits(sentences)
    runs = _runs(sentences)
    tags = [tag for tag, rx in C.MO_TAGS if bits & gate(rx) and _has(runs, "mo:" + tag, rx)]
    return C.mo_checked(tags, " ".join(s.low for s in sentences), bits) if tags else tags


def _word_counts(sentences: list[_Sentence], stop: int, runs: dict[tuple[int, int], tuple[int, ...]]) -> tuple[int, ...]:
    """:func:`classify.word_counts` of the first ``stop`` sentences joined by spaces: the sum over their
    :func:`_runs`. ``runs`` keeps the counts of runs of several sentences (a headline and the first
    sentence) for the next call."""
    total = [0, 0, 0, 0, 0]
    for run in _runs(sentences[:stop]):
        if len(run) == 1:
            counts = run[0].counts
        else:
            key = (run[0].index, len(run))
            known = runs.get(key)
            if known is None:
                known = runs[key] = C.word_counts(" ".join(s.low for s in run), _bits(run))
            counts = known
        for k, n in enumerate(counts):
            total[k] += n
    return tuple(total)


def about_a_target(kind_x: dict[str, float]) -> bool:
    """Whether the article names a cash machine or a cash-in-transit crew or van at all, or has an attack
    sentence. One that does not (a court report of another crime, a shop robbery) cannot be about an ATM or
    CIT attack, whatever its court or crime words say: it is ``other``, without the kind model weighing
    those words."""
    return bool(kind_x.get("atm_words") or kind_x.get("cit_words") or kind_x.get("attacks"))


def _month_day(g: _Incident, sentences: list[_Sentence], kind: str, published: date | None) -> str | None:
    """``"--MM-DD"``: the day and month an undated report gives an attack without a year ("early on
    August 16"), looked for where :meth:`Analyser._date` looks for a day (its own sentences, then the
    neighbours that are not about the case); None when it names none."""
    own, near = _day_sources(g, sentences)
    for group in (own, near if kind != "court" else ()):  # (a court report's neighbours tell of other attacks)
        for s in sorted(group, key=lambda x: (not x.when, x.index)):
            for hit in s.dates(published):
                if hit.month_day is not None and hit.kind != "stamp":
                    return _iso_month_day(hit.month_day)
    return None


def _day_sources(g: _Incident, sentences: list[_Sentence]) -> tuple[list[_Sentence], list[_Sentence]]:
    """Where an attack's day is told: its own sentences, and their neighbours (up to two sentences away)
    that are neither another attack nor about the case (hearing dates say nothing about the attack's day)."""
    own = g.sentences + g.support
    idx = {s.index for s in own}
    around = {o.index + d for o in own for d in (-2, -1, 1, 2)}
    return own, [s for s in sentences if s.index in around and s.index not in idx and not s.attack and not s.stage]


def _iso_month_day(month_day: tuple[int, int] | None) -> str | None:
    """(8, 16) -> "--08-16" (ISO 8601's day and month without a year)."""
    return None if month_day is None else "--%02d-%02d" % month_day


def _dateline(sentences: list[_Sentence]) -> date | None:
    """The latest full date with its year near the top (a byline or caption date, else the last day the
    story's opening names: a report comes after the days it tells of): stands in for publication."""
    hits = [hit for s in sentences[:8] for hit in s.dates(None)
            if hit.day is not None and hit.kind in ("dmy", "mdy", "numeric", "stamp")]
    stamps = [h.day for h in hits if h.kind == "stamp"]  # "Published: 20 May 2019" says it outright
    days = stamps or [h.day for h in hits]
    return max(days) if days else None  # type: ignore[type-var]


def _reference_anchor(sentences: list[_Sentence]) -> date | None:
    """The date of a police incident reference in the text, if any (stands in for publication)."""
    for s in sentences:
        m = _POLICE_REF.search(s.text) if "/" in s.text else None
        if m:
            y = int(m.group("y"))
            y = y + 2000 if y < 100 else y
            try:
                return date(y, int(m.group("m")), int(m.group("d")))
            except ValueError:
                continue
        m = _POLICE_REF_WORDS.search(s.text) if " of " in s.text else None
        month = MONTHS.get(m.group("mon").lower()) if m else None
        if m and month:
            try:
                return date(int(m.group("y")), month, int(m.group("d")))
            except ValueError:
                continue
    return None


_YEAR_NAMED = re.compile(r"\b(?:19|20)\d\d\b")


def _in_named_year(day: date, hits: tuple[DateHit, ...], sentences: list[_Sentence], upto: int,
                   published: date | None) -> date:
    """A court report's "on January 31" in the year the report last named before it ("a series of thefts
    between January and April 2017. On January 31 ..."), not the year of the hearing; ``day`` when the
    picked date gave its own year, or the text names no earlier year."""
    picked = next((h for h in hits if h.day == day), None)
    if picked is None or not picked.year_inferred or published is None:
        return day
    for s in reversed(sentences[:upto + 1]):
        years = [int(y) for y in _YEAR_NAMED.findall(s.text)]
        if years:
            year = years[-1]
            if year >= day.year:
                return day
            try:
                named = date(year, day.month, day.day)
            except ValueError:
                return day
            return named if named <= published else day
    return day


def _pick_near(hits: tuple[DateHit, ...], start: int, end: int) -> tuple[date | None, str | None]:
    """The day that goes with the place at ``start:end`` of a sentence listing several attacks ("between
    August 1 and May 2 ... including at a bank in X on June 5"): the date nearest it, one just after it
    first ("in X on June 5"), then as :func:`_pick`. None when the nearest date names no fixed day; then
    its day and month ``"--MM-DD"`` if it names them without a year."""
    hits = tuple(h for h in hits if h.kind != "stamp")
    if len(hits) <= 1:
        day = _pick(hits)
        return day, None if day is not None or not hits else _iso_month_day(hits[0].month_day)

    def gap(h: DateHit) -> int:
        return h.start - end if h.start >= end else (start - h.end) + 20  # (a date before the place: a bit further)

    nearest = min(hits, key=gap)
    return nearest.day, _iso_month_day(nearest.month_day)


def _pick(hits: tuple[DateHit, ...]) -> date | None:
    """Explicit dates beat weekdays, which beat today/yesterday (``yesterday (October 31)``)."""
    order = {"numeric": 0, "dmy": 0, "mdy": 0, "range": 1, "overnight": 1, "weekday": 2, "yesterday": 3, "today": 3}
    fixed = sorted((h for h in hits if h.day is not None and h.kind != "stamp"), key=lambda h: order[h.kind])
    return fixed[0].day if fixed else None
