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
from functools import reduce
from operator import or_

from cashwatch.processors.lexicon import found, gate, lexicon, word_bits, word_char, word_starts

def _rx(pattern: str) -> re.Pattern:
    """A lexicon pattern compiled for lower-cased text: case-sensitive matching of a lower-cased
    pattern is several times faster than ``re.I``; every function here lower-cases its input.
    (Led by a look-ahead for its first letters: :func:`cashwatch.processors.lexicon.lexicon`.)"""
    return lexicon(pattern.lower())

ATM = _rx(r"\b(?:ATMs?|cash\s*machines?|cash[- ]?points?|cash\s+dispensers?|bank\s+machines?|"
                 r"hole[- ]in[- ]the[- ]wall|money\s+machines?|cash\s+terminals?)\b")
# ATM in all-caps text would match "atm" in words; the pattern is case-insensitive but word-bounded.
CIT = _rx(r"\b(?:cash[- ]in[- ]transit|CIT|CViT|cross[- ]pavement|security\s+(?:guards?|vans?|officers?|workers?|"
                 r"couriers?|men|man|crews?|staff|employees?|vehicles?|company|firm)|"
                 r"(?:cash|money)\s*(?:boxe?s?|case|cases|cassettes?|bags?|deliver(?:y|ies)|collections?|vans?|couriers?|canisters?|"
                 r"trucks?|lorr(?:y|ies))|"
                 r"cashbox(?:es)?|couriers?|custodians?|guards?|armou?red\s+(?:vans?|vehicles?|cars?|trucks?)|"
                 r"(?:G4S|Loomis|Brinks|Brink's|Securitas|Group\s*4(?:\s+Securicor)?|Securicor|Prosegur|Vaultex|Garda\s+World)"
                 r")\b")  # whole words: "CIT" is not "city"
CIT_STRONG = _rx(r"\b(?:cash[- ]in[- ]transit|CIT|CViT|security\s+(?:guards?|vans?|couriers?|workers?|crews?|officers?)|"
                        # "cross-pavement": the industry's word for the carry between van and premises
                        r"cross[- ]pavement|"
                        r"cash\s+(?:vans?|trucks?|lorr(?:y|ies)|delivery\s+(?:workers?|drivers?|staff|crews?|vans?))|"
                        r"cashbox|cash\s+box|cash\s+case|G4S|Loomis|Brinks|Securitas|Group\s*4|Securicor|Prosegur|"
                        r"couriers?|custodians?|armou?red\s+(?:vans?|vehicles?|trucks?))\b")

CIT_CREW = _rx(r"\b(?:cash[- ]in[- ]transit|CIT|CViT|security\s+(?:guards?|vans?|couriers?|workers?|crews?|"
                      r"officers?|staff|men|man|company|firm)|G4S|Loomis|Brinks|Securitas|Group\s*4|Securicor|Prosegur|"
                      r"couriers?|custodians?|guards?|armou?red\s+(?:vans?|vehicles?|trucks?))\b")
# fragments several lexicons share: a machine lifted out with its object between the verb's parts ("pulled an
# ATM out"), gas pumped in and lit, a way made into a machine ("smashed their way into")
_TAKEN = r"(?:pull|haul|winch|lift)(?:s|ed|ing)?\s+(?:[\w'’-]+\s+){0,4}?"  # then where to: "out", "away" ...
_GAS_LIT = r"ignit(?:ed|ing)|gas\s+(?:was|were|had\s+been)\s+pumped|pump(?:ed|ing)\s+gas"
_WAY_IN = r"(?:smash\w*|forc\w+|cut|cutting|drill\w*)\s+(?:their|his|a)\s+way\s+in(?:to)?"
ATTACK = _rx(r"\b(?:stole|stolen|steal(?:s|ing)?|theft|thefts|thie(?:f|ves)|raid(?:s|ed|ers?)?|ram[- ]?raid\w*|"
                    r"rip(?:ped|ping)?|tor[en]|tearing|drag(?:s|ged|ging)?|" + _TAKEN + "(?:out|from|off|away|free)|ignition|" + _GAS_LIT + "|"
                    r"(?:get|gets|got|getting)\s+into|gain(?:ed|ing)?\s+(?:access|entry)\s+to|"
                    r"blow(?:n|ing)?|blew|blast(?:ed)?|explo(?:sion|sions|sive|sives|ded|de|ding)|bang|"
                    r"bro(?:ke|ken)\s+(?:into|in\s+to|open)|break(?:s|ing)?\s+(?:into|open)|break[- ]?ins?|burgl\w+|detonat\w+|forc(?:e|ed|ing)\s+(?:open|entry|access|(?:their|a)\s+way\s+in(?:to)?)|"
                    r"prised|prised|jemmied|cut\s+(?:into|open|through)|rob(?:bed|bery|beries|bers?|bing)?|"
                    r"snatch(?:ed|es|ing)?|grabb?(?:ed|ing)|heist|hold[- ]?up|held\s+up|ambush(?:ed)?|"
                    r"attack(?:ed|s|ing)?|target(?:ed|ing)|hit|struck|smash(?:ed|ing)?|rammed|ramming|"
                    r"demolish\w*|uproot\w*|wrench\w*|remov(?:ed|e|ing)|made\s+off|tamper\w*|damag\w*|pounced|"
                    r"threaten(?:ed|ing)|confronted|menaced|(?:knife|gun)-?point)\b")
