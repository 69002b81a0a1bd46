"""Classify: the lexicons and sentence-level rules that say what an article and a sentence are about.

Pure functions over plain text. The rule families, each a small lexicon:

* **targets**: an ATM (``ATM``, cash machine, cashpoint, hole in the wall) or cash-in-transit
  staff and vehicles (security guard, G4S courier, cash box, security van);
* **attack**: words of theft, robbery, burglary, explosion, ramming;
* **near misses**: card skimming and ATM fraud, fees and closures, shop tills and bank counters,
  road accidents, drugs and farm-machinery stories that share the words;
* **type**: explosive (gas, explosives, blown up), whole-machine theft (ram raid, digger,
  dragged out, machine stolen), break-in (forced, cut open, cassettes taken), CIT robbery;
* **attempted**: tried, failed, foiled, nothing taken, fled empty-handed;
* **modus operandi** tags: plant, vehicle, gas, explosive, cutting_tool, firearm, knife,
  weapon, crew_assaulted;
* **court** (arrest, charged, convicted, sentenced) and **campaign** (operations, advice,
  statistics, industry schemes) vocabulary, and the **past** markers of context mentions.

:func:`attack_sentence` decides whether one sentence reports an attack on an ATM or a CIT crew
and of which type; :func:`court_stage`, :func:`court_score` and :func:`campaign_score` feed the
article-level decision made in :mod:`cashwatch.processors.analyse`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_I = re.I

ATM = re.compile(r"\b(?:ATMs?|cash\s*machines?|cash[- ]?points?|cash\s+dispensers?|bank\s+machines?|"
                 r"hole[- ]in[- ]the[- ]wall|money\s+machines?|cash\s+terminals?)\b", _I)
# ATM in all-caps text would match "atm" in words; the pattern is case-insensitive but word-bounded.
CIT = re.compile(r"\b(?:cash[- ]in[- ]transit|CIT|CViT|security\s+(?:guards?|vans?|officers?|workers?|"
                 r"couriers?|men|man|crews?|staff|employees?|vehicles?|company|firm)|"
                 r"(?:cash|money)\s*(?:boxe?s?|case|cases|cassettes?|bags?|deliver(?:y|ies)|collections?|vans?|couriers?|canisters?)|"
                 r"cashbox(?:es)?|couriers?|custodians?|guards?|armou?red\s+(?:vans?|vehicles?|cars?|trucks?)|"
                 r"(?:G4S|Loomis|Brinks|Brink's|Securitas|Group\s*4(?:\s+Securicor)?|Securicor|Prosegur|Vaultex|Garda\s+World)\b"
                 r")", _I)
CIT_STRONG = re.compile(r"\b(?:cash[- ]in[- ]transit|CIT|CViT|security\s+(?:guards?|vans?|couriers?|workers?|crews?|officers?)|"
                        r"cashbox|cash\s+box|cash\s+case|G4S|Loomis|Brinks|Securitas|Group\s*4|Securicor|Prosegur|"
                        r"couriers?|custodians?|armou?red\s+(?:vans?|vehicles?|trucks?))\b", _I)

CIT_CREW = re.compile(r"\b(?:cash[- ]in[- ]transit|CIT|CViT|security\s+(?:guards?|vans?|couriers?|workers?|crews?|"
                      r"officers?|staff|men|man|company|firm)|G4S|Loomis|Brinks|Securitas|Group\s*4|Securicor|Prosegur|"
                      r"couriers?|custodians?|guards?|armou?red\s+(?:vans?|vehicles?|trucks?))\b", _I)
ATTACK = re.compile(r"\b(?:stole|stolen|steal(?:s|ing)?|theft|thefts|thie(?:f|ves)|raid(?:s|ed|ers?)?|ram[- ]?raid\w*|"
                    r"rip(?:ped|ping)?|tor[en]|tearing|drag(?:s|ged|ging)?|pull(?:ed|ing)\s+(?:out|from|off)|"
                    r"blow(?:n|ing)?|blew|blast(?:ed)?|explo(?:sion|sions|sive|sives|ded|de|ding)|bang|"
                    r"bro(?:ke|ken)\s+(?:into|in\s+to|open)|break[- ]?ins?|burgl\w+|forc(?:ed|ing)\s+(?:open|entry)|"
                    r"prised|prised|jemmied|cut\s+(?:into|open|through)|rob(?:bed|bery|beries|bers?|bing)?|"
                    r"snatch(?:ed|es|ing)?|grabb?(?:ed|ing)|heist|hold[- ]?up|held\s+up|ambush(?:ed)?|"
                    r"attack(?:ed|s|ing)?|target(?:ed|ing)|hit|struck|smash(?:ed|ing)?|rammed|ramming|"
                    r"demolish\w*|uproot\w*|wrench\w*|remov(?:ed|e|ing)|made\s+off|tamper\w*|damag\w*)\b", _I)
ATTACK_STRONG = re.compile(r"\b(?:stole|stolen|steal\w*|theft|thefts|thie(?:f|ves)|ram[- ]?raid\w*|ripp(?:ed|ing)|"
                           r"tor[en]|dragg(?:ed|ing)|pull(?:ed|ing)\s+(?:out|from)|blown|blew|blast|explo\w+|"
                           r"bro(?:ke|ken)\s+(?:into|open)|break[- ]?in|burgl\w+|forced\s+open|rob(?:bed|bery|beries|bers?)|"
                           r"snatch\w*|heist|raid(?:ed|ers?)?|rammed|attacked|uproot\w*)\b", _I)

NEAR_MISS = {
    "fraud": re.compile(r"\b(?:skimm\w*|card\s+trap\w*|card[- ]reader|PIN\s+(?:number|pad)|shoulder[- ]surf\w*|"
                        r"distraction|fraud\w*|scam\w*|con(?:ned)?\s+|card\s+(?:swap|theft|thefts|details)|"
                        r"cloned|counterfeit|bank\s+cards?|debit\s+cards?|credit\s+cards?|phishing)\b", _I),
    "fees": re.compile(r"\b(?:fees?|charg(?:e|es|ing)\s+(?:to|for)\s+withdraw\w*|free[- ]to[- ]use|pay[- ]to[- ]use|"
                        r"LINK\s+network|branch\s+closures?|closures?|clos(?:e|ed|ing)\s+(?:down|branch)|"
                        r"access\s+to\s+cash|planning\s+(?:application|permission)|install\w*|new\s+cash\s*machine|"
                        r"petition|campaign(?:ers|ing)?\s+for)\b", _I),
    "till": re.compile(r"\b(?:till|tills|counter|cashier|postmaster|postmistress|sub-postmaster|safe|shop\s+worker|"
                        r"shop\s+assistant|staff\s+member|jewell?er\w*|phone\s+shop|mobile\s+phone|bus|buses|"
                        r"bus\s+driver|fares?|taxi|ticket\s+machine|parking\s+meter|charity\s+box|honesty\s+box)\b", _I),
    "accident": re.compile(r"\b(?:overturn\w*|crash(?:ed)?|collision|collided|accident|rolled\s+over|jack-?knifed)\b", _I),
    "drugs": re.compile(r"\b(?:cannabis|drugs?|cocaine|heroin|factory|warrant)\b", _I),
    "farm": re.compile(r"\b(?:farm\s+machinery|quad\s+bikes?|tractors?|trailers?|livestock|plant\s+theft|machinery\s+theft)\b", _I),
}

EXPLOSIVE = re.compile(r"\b(?:gas(?:sed|sing)?|gas\s+(?:canisters?|cylinders?|bottles?|attacks?)|oxy-?acetylene|acetylene|"
                       r"explosives?|explosive\s+devices?|blown\s+up|blew\s+up|blowing\s+up|blow\s+up|blown\s+open|blew\s+open|"
                       r"blast(?:ed)?\s+(?:open|the)|detonat\w+|dynamite|solid\s+explosive)\b", _I)
EXPLOSION_WEAK = re.compile(r"\b(?:explosions?|exploded|bang|blast)\b", _I)
THEFT_WHOLE = re.compile(r"\b(?:ram[- ]?raid\w*|diggers?|JCBs?|telehandlers?|excavators?|tractors?|forklifts?|fork-lift\w*|"
                         r"dumper(?:\s+truck)?s?|loading\s+shovels?|plant\s+(?:machinery|vehicles?)|"
                         r"(?:rip|drag|tore|torn|wrench|uproot|prised|pull)\w*\s+(?:\w+\s+){0,4}?(?:out|from|off|away|free)|"
                         r"(?:cash\s*machine|ATM|cash[- ]?point|machine)s?\s+(?:was|were|had\s+been|has\s+been|being)\s+(?:stolen|taken|removed|ripped|torn|dragged|lifted)|"
                         r"(?:stole|steal|stealing|take|took|taken|remove|removed|lift(?:ed)?)\s+(?:a|an|the|two|both)\s+(?:\w+\s+){0,3}?(?:cash\s*machines?|ATMs?|cash[- ]?points?)|"
                         r"hole\s+in\s+the\s+(?:wall|front)|chains?|towed|tow\s+rope|rammed|ramming|(?:cash\s*machine|ATM)\s+theft)\b", _I)
BREAK_IN = re.compile(r"\b(?:forc(?:ed|ing)\s+(?:open|entry)|cut\s+(?:into|open|through)|angle[- ]grinders?|disc\s+cutters?|"
                      r"cutting\s+(?:equipment|tools?|gear)|broke\s+into\s+(?:the|a)\s+(?:cash\s*machine|ATM|machine)|"
                      r"(?:cash\s*machine|ATM|machine)\s+(?:was|were)\s+broken\s+into|broken\s+into|cassettes?|"
                      r"prised\s+open|jemmied|crowbar|drill(?:ed|ing)?|safe\s+inside|door\s+in\s+the\s+(?:cash\s*machine|ATM))\b", _I)
CIT_ROBBERY = re.compile(r"\b(?:rob(?:bed|bery|beries|bers?|bing)|snatch\w*|grabb?\w*|held\s+up|hold[- ]up|heist|"
                         r"ambush\w*|attack(?:ed|ing)?|threaten(?:ed|ing)|assault(?:ed)?|made\s+off\s+with|"
                         r"stole|stolen|took|taken|steal\w*|tried\s+to\s+(?:take|grab|snatch|steal|rob)|"
                         r"knife-?point|gun-?point|at\s+gunpoint|armed|punched|targeted|wrestl\w+|struggl\w+)\b", _I)

ATTEMPTED = re.compile(r"\b(?:attempt(?:ed|s|ing)?|tried\s+to|trying\s+to|try\s+to|failed|fail\s+to|foil(?:ed|ing)?|"
                       r"thwart(?:ed|ing)?|bid\s+to|unsuccessful\w*|in\s+vain|nothing\s+(?:was\s+|had\s+been\s+)?"
                       r"(?:taken|stolen)|no\s+(?:cash|money)\s+(?:was\s+|had\s+been\s+)?(?:taken|stolen)|"
                       r"(?:fled|left|escaped|made\s+off)\s+empty[- ]handed|empty[- ]handed|without\s+(?:any\s+)?"
                       r"(?:cash|money|the\s+(?:cash|money|machine))|disturbed|abandon(?:ed|ing)\s+(?:the|their)\s+"
                       r"(?:attempt|raid|machine|cash\s*machine|ATM)|dropped\s+(?:the|a)\s+(?:cash\s*)?box)\b", _I)
NOT_ATTEMPTED = re.compile(r"\b(?:got\s+away\s+with|made\s+off\s+with|escaped\s+with|stole\s+(?:an?\s+)?(?:undisclosed|"
                           r"quantity|sum|amount|£|\d)|(?:cash|money|£[\d,.]+\w*)\s+(?:was|were)\s+(?:taken|stolen)|"
                           r"cash\s+(?:was\s+)?taken|successfully|managed\s+to\s+(?:steal|take|remove|break))\b", _I)

MO_TAGS: tuple[tuple[str, re.Pattern], ...] = (
    ("plant", re.compile(r"\b(?:diggers?|JCBs?|telehandlers?|excavators?|tractors?|forklifts?|fork-lift\w*|dumper\w*|"
                         r"loading\s+shovels?|plant\s+(?:machinery|vehicles?|equipment)|mechanical\s+shovels?)\b", _I)),
    ("vehicle", re.compile(r"\b(?:rammed|ramming|ram[- ]?raid\w*|chains?|towed|tow\s+rope|pick-?up|4x4|"
                           r"(?:dragged|pulled)\s+(?:\w+\s+){0,4}?(?:by|with|behind)\s+(?:a|an)\s+(?:\w+\s+)?(?:vehicle|car|van|truck|lorry))\b", _I)),
    ("gas", re.compile(r"\b(?:gas(?:sed|sing)?\b(?!\s+station)|oxy-?acetylene|acetylene)", _I)),
    ("explosive", re.compile(r"\b(?:explosives?|explosive\s+devices?|detonat\w+|dynamite)\b", _I)),
    ("cutting_tool", re.compile(r"\b(?:angle[- ]grinders?|disc\s+cutters?|cutting\s+(?:equipment|tools?|gear)|"
                                r"power\s+tools?|cut\s+(?:into|open|through)|drill(?:ed|s)?)\b", _I)),
    ("firearm", re.compile(r"\b(?:guns?|gunmen|gunman|gunpoint|firearms?|shotguns?|pistols?|handguns?|shot|"
                           r"fired|rifles?|revolvers?)\b", _I)),
    ("knife", re.compile(r"\b(?:knife|knives|knifepoint|knife-point|machetes?|blades?)\b", _I)),
    ("weapon", re.compile(r"\b(?:axes?|hammers?|crowbars?|baseball\s+bats?|bats?|sledgehammers?|iron\s+bars?|"
                          r"metal\s+bars?|weapons?)\b", _I)),
    ("crew_assaulted", re.compile(r"\b(?:assault\w*|punched|kicked|hit\s+(?:over|on|in)\s+the|beaten|injur\w+|"
                                  r"hurt|hospital|sprayed|pepper\s+spray|CS\s+gas|knocked\s+(?:to\s+the\s+ground|over)|"
                                  r"wrestled|pushed\s+to\s+the\s+ground|struck)\b", _I)),
)

COURT_STAGES: tuple[tuple[str, re.Pattern], ...] = (
    ("sentenced", re.compile(r"\b(?:jailed|sentenced|sentencing|(?:handed|given|received|receive|serve|serving)\s+"
                             r"(?:\w+\s+){0,2}(?:sentences?|terms?)|imprisoned|locked\s+up|years?\s+(?:behind\s+bars|in\s+prison|jail)|"
                             r"prison\s+sentences?|jail\s+terms?|given\s+(?:a\s+)?\d+\s+years?|suspended\s+sentence|"
                             r"community\s+order|detained\s+for)\b", _I)),
    ("convicted", re.compile(r"\b(?:convicted|found\s+guilty|pleaded\s+guilty|pled\s+guilty|admitted\s+(?:charges?|"
                             r"conspiracy|burglary|robbery|theft|his\s+part|their\s+part)|guilty\s+pleas?|verdicts?|jury)\b", _I)),
    ("charged", re.compile(r"\b(?:charged|accused|appeared\s+(?:at|in|before)|appear\s+(?:at|in|before)|"
                           r"court|magistrates|remanded|trial|extradit\w+|handed\s+over|prosecut\w+|defendants?|"
                           r"denies|denied\s+(?:charges?|the)|indicted|bail)\b", _I)),
    ("arrest", re.compile(r"\b(?:arrest(?:ed|s)?|detained|in\s+custody|held\s+on\s+suspicion|custody)\b", _I)),
)
COURT_TITLE = re.compile(r"\b(?:jailed|sentenced|convicted|guilty|charged|accused|court|trial|jail|prison|"
                         r"arrest(?:ed|s)?|extradit\w+|hands?\s+over|suspects?|admits?|years?|bag\s+\d+|convictions?|"
                         r"locked\s+up|behind\s+bars)\b", _I)
CAMPAIGN = re.compile(r"\b(?:operation|operations|crackdown|initiative|campaign|scheme|advice|advise[sd]?|urg(?:e|es|ed|ing)|"
                      r"vigilan(?:t|ce)|statistics|figures|survey|data|FOI|freedom\s+of\s+information|per\s+cent|percent|"
                      r"award\w*|partnership|patrols?|prevent\w*|deter\w*|awareness|BSIA|SaferCash|Banknote\s+Watch|"
                      r"industry|retailers|businesses|epidemic|rise\s+in|increase\s+in|spate|series\s+of|number\s+of|"
                      r"trend|ROCU|regional\s+organised\s+crime|tips|security\s+measures|crime\s+prevention|"
                      r"working\s+(?:together|with)|each\s+year|every\s+year|annual|report\s+(?:shows|reveals|found))\b", _I)
PAST = re.compile(r"\b(?:last\s+(?:year|month|summer|winter|spring|autumn)|earlier\s+this\s+(?:year|month)|"
                  r"(?:in|since|back\s+in|during)\s+(?:(?:early|late|mid)[- ])?(?:(?:jan|febr)uary\s+|march\s+|april\s+|may\s+|june\s+|july\s+|"
                  r"august\s+|(?:septem|octo|novem|decem)ber\s+)?(?:19|20)\d\d|previous(?:ly)?|earlier\s+(?:attack|raid|incident|theft)s?|"
                  r"(?:weeks|months|years)\s+(?:ago|earlier|before)|a\s+(?:week|month|year)\s+(?:ago|earlier|before)|"
                  r"similar\s+(?:attack|raid|incident|theft)|also\s+been\s+targeted|had\s+been\s+targeted|"
                  r"was\s+(?:also\s+)?targeted\s+(?:in|last)|the\s+(?:same|previous)\s+(?:store|shop|machine|site|branch)|"
                  r"follows?\s+(?:an?|the)\s+(?:\w+\s+){0,3}(?:attack|raid|theft|incident)|comes?\s+(?:after|weeks|days|just)|"
                  r"latest\s+in\s+a)\b", _I)
FRESH = re.compile(r"\b(?:today|this\s+(?:morning|afternoon|evening)|tonight|last\s+night|yesterday|overnight|"
                   r"early\s+hours|in\s+the\s+early\s+hours|on\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|"
                   r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\s+(?:morning|night|evening|afternoon)|"
                   r"\d{1,2}(?:[.:]\d\d)?\s*(?:am|pm)|appeal\w*\s+for\s+(?:witnesses|information)|are\s+appealing|"
                   r"police\s+were\s+called|officers\s+were\s+called|emergency\s+services)\b", _I)


@dataclass(frozen=True, slots=True)
class AttackSentence:
    """What one sentence says about an attack: its type and the rule family that decided it."""

    type: str | None  # atm_theft | atm_explosive | atm_break_in | cit_robbery; None: an ATM, method unsaid
    strong: bool  # a decisive attack word (stolen, robbed, blown up...), not only "targeted"/"hit"
    near_miss: str | None  # the near-miss family present in the sentence, if any


def _near_miss(sentence: str) -> str | None:
    for family, rx in NEAR_MISS.items():
        if rx.search(sentence):
            return family
    return None


def atm_type(text: str) -> str | None:
    """The ATM attack type named in ``text`` by the type lexicons, or None when none applies."""
    if EXPLOSIVE.search(text):
        return "atm_explosive"
    if THEFT_WHOLE.search(text):
        return "atm_theft"
    if EXPLOSION_WEAK.search(text):
        return "atm_explosive"
    if BREAK_IN.search(text):
        return "atm_break_in"
    return None


def attack_sentence(sentence: str) -> AttackSentence | None:
    """Whether ``sentence`` reports an attack on an ATM or on cash-in-transit staff or vehicles.

    ATM: an ATM word and an attack word in the same sentence, unless the sentence is about card
    fraud, fees or closures (the machine is not the target). CIT: a CIT word and a robbery word,
    unless it is about a road accident. The type comes from the type lexicons; an ATM sentence
    with no type word defaults to whole-machine theft when the machine was stolen, else break-in.
    """
    has_atm = ATM.search(sentence)
    has_cit = CIT.search(sentence)
    if not has_atm and not has_cit:
        return None
    attack = ATTACK.search(sentence)
    if not attack:
        return None
    strong = bool(ATTACK_STRONG.search(sentence))
    miss = _near_miss(sentence)
    cit_victim = bool(CIT_STRONG.search(sentence)) and bool(CIT_ROBBERY.search(sentence))
    if has_atm and not (cit_victim and _cit_over_atm(sentence)):
        if miss == "fraud" or miss == "fees":
            return None
        kind = atm_type(sentence)
        if kind is None and not re.search(r"\b(?:stole|stolen|steal\w*|theft|thefts|thie(?:f|ves)|bro(?:ke|ken)|"
                                          r"break[- ]?ins?|burgl\w+|forced|damag\w*|tamper\w*|raid\w*|attack\w*|"
                                          r"target\w*|smash\w*|rob\w*|heist)\b", sentence, _I):
            return None
        # kind None: an attack on an ATM whose method this sentence does not say
        return AttackSentence(kind, strong, miss)
    if cit_victim:
        if miss in ("accident", "fraud", "drugs"):
            return None
        if miss == "till" and not CIT_CREW.search(sentence):
            return None  # a bus fare box or a shop till, not a cash-in-transit delivery
        if not CIT_STRONG.search(sentence):
            return None
        return AttackSentence("cit_robbery", strong, miss)
    return None


def _cit_over_atm(sentence: str) -> bool:
    """CIT staff are the victims ("guards robbed while filling the ATM"), not the machine."""
    return bool(re.search(r"\b(?:guards?|couriers?|custodians?|crew|security\s+(?:staff|workers?|men|man|officers?)|"
                          r"G4S|Loomis|Brinks|Securitas|Group\s*4|cash\s*box|cashbox|cash\s+case|cassette\s+box|"
                          r"security\s+van)\b", sentence, _I)) and not EXPLOSIVE.search(sentence) \
        and not THEFT_WHOLE.search(sentence)


def is_attempted(text: str) -> bool:
    """Nothing was taken: an attempt, a failure, fled empty-handed, disturbed, box dropped."""
    return bool(ATTEMPTED.search(text)) and not NOT_ATTEMPTED.search(text)


def mo_tags(text: str) -> list[str]:
    """Modus operandi tags named in ``text`` (in the fixed order of :data:`MO_TAGS`)."""
    tags = [tag for tag, rx in MO_TAGS if rx.search(text)]
    if "firearm" in tags and re.search(r"\bCS\s+gas\b|\bshot\s+(?:of|at\s+the\s+title)\b", text) and \
            not re.search(r"\b(?:guns?|firearms?|shotguns?|pistols?)\b", text, _I):
        tags.remove("firearm")
    return tags


def court_stage(text: str) -> str | None:
    """How far a case has got, the furthest stage named: sentenced > convicted > charged > arrest."""
    for stage, rx in COURT_STAGES:
        if rx.search(text):
            return stage
    return None


def court_score(text: str) -> int:
    """How many court/arrest words ``text`` has (a density signal, not a probability)."""
    return sum(len(rx.findall(text)) for _, rx in COURT_STAGES)


def campaign_score(text: str) -> int:
    """How many campaign words (operations, advice, statistics, industry) ``text`` has."""
    return len(CAMPAIGN.findall(text))


def is_past(sentence: str) -> bool:
    """The sentence places its event in the past relative to the news ("last year", "in 2018")."""
    return bool(PAST.search(sentence))


def is_fresh(sentence: str) -> bool:
    """The sentence has news-time markers ("this morning", "on Tuesday", "at 3am", an appeal)."""
    return bool(FRESH.search(sentence))