ATTACK_STRONG = _rx(r"\b(?:stole|stolen|steal\w*|theft|thefts|thie(?:f|ves)|ram[- ]?raid\w*|ripp(?:ed|ing)|"
                           r"tor[en]|dragg(?:ed|ing)|" + _TAKEN + "(?:out|from|away|free)|" + _GAS_LIT + "|"
                           r"blown|blew|blow(?:ing)?\s+(?:up|open)|blast|explo\w+|detonat\w+|"
                           r"bro(?:ke|ken)\s+(?:into|open)|break(?:s|ing)?\s+(?:into|open)|break[- ]?in|made\s+off\s+with|"
                           + _WAY_IN + r"|burgl\w+|forced\s+open|rob(?:bed|bery|beries|bers?)|"
                           r"snatch\w*|heist|raid(?:ed|ers?)?|rammed|attacked|uproot\w*)\b")

NEAR_MISS = {
    "fraud": _rx(r"\b(?:skimm\w*|card\s+trap\w*|card[- ]reader|PIN\s+(?:number|pad)|shoulder[- ]surf\w*|"
                        r"distract\w*|fraud\w*|scam\w*|con(?:ned)?\s+|card\s+(?:swap|theft|thefts|details)|"
                        r"cloned|counterfeit|bank\s+cards?|debit\s+cards?|credit\s+cards?|phishing|"
                        # a person at the machine is the target, not the machine
                        r"(?:wom[ae]n|m[ae]n|customers?|pensioners?|victims?|people|person|shoppers?)\s+(?:who\s+(?:was|were)\s+)?"
                        r"(?:using|withdrawing\s+(?:cash|money)\s+(?:from|at))\s+(?:a|an|the)\s+(?:cash\s*machines?|ATMs?|cash[- ]?points?)|"
                        r"(?:as|while|when|after|having)\s+(?:(?:he|she|they|the\s+\w+)\s+)?(?:was\s+|were\s+|had\s+)?(?:using|used|withdr[ae]w\w*\s+(?:cash|money)\s+"
                        r"(?:from|at))\s+(?:a|an|the)\s+(?:cash\s*machines?|ATMs?|cash[- ]?points?))\b"),
    "fees": _rx(r"\b(?:fees?|charg(?:e|es|ing)\s+(?:to|for)\s+withdraw\w*|free[- ]to[- ]use|pay[- ]to[- ]use|"
                        r"LINK\s+network|branch\s+closures?|closures?|clos(?:e|ed|ing)\s+(?:down|branch)|"
                        r"access\s+to\s+cash|planning\s+(?:application|permission)|install\w*|new\s+cash\s*machine|"
                        r"petition|campaign(?:ers|ing)?\s+for)\b"),
    "till": _rx(r"\b(?:till|tills|counter|cashier|postmaster|postmistress|sub-postmaster|safe|shop\s+worker|"
                        r"shop\s+assistant|staff\s+member|jewell?er\w*|phone\s+shop|mobile\s+phone|bus|buses|"
                        r"bus\s+driver|fares?|taxi|ticket\s+machine|parking\s+meter|charity\s+box|honesty\s+box)\b"),
    "accident": _rx(r"\b(?:overturn\w*|crash(?:ed)?|collision|collided|accident|rolled\s+over|jack-?knifed)\b"),
    "drugs": _rx(r"\b(?:cannabis|drugs?|cocaine|heroin|factory|warrant)\b"),
    # company news about security firms: takeovers, bids, contracts, results
    "business": _rx(r"\b(?:takeover|take\s+over|took\s+over|taken\s+over|taking\s+over|bidders?|bid\s+for|acquisitions?|acquir(?:e|ed|ing)|"
                    r"merger|shareholders?|share\s+price|shares|stock\s+exchange|profits?|revenues?|turnover|"
                    r"contracts?\s+(?:with|to|for)|billion)\b"),
    "farm": _rx(r"\b(?:farm\s+machinery|quad\s+bikes?|tractors?|trailers?|livestock|plant\s+theft|machinery\s+theft)\b"),
}

EXPLOSIVE = _rx(r"\b(?:(?<!cs )gas(?:sed|sing)?(?!\s+(?:stations?|mains?|leaks?|bills?|supply|suppl\w+|meters?|"
                r"engineers?|boilers?|works|pipes?))|gas\s+(?:canisters?|cylinders?|bottles?|attacks?)|oxy-?acetylene|acetylene|"
                       r"explosives?|explosive\s+devices?|blown\s+up|blew\s+up|blowing\s+up|blow\s+up|blown\s+open|blew\s+open|"
                       r"(?:blown|blew|blowing|blow)\s+(?:\w+\s+)?(?:apart|to\s+pieces)|pumped\s+(?:\w+\s+)?gas|gas\s+(?:was|were)\s+pumped|"
                       r"blast(?:ed)?\s+(?:open|the)|detonat\w+|dynamite|solid\s+explosive)\b")
EXPLOSION_WEAK = _rx(r"\b(?:explosions?|exploded|bang|blast)\b")
THEFT_WHOLE = _rx(r"\b(?:ram[- ]?raid\w*|diggers?|JCBs?|telehandlers?|excavators?|tractors?|forklifts?|fork-lift\w*|"
                  r"dumper(?:\s+truck)?s?|loading\s+shovels?|plant\s+(?:machinery|vehicles?)|"
                  r"(?:rip|drag|tore|torn|wrench|uproot|prised|pull|haul|winch|lift)\w*\s+(?:\w+\s+){0,4}?(?:out|from|off|away|free)|"
                  r"(?:cash\s*machine|ATM|cash[- ]?point|machine)s?\s+(?:was|were|had\s+been|has\s+been|being)\s+"
                  r"(?:ripped|torn|dragged|lifted|pulled|winched)|"
                  r"(?:left|leaving|leaves|created?)\s+(?:a|an)\s+(?:\w+\s+)?hole|(?:with|using|used|by)\s+(?:a\s+|heavy\s+)?"
                  r"(?:chains?|tow\s*ropes?|straps?)|chains?\s+(?:attached|around|wrapped)|towed|rammed|ramming)\b")
# "stole the cash machine", "ATM theft": the machine was taken, but these words are also used loosely
# for any attack, so a specific method (forced open, gas) wins over them
THEFT_GENERIC = _rx(r"\b(?:(?:cash\s*machine|ATM|cash[- ]?point|machine)s?\s+(?:was|were|had\s+been|has\s+been|being)\s+"
                    r"(?:stolen|taken|removed)|(?:stole|steal|stealing|take|took|taken|remove|removed|lift(?:ed)?)\s+"
                    r"(?:a|an|the|two|both)\s+(?:\w+\s+){0,3}?(?:cash\s*machines?|ATMs?|cash[- ]?points?)|"
                    r"(?:made|make|making|got)\s+(?:off|away)\s+with\s+(?:a|an|the|two|both)\s+(?:\w+\s+){0,2}?"
                    r"(?:cash\s*machines?|ATMs?|cash[- ]?points?)|"
                    r"(?:cash\s*machine|ATM)\s+thefts?)\b")
BREAK_IN = _rx(r"\b(?:forc(?:e|ed|ing)\s+(?:open|entry|access|(?:their|a)\s+way\s+in(?:to)?)|cut\s+(?:into|open|through)|angle[- ]grinders?|disc\s+cutters?|"
                      r"cutting\s+(?:equipment|tools?|gear)|(?:broke|break|breaking)\s+into\s+(?:the|a|an)\s+(?:cash\s*machine|ATM|machine|cash[- ]?point)|"
                      + _WAY_IN + r"\s+(?:the|a|an)\s+(?:cash\s*machine|ATM|machine|cash[- ]?point)|"
                      r"(?:cash\s*machine|ATM|machine)\s+(?:was|were|had\s+been)\s+broken\s+into|cassettes?|"
                      r"prised\s+open|jemm(?:y|ied|ying)|crowbars?|drill(?:ed|ing)?|tunnel(?:led|ed|ling|ing)?\s+(?:into|under|through|to)|safe\s+inside|door\s+in\s+the\s+(?:cash\s*machine|ATM))\b")
CIT_ROBBERY = _rx(r"\b(?:rob(?:bed|bery|beries|bers?|bing)|snatch\w*|grabb?\w*|held\s+up|hold[- ]up|heist|"
                         r"ambush\w*|attack(?:ed|ing)?|threaten(?:ed|ing)|assault(?:ed)?|made\s+off\s+with|hijack\w*|mugg(?:ed|ing)|"
                         r"stole|stolen|took|taken|steal\w*|tried\s+to\s+(?:take|grab|snatch|steal|rob)|"
                         r"knife-?point|gun-?point|at\s+gunpoint|armed|punched|targeted|wrestl\w+|struggl\w+|accost\w*|overpower\w*|"
                         # a crew set upon: raided, shot at, confronted ("two guards were approached by two men")
                         r"raid(?:s|ed|ers?)?|shot|shooting|fired|confront\w*|approached|set\s+upon|pounced)\b")

ATTEMPTED = _rx(r"\b(?:attempt(?:ed|s|ing)?|tried\s+to|trying\s+to|try\s+to|failed|fail\s+to|foil(?:ed|ing)?|"
                       r"thwart(?:ed|ing)?|bid\s+to|unsuccessful\w*|in\s+vain|nothing\s+(?:was\s+|had\s+been\s+)?"
                       r"(?:taken|stolen)|no\s+(?:cash|money)\s+(?:was\s+|had\s+been\s+)?(?:taken|stolen)|"
                       r"(?:fled|left|escaped|made\s+off)\s+empty[- ]handed|empty[- ]handed|without\s+(?:any\s+)?"
                       r"(?:cash|money|the\s+(?:cash|money|machine))|disturbed|abandon(?:ed|ing)\s+(?:the|their)\s+"
                       r"(?:attempt|raid|machine|cash\s*machine|ATM)|dropped\s+(?:the|a)\s+(?:cash\s*)?box)\b")
NOT_ATTEMPTED = _rx(r"\b(?:got\s+away\s+with|made\s+off\s+with|escaped\s+with|stole\s+(?:an?\s+)?(?:undisclosed|"
                           r"quantity|sum|amount|£|\d)|(?:cash|money|£[\d,.]+\w*)\s+(?:was|were)\s+(?:taken|stolen)|"
                           r"cash\s+(?:was\s+)?taken|successfully|managed\s+to\s+(?:steal|take|remove|break))\b")

MO_TAGS: tuple[tuple[str, re.Pattern], ...] = (
    ("plant", _rx(r"\b(?:diggers?|JCBs?|telehandlers?|excavators?|tractors?|forklifts?|fork-lift\w*|dumper\w*|"
                         r"loading\s+shovels?|plant\s+(?:machinery|vehicles?|equipment)|mechanical\s+shovels?)\b")),
    ("vehicle", _rx(r"\b(?:rammed|ramming|ram[- ]?raid\w*|(?:with|using|used|by)\s+(?:a\s+|heavy\s+)?chains?|"
                    r"chains?\s+(?:attached|around|wrapped)|towed|tow\s+rope|pick-?up|4x4|"
                           r"(?:dragged|pulled)\s+(?:\w+\s+){0,4}?(?:by|with|behind)\s+(?:a|an)\s+(?:\w+\s+)?(?:vehicle|car|van|truck|lorry))\b")),
    ("gas", _rx(r"\b(?:(?<!cs )gas(?:sed|sing)?\b(?!\s+(?:stations?|mains?|leaks?|bills?|supply))|oxy-?acetylene|acetylene)")),
    ("explosive", _rx(r"\b(?:explosives?|explosive\s+devices?|detonat\w+|dynamite)\b")),
    ("cutting_tool", _rx(r"\b(?:angle[- ]grinders?|disc\s+cutters?|cutting\s+(?:equipment|tools?|gear)|"
                                r"power\s+tools?|cut\s+(?:into|open|through)|drill(?:ed|s)?)\b")),
    ("firearm", _rx(r"\b(?:guns?|gunmen|gunman|gunpoint|firearms?|shotguns?|pistols?|handguns?|shot|"
                           r"fired|rifles?|revolvers?)\b")),
    ("knife", _rx(r"\b(?:knife|knives|knifepoint|knife-point|machetes?|blades?)\b")),
    ("weapon", _rx(r"\b(?:axes?|hammers?|crowbars?|baseball\s+bats?|bats?|sledgehammers?|iron\s+bars?|"
                          r"metal\s+bars?|weapons?)\b")),
    ("crew_assaulted", _rx(r"\b(?:assaulted|punched|kicked|hit\s+(?:over|on|in)\s+the|beaten|injured|hurt|injuries|"
                                  r"taken\s+to\s+hospital|treated\s+in\s+hospital|"
                                  r"sprayed|pepper\s+spray|CS\s+gas|knocked\s+(?:to\s+the\s+ground|over)|"
                                  r"wrestled|pushed\s+to\s+the\s+ground|struck\s+(?:him|her|them|the\s+(?:guard|courier|driver|man|woman|victim)))\b")),
)

COURT_STAGES: tuple[tuple[str, re.Pattern], ...] = (
    ("sentenced", _rx(r"\b(?:jailed|sentenced|sentencing|(?:handed|given|received|receive|serve|serving)\s+"
                             r"(?:\w+\s+){0,2}(?:sentences?|terms?)|imprisoned|locked\s+up|years?\s+(?:behind\s+bars|in\s+prison|jail)|"
                             r"prison\s+sentences?|jail\s+terms?|given\s+(?:a\s+)?\d+\s+years?|suspended\s+sentence|"
                             r"community\s+order|detained\s+for)\b")),
    ("convicted", _rx(r"\b(?:convicted|convictions?|found\s+guilty|pleaded\s+guilty|pled\s+guilty|admitted\s+(?:charges?|"
                             r"conspiracy|burglary|robbery|theft|his\s+part|their\s+part)|guilty\s+pleas?|verdicts?|jury)\b")),
    ("charged", _rx(r"\b(?:charged|accused|appeared\s+(?:at|in|before)|appear\s+(?:at|in|before)|"
                           r"court|magistrates|remanded|trial|extradit\w+|handed\s+over|prosecut\w+|defendants?|"
                           r"denies|denied\s+(?:charges?|the)|indicted|bail)\b")),
    ("arrest", _rx(r"\b(?:arrest(?:ed|s)?|detained|in\s+custody|held\s+on\s+suspicion|custody)\b")),
)
COURT_TITLE = _rx(r"\b(?:jailed|sentenced|convicted|guilty|charged|accused|court|trial|jail|prison|"
                         r"arrest(?:ed|s)?|extradit\w+|hands?\s+over|suspects?|admits?|years?|bag\s+\d+|convictions?|"
                         r"locked\s+up|behind\s+bars)\b")
CAMPAIGN = _rx(r"\b(?:operation|operations|crackdown|initiative|campaign|scheme|advice|advise[sd]?|urg(?:e|es|ed|ing)|"
                      r"vigilan(?:t|ce)|statistics|figures|survey|data|FOI|freedom\s+of\s+information|per\s+cent|percent|"
                      r"award\w*|partnership|patrols?|prevent\w*|deter\w*|awareness|BSIA|SaferCash|Banknote\s+Watch|"
                      r"industry|retailers|businesses|epidemic|rise\s+in|increase\s+in|spate|series\s+of|number\s+of|"
                      r"trend|ROCU|regional\s+organised\s+crime|tips|security\s+measures|crime\s+prevention|"
                      r"working\s+(?:together|with)|each\s+year|every\s+year|annual|report\s+(?:shows|reveals|found))\b")
PAST = _rx(r"\b(?:last\s+(?:year|month|summer|winter|spring|autumn)|earlier\s+this\s+(?:year|month)|"
                  r"(?:in|since|back\s+in|during)\s+(?:(?:early|late|mid)[- ])?(?:(?:jan|febr)uary\s+|march\s+|april\s+|may\s+|june\s+|july\s+|"
                  r"august\s+|(?:septem|octo|novem|decem)ber\s+)?(?:19|20)\d\d|"
                  # a span of months of a named year ("between July and November 2018"), as "in 2018"
                  r"(?:between|from)\s+(?:(?:jan|febr)uary|march|april|may|june|july|august|(?:septem|octo|novem|decem)ber)\s+"
                  r"(?:and|to|until)\s+(?:(?:jan|febr)uary|march|april|may|june|july|august|(?:septem|octo|novem|decem)ber)\s+"
                  r"(?:19|20)\d\d|previous(?:ly)?|earlier\s+(?:attack|raid|incident|theft)s?|"
                  r"(?:weeks|months|years)\s+(?:ago|earlier|before)|a\s+(?:week|month|year)\s+(?:ago|earlier|before)|"
                  r"similar\s+(?:attack|raid|incident|theft)|also\s+been\s+targeted|had\s+been\s+targeted|"
                  r"was\s+(?:also\s+)?targeted\s+(?:in|last)|the\s+(?:same|previous)\s+(?:store|shop|machine|site|branch)|"
                  r"follows?\s+(?:an?|the)\s+(?:\w+\s+){0,3}(?:attack|raid|theft|incident)|comes?\s+(?:after|weeks|days|just)|"
                  r"latest\s+in\s+a)\b")
# news-time markers: words, and a clock time ("at 3.30am"), which has no word to gate it on (is_fresh reads both)
FRESH = _rx(r"\b(?:today|this\s+(?:morning|afternoon|evening)|tonight|last\s+night|yesterday|overnight|"
                   r"early\s+hours|in\s+the\s+early\s+hours|on\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|"
                   r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\s+(?:morning|night|evening|afternoon)|"
                   r"appeal\w*\s+for\s+(?:witnesses|information)|are\s+appealing|"
                   r"police\s+were\s+called|officers\s+were\s+called|emergency\s+services)\b")
# a clock time: "at 3.30am", or a 24-hour one given as a time ("04:50 BST", "at 13:00", "shortly before 0450hrs")
FRESH_TIME = _rx(r"\b(?:\d{1,2}(?:[.:]\d\d)?\s*(?:am|pm)|(?:[01]?\d|2[0-3])[.:]?[0-5]\d\s*(?:bst|gmt|hrs|hours)|"
                 r"(?:at|around|about|before|after|until|from)\s+(?:[01]?\d|2[0-3])[:.][0-5]\d(?![.:]?\d|\s*(?:am|pm|%|per)))\b")


@dataclass(frozen=True, slots=True)
class AttackSentence:
    """What one sentence says about an attack: its type and the rule family that decided it."""

    type: str | None  # atm_theft | atm_explosive | atm_break_in | cit_robbery; None: an ATM, method unsaid
    strong: bool  # a decisive attack word (stolen, robbed, blown up...), not only "targeted"/"hit"
    near_miss: str | None  # the near-miss family present in the sentence, if any


def names_target(text: str) -> bool:
    """``text`` names an ATM or cash-in-transit target at all. (The analyser asks the same of an article
    sentence by sentence, through their word bits.)"""
    low = text.lower()
    return may_name_target(low) and bool(ATM.search(low) or CIT_STRONG.search(low))


def _near_miss(low: str, bits: int, families: tuple[str, ...]) -> str | None:
    for family in families:
        if found(NEAR_MISS[family], low, bits):
            return family
    return None


# The type lexicons in priority order: (name, type, lexicon).
ATM_TYPES: tuple[tuple[str, str, re.Pattern], ...] = (
    ("explosive", "atm_explosive", EXPLOSIVE),
    ("theft_whole", "atm_theft", THEFT_WHOLE),
    ("explosion_weak", "atm_explosive", EXPLOSION_WEAK),
    ("break_in", "atm_break_in", BREAK_IN),
    ("theft_generic", "atm_theft", THEFT_GENERIC),
)

_TARGETS = gate(ATM) | gate(CIT)  # (a sentence may name a target only if it has one of these bits)
# what one of the words of every ATM or CIT match begins with: a sentence that does not even contain one
# of these names no target, and a plain substring test is cheaper than taking its word bits
_TARGET_STARTS = tuple(sorted(set().union(*(word_starts(rx.pattern, rx.flags) for rx in (ATM, CIT)))))  # type: ignore[arg-type]


def may_name_target(low: str, starts: tuple[str, ...] = _TARGET_STARTS) -> bool:
    """Whether lower-cased ``low`` may name an ATM or CIT target: False means it does not (most news).
    ``starts``: the :func:`target_starts` of a text that holds ``low``, if known (fewer to look for)."""
    return any(map(low.__contains__, starts))


def target_starts(low: str) -> tuple[str, ...]:
    """Those of the target words' beginnings that begin a word of lower-cased ``low`` (none: it names no
    target; "city", "whole" or "treatment" alone name none)."""
    out = []
    for start in _TARGET_STARTS:
        at = low.find(start)
        while at > 0 and word_char(low[at - 1]):  # inside a word
            at = low.find(start, at + 1)
        if at >= 0:
            out.append(start)
    return tuple(out)

# an attack on an ATM whose method a sentence does not say
_ATTACKED = _rx(r"\b(?:stole|stolen|steal\w*|theft|thefts|thie(?:f|ves)|bro(?:ke|ken)|break[- ]?ins?|burgl\w+|forced|"
                r"damag\w*|tamper\w*|raid\w*|attack\w*|target\w*|smash\w*|rob\w*|heist)\b")


def atm_type(text: str, bits: int | None = None) -> str | None:
    """The ATM attack type named in ``text`` by the type lexicons, or None when none applies."""
    low = text.lower()
    if bits is None:
        bits = word_bits(low)
    for _, kind, rx in ATM_TYPES:
        if found(rx, low, bits):
            return kind
    return None


def attack_sentence(sentence: str, bits: int | None = None) -> AttackSentence | None:
    """Whether ``sentence`` reports an attack on an ATM or on cash-in-transit staff or vehicles.

    ATM: an ATM word and an attack word in the same sentence, unless the sentence is about card
    fraud, fees or closures (the machine is not the target). CIT: a CIT word and a robbery word,
    unless it is about a road accident. The type comes from the type lexicons; an ATM sentence
    with no type word defaults to whole-machine theft when the machine was stolen, else break-in.
    ``bits``: the :func:`~cashwatch.processors.lexicon.word_bits` of the sentence in lower case, if known.
    """
    low = sentence.lower()
    if bits is None:
        if not may_name_target(low):
            return None  # most sentences: no ATM or CIT word (the cheapest test)
        bits = word_bits(sentence)
    if not bits & _TARGETS:
        return None
    has_atm = found(ATM, low, bits)
    if not has_atm and not found(CIT, low, bits):
        return None
    filled = has_atm and found(BEING_FILLED, low, bits)  # the machine being filled: its crew is there
    cit_victim = (filled or found(CIT_STRONG, low, bits)) and found(CIT_ROBBERY, low, bits)
    if not cit_victim and not found(ATTACK, low, bits):
        return None  # (a cash-in-transit robbery has its own words: "the guard's cash box was taken")
    if has_atm and not (cit_victim and _cit_over_atm(low, bits)):
        miss = _near_miss(low, bits, ("fraud", "fees"))
        if miss:
            return None
        kind = atm_type(low, bits)
        if kind is None and not found(_ATTACKED, low, bits):
            return None
        # kind None: an attack on an ATM whose method this sentence does not say
        return AttackSentence(kind, found(ATTACK_STRONG, low, bits), miss)
    if cit_victim:
        miss = _near_miss(low, bits, ("accident", "fraud", "drugs", "till"))
        if miss in ("accident", "fraud", "drugs"):
            return None
        if _near_miss(low, bits, ("business",)) and not found(ATTACK_STRONG, low, bits):
            return None  # "bidders have approached G4S", "took over its running": company news
        if miss == "till" and not (filled or found(CIT_CREW, low, bits)):
            return None  # a bus fare box or a shop till, not a cash-in-transit delivery
        if not (filled or found(CIT_STRONG, low, bits)):
            return None
        return AttackSentence("cit_robbery", found(ATTACK_STRONG, low, bits), miss)
    return None


_CIT_PEOPLE = _rx(r"\b(?:guards?|couriers?|custodians?|crew|security\s+(?:staff|workers?|men|man|officers?)|"
                  r"G4S|Loomis|Brinks|Securitas|Group\s*4|cash\s*box|cashbox|cash\s+case|cassette\s+box|"
                  r"security\s+van|cash\s+(?:delivery|collection)\s+(?:workers?|drivers?|staff|crews?|men|man))\b")
# the machine being filled: the crew filling it is there, and is what robbers at the machine go for
BEING_FILLED = _rx(r"\b(?:being\s+(?:re-?filled|replenished|restocked|filled|loaded)|replenishing|re-?filling|restocking|"
                  r"deliver(?:ing|ed)\s+(?:cash|money)\s+to\s+(?:a|an|the)\s+(?:cash\s*machine|ATM|cash[- ]?point)|"
                  r"(?:about|going|preparing|there)\s+to\s+(?:re-?fill|replenish|restock))\b")


def _cit_over_atm(low: str, bits: int) -> bool:
    """CIT staff are the victims ("guards robbed while filling the ATM"), not the machine (``low``:
    the sentence in lower case, ``bits`` its word bits)."""
    return (found(_CIT_PEOPLE, low, bits) or found(BEING_FILLED, low, bits)) and not found(EXPLOSIVE, low, bits) and \
        not found(THEFT_WHOLE, low, bits)


def is_attempted(text: str, bits: int | None = None) -> bool:
    """Nothing was taken: an attempt, a failure, fled empty-handed, disturbed, box dropped. ``bits``: the
    word bits of ``text``, if known."""
    low = text.lower()
    if bits is None:
        bits = word_bits(text)
    return found(ATTEMPTED, low, bits) and not found(NOT_ATTEMPTED, low, bits)


_NOBODY_HURT = lexicon(r"\b(?:not|no-one|no\s+one|nobody|none|neither)\b[^.]{0,40}?\b(?:hurt|injured|injuries|harmed)\b|"
                       r"\bunhurt\b|\buninjured\b|\bwithout\s+injur")
_ASSAULT = lexicon(r"\b(?:assaulted|punched|kicked|hit\s+(?:over|on|in)\s+the|beaten|sprayed|pepper\s+spray|"
                   r"knocked\s+(?:to\s+the\s+ground|over)|wrestled|pushed\s+to\s+the\s+ground|struck\s+(?:him|her|them))\b")

# a "shot" or CS gas that is no gunshot, unless a gun is named too
_NOT_GUNSHOT = lexicon(r"\bcs\s+gas\b|\bshot\s+(?:of|at\s+the\s+title)\b")
_GUN = lexicon(r"\b(?:guns?|firearms?|shotguns?|pistols?)\b")


def mo_tags(text: str) -> list[str]:
    """Modus operandi tags named in ``text`` (in the fixed order of :data:`MO_TAGS`)."""
    low = text.lower()
    bits = word_bits(low)
    tags = [tag for tag, rx in MO_TAGS if found(rx, low, bits)]
    return mo_checked(tags, low, bits)


def mo_checked(tags: list[str], low: str, bits: int) -> list[str]:
    """``tags`` found in lower-cased ``low`` (whose word bits are ``bits``) less those the text says did not
    happen (no-one hurt, a "shot" that is not a gunshot)."""
    if "crew_assaulted" in tags and found(_NOBODY_HURT, low, bits) and not found(_ASSAULT, low, bits):
        tags.remove("crew_assaulted")  # "no-one was hurt": the words are there, the assault is not
    if "firearm" in tags and found(_NOT_GUNSHOT, low, bits) and not found(_GUN, low, bits):
        tags.remove("firearm")
    return tags


STAGE_RANK = {"sentenced": 4, "convicted": 3, "charged": 2, "arrest": 1}


def court_stage(text: str) -> str | None:
    """How far a case has got, the furthest stage named: sentenced > convicted > charged > arrest."""
    return stage_of(word_counts(text.lower()))


def court_score(text: str) -> int:
    """How many court/arrest words ``text`` has (a density signal, not a probability)."""
    return sum(word_counts(text.lower())[1:])


def campaign_score(text: str, bits: int | None = None) -> int:
    """How many campaign words (operations, advice, statistics, industry) ``text`` has (``bits``: the
    word bits of the text in lower case, if known)."""
    low = text.lower()
    if not (word_bits(low) if bits is None else bits) & gate(CAMPAIGN):
        return 0
    return len(CAMPAIGN.findall(low))


# what ends most sentences, and no word of the target (ATM, CIT_STRONG), campaign, court, attack-type or
# modus operandi lexicons contains (tests/test_classify.py checks it): a match of those lexicons in
# sentences joined by spaces lies within one sentence when the earlier sentence ends with one of these
SENTENCE_CLOSERS = frozenset(".!?:)\"'”’")


def closes(low: str) -> bool:
    """``low`` ends with one of :data:`SENTENCE_CLOSERS`."""
    return bool(low) and low[-1] in SENTENCE_CLOSERS


def word_counts(low: str, bits: int | None = None) -> tuple[int, int, int, int, int]:
    """Campaign words, then court words per stage (in :data:`COURT_STAGES` order), of lower-cased text.

    ``campaign_score(t) == counts[0]``, ``court_score(t) == sum(counts[1:])`` and ``court_stage(t)``
    is the first stage counted (:func:`stage_of`). The counts of texts joined by a space add up when each text but the
    last :func:`closes`: an article counts its sentences once and adds them up for the headline, the
    lead and the whole text. ``bits``: the word bits of ``low``, if known.
    """
    if bits is None:
        bits = word_bits(low)
    if not bits & _COUNTED:
        return 0, 0, 0, 0, 0  # most sentences
    return (len(CAMPAIGN.findall(low)) if bits & gate(CAMPAIGN) else 0,  # type: ignore[return-value]
            *(len(rx.findall(low)) if bits & gate(rx) else 0 for _, rx in COURT_STAGES))


_COUNTED = gate(CAMPAIGN) | reduce(or_, (gate(rx) for _, rx in COURT_STAGES))


def stage_of(counts: tuple[int, ...]) -> str | None:
    """The court stage of :func:`word_counts` (what :func:`court_stage` says of the same text)."""
    for (stage, _), n in zip(COURT_STAGES, counts[1:]):
        if n:
            return stage
    return None


def is_past(sentence: str) -> bool:
    """The sentence places its event in the past relative to the news ("last year", "in 2018")."""
    low = sentence.lower()
    return found(PAST, low, word_bits(low))


def is_fresh(sentence: str, bits: int | None = None) -> bool:
    """The sentence has news-time markers ("this morning", "on Tuesday", "at 3am", an appeal). ``bits``:
    its word bits, if known."""
    low = sentence.lower()
    return found(FRESH, low, word_bits(sentence) if bits is None else bits) or (
        any(ch.isdigit() for ch in low) and FRESH_TIME.search(low) is not None)  # (every clock time holds a digit)
