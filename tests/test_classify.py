"""Sentence-level rule families of cashwatch.processors.classify, on sentences written for these tests."""
from __future__ import annotations

import pytest

from cashwatch.processors import classify as C
from cashwatch.processors.lexicon import word_bits


@pytest.mark.parametrize("sentence, expected", [
    # explosives and gas
    ("Raiders pumped gas into the cash machine at the village shop and blew it open.", "atm_explosive"),
    ("An ATM was blown up outside a petrol station in the early hours.", "atm_explosive"),
    ("Thieves used solid explosives to attack the cashpoint on the high street.", "atm_explosive"),
    # whole machine taken
    ("A stolen telehandler was used to rip the cash machine from the front of the store.", "atm_theft"),
    ("Burglars used a JCB digger to steal an ATM from a supermarket wall.", "atm_theft"),
    ("The cash machine was stolen after the gang rammed the shop with a 4x4.", "atm_theft"),
    ("Offenders tried to drag the cashpoint out with chains attached to a van.", "atm_theft"),
    # opened in place
    ("The ATM was forced open with an angle grinder and the cassettes were taken.", "atm_break_in"),
    ("Intruders broke into the cash machine inside the garage shop overnight.", "atm_break_in"),
    # cash-in-transit
    ("A G4S guard was robbed of a cash box as he walked into the bank.", "cit_robbery"),
    ("Two men threatened a security guard with a knife and snatched the money case.", "cit_robbery"),
    ("Loomis couriers were ambushed while refilling the cash machine at the supermarket.", "cit_robbery"),
])
def test_attack_sentence_types(sentence, expected):
    found = C.attack_sentence(sentence)
    assert found is not None, sentence
    assert found.type == expected


# The verb alone must say it: the subject is no offender word ("a gang", "two men"), so only the verb phrase,
# with the machine between its parts, makes these attacks and types them.
@pytest.mark.parametrize("sentence, expected", [
    ("A gang pulled an ATM out of the wall at the corner shop overnight.", "atm_theft"),
    ("Two men hauled the cash machine away from the filling station on a trailer.", "atm_theft"),
    ("Masked men winched the cashpoint free of the wall before dawn.", "atm_theft"),
    ("A gang made off with a cash machine from the village store.", "atm_theft"),
    ("Two men detonated a device inside the cash machine at the bank.", "atm_explosive"),
    ("A gang used power tools to break into an ATM at the garage.", "atm_break_in"),
    ("Two men smashed their way into the cash machine at the supermarket.", "atm_break_in"),
    ("A man was seen breaking into the cashpoint at the post office.", "atm_break_in"),
    ("A gang used a forklift to lift the ATM out of the shop front.", "atm_theft"),
    ("The cash machine was blown apart in the early hours.", "atm_explosive"),
    ("Gas was pumped into the cashpoint and ignited.", "atm_explosive"),
    ("Two men robbed a cash van crew outside the bank.", "cit_robbery"),
])
def test_the_verb_phrase_alone_makes_the_attack(sentence, expected):
    found = C.attack_sentence(sentence)
    assert found is not None, sentence
    assert (found.type, found.strong) == (expected, True)


@pytest.mark.parametrize("sentence", [
    "A cross-pavement robbery happened outside the building society at lunchtime.",  # the industry's own word
    "A guard delivering cash to a cash machine was sprayed in the face and robbed.",  # the crew at the machine
    "An armoured van was hijacked on the slip road.",
    "A Loomis courier was mugged as he carried a cash box.",
])
def test_cash_in_transit_robberies_in_other_words(sentence):
    found = C.attack_sentence(sentence)
    assert found is not None and found.type == "cit_robbery", sentence


def test_a_security_van_striking_something_is_an_accident_not_a_robbery():
    assert C.attack_sentence("The Loomis armoured truck struck a trailer and overturned on the bypass.") is None


def test_getting_into_a_machine_is_an_attack_its_tools_type():
    # "get into" is no decisive word by itself; the cutting gear says how
    found = C.attack_sentence("Offenders used cutting gear to get into the cash machine.")
    assert found is not None and found.type == "atm_break_in"
    assert C.attack_sentence("Police want to get into the habit of patrolling near the cash machine.") is None


@pytest.mark.parametrize("sentence", [
    # near misses that share the words
    "Customers were warned after a skimming device was found fitted to a cashpoint in town.",
    "Fraudsters stole the pensioner's bank card after watching her type her PIN at the ATM.",
    "Shoppers now face a fee of £1.85 to withdraw money from the cash machine after it was converted.",
    "A man threatened the shop worker and stole cash from the till before fleeing.",
    "A security van overturned on the motorway, but no one was hurt in the crash.",
    "Thieves tried to steal the fare cash box from the bus driver's cab.",
    "Police raided a house and seized cannabis plants worth thousands.",
    "Ram raiders smashed into the phone shop and stole handsets.",
    "The council hopes to install a new cash machine at the library next year.",
    "A pensioner was robbed after withdrawing cash from an ATM in the high street.",
])
def test_near_misses_are_not_attacks(sentence):
    assert C.attack_sentence(sentence) is None


@pytest.mark.parametrize("text, attempted", [
    ("They tried to rip the ATM out but fled empty-handed when the alarm sounded.", True),
    ("The raiders were disturbed and nothing was taken.", True),
    ("The robber dropped the box as he ran off.", True),
    ("The gang made off with an undisclosed sum of cash.", False),
    ("A cash machine was stolen from the forecourt.", False),
])
def test_attempted(text, attempted):
    assert C.is_attempted(text) is attempted
    # given the text's word bits (as the analyser does for an incident's sentences), the same answer
    assert C.is_attempted(text, word_bits(text)) is attempted


@pytest.mark.parametrize("text, tag", [
    ("A stolen excavator was used in the raid.", "plant"),
    ("Gas canisters were found at the scene.", "gas"),
    ("The robber pointed a handgun at the guard.", "firearm"),
    ("He was threatened at knifepoint.", "knife"),
    ("The guard was punched and taken to hospital.", "crew_assaulted"),
    ("They used an angle grinder on the safe door.", "cutting_tool"),
])
def test_mo_tags(text, tag):
    assert tag in C.mo_tags(text)


def test_mo_tags_absent_for_unrelated_text():
    assert C.mo_tags("The shop reopened on Monday morning.") == []


@pytest.mark.parametrize("text, stage", [
    ("Three men have been jailed for a total of 30 years.", "sentenced"),
    ("The pair pleaded guilty to conspiracy to commit burglary.", "convicted"),
    ("A 29-year-old man has been charged and will appear at magistrates.", "charged"),
    ("Two men were arrested on suspicion of burglary.", "arrest"),
    ("The ATM was stolen from the shop overnight.", None),
])
def test_court_stage(text, stage):
    assert C.court_stage(text) == stage


def test_past_and_fresh_markers():
    assert C.is_past("The same store was also targeted in 2019.")
    # a span of months of a named year is a period in the past, as "in 2019" is; a span of hours is not
    assert C.is_past("Eight shops were hit between March and October 2016.")
    assert C.is_past("Attacks rose from January to May 2020.")
    assert not C.is_past("Between 2pm and 3pm on Monday the van was robbed.")
    assert not C.is_past("The machine was ripped out at 3am on Sunday.")
    assert C.is_fresh("The machine was ripped out at 3am on Sunday.")
    assert not C.is_fresh("Cash machine attacks have fallen across the region.")
    # a clock time alone is a news-time marker, with or without minutes and a space
    for clock in ("at 11.45pm", "at 2:10 AM", "shortly after 4AM.", "around 9 pm"):
        assert C.is_fresh(f"Officers were called {clock}"), clock
    assert not C.is_fresh("The shop is at 11 Amber Road") and not C.is_fresh("Aged 12 and 4, the pm said")
    # a 24-hour time, given as a time of day: with its zone or "hrs", or after "at", "around", "before"...
    for clock in ("just before 03:20 GMT", "at 0215hrs", "around 22.40", "at 13:05 on the forecourt"):
        assert C.is_fresh(f"The alarm went off {clock}"), clock
    # figures that only look like times: money, scores, shares, rates
    for figure in ("The gang took 2.30 million", "It rose by 4.50%", "Shares closed at 12.40 per cent up",
                   "The bill came to 14.99 in all"):
        assert not C.is_fresh(figure), figure


@pytest.mark.parametrize("text, assaulted", [
    ("The courier was kicked and left with a broken wrist.", True),
    ("The crew were threatened with a crowbar but nobody was hurt.", False),
    ("Staff were shaken but uninjured.", False),
    ("The guard was punched, although he was not seriously injured.", True),
])
def test_crew_assaulted_respects_negation(text, assaulted):
    assert ("crew_assaulted" in C.mo_tags(text)) is assaulted


def test_gas_station_and_cs_gas_are_not_explosives():
    assert C.atm_type("Thieves used a digger to take an ATM from a gas station.") == "atm_theft"
    assert "gas" not in C.mo_tags("Officers used CS gas to arrest the man.")


# -- what lets the analyser read an article sentence by sentence ---------------------------------
from re import _parser as _sre_parse  # noqa: E402
from re._constants import (ANY, ASSERT, ASSERT_NOT, AT, AT_BOUNDARY, AT_NON_BOUNDARY, BRANCH, CATEGORY,  # noqa: E402
                           IN, LITERAL, MAX_REPEAT, MIN_REPEAT, NEGATE, RANGE, SUBPATTERN)

_CATEGORY_RX = {"CATEGORY_SPACE": r"\s", "CATEGORY_NOT_SPACE": r"\S", "CATEGORY_DIGIT": r"\d",
                "CATEGORY_NOT_DIGIT": r"\D", "CATEGORY_WORD": r"\w", "CATEGORY_NOT_WORD": r"\W"}


def _class_matches(items, ch: str) -> bool:
    negate, hit = False, False
    for op, av in items:
        if op is NEGATE:
            negate = True
        elif op is LITERAL:
            hit |= ch == chr(av)
        elif op is RANGE:
            hit |= av[0] <= ord(ch) <= av[1]
        elif op is CATEGORY:
            hit |= bool(__import__("re").match(_CATEGORY_RX[str(av)], ch))
        else:
            raise AssertionError(f"unexpected class item {op}")
    return hit != negate


def _never_reads(items, chars) -> None:
    """Asserts no part of a parsed pattern (look-arounds included) can consume any of ``chars``,
    every look-behind reads at least two characters, and the only anchors are word boundaries."""
    for op, av in items:
        if op is LITERAL:
            assert chr(av) not in chars
        elif op is IN:
            assert not any(_class_matches(av, c) for c in chars)
        elif op is ANY:
            raise AssertionError("'.' reads any character")
        elif op is AT:
            assert av in (AT_BOUNDARY, AT_NON_BOUNDARY), av
        elif op in (ASSERT, ASSERT_NOT):
            direction, sub = av
            if direction < 0:
                assert sub.getwidth()[0] >= 2, "a look-behind must read back past the space of a join"
            _never_reads(sub, chars)
        elif op is BRANCH:
            for alt in av[1]:
                _never_reads(alt, chars)
        elif op is SUBPATTERN:
            _never_reads(av[3], chars)
        elif op in (MAX_REPEAT, MIN_REPEAT):
            _never_reads(av[2], chars)
        else:
            raise AssertionError(f"unexpected pattern item {op}")


def _split_lexicons():
    yield "ATM", C.ATM  # (the target words: an article with no attack sentence is read for them sentence by sentence)
    yield "CIT_STRONG", C.CIT_STRONG
    yield "CAMPAIGN", C.CAMPAIGN
    for stage, rx in C.COURT_STAGES:
        yield stage, rx
    for name, _, rx in C.ATM_TYPES:
        yield name, rx
    for tag, rx in C.MO_TAGS:
        yield tag, rx


@pytest.mark.parametrize("name, rx", list(_split_lexicons()))
def test_lexicon_matches_never_span_a_closed_sentence(name, rx):
    # the analyser reads these lexicons sentence by sentence and adds up (classify.closes): valid
    # because a match starts at a word and cannot read a sentence's closing character
    items = _sre_parse.parse(rx.pattern, rx.flags).data
    if items[0][0] is ASSERT and items[0][1][0] > 0:  # the look-ahead for first letters (processors.lexicon)
        _never_reads(items[0][1][1], C.SENTENCE_CLOSERS)
        items = items[1:]
    assert items[0] == (AT, AT_BOUNDARY), name
    _never_reads(items, C.SENTENCE_CLOSERS)


def test_word_counts_add_up_over_closed_sentences():
    sentences = ["Police launched an operation after a rise in attacks.", "Two men were jailed at crown court.",
                 "Officers urge businesses to report anything suspicious!", "The men were charged, police said."]
    parts = [C.word_counts(s.lower()) for s in sentences]
    joined = C.word_counts(" ".join(sentences).lower())
    assert joined == tuple(map(sum, zip(*parts)))
    assert joined[0] == C.campaign_score(" ".join(sentences))
    assert sum(joined[1:]) == C.court_score(" ".join(sentences))
    assert C.stage_of(joined) == C.court_stage(" ".join(sentences)) == "sentenced"
    # a headline has no full stop: its last word and the next sentence's first may make one phrase
    head, first = "Figures show a rise", "In cash machine raids across the county."
    assert all(C.closes(s.lower()) for s in sentences) and not C.closes(head.lower())
    assert C.word_counts(f"{head} {first}".lower())[0] > C.word_counts(head.lower())[0] + C.word_counts(first.lower())[0]


@pytest.mark.parametrize("text", [
    "The crew were hit\tover the head and one was taken to\u00a0hospital.",
    "A gang used power\ttools and a disc  cutter to cut\tinto the machine.",
    "They left a huge hole after the machine was\twinched free with chains  attached to a pickup.",
    "Officers used CS\tgas; the gunman fired a shot and waved a machete and a baseball bat.",
    "Oxy-acetylene and gas cylinders were found after the blast.",
    "An excavator and a fork-lift truck were used; the cash point was lifted from the wall.",
    "The raiders prised open the door in the cash machine with a crowbar and took two cassettes.",
    "They stole the cash machine from the shop; an ATM theft was reported.",
    "He was handed a suspended\tsentence; the others were detained  for life after a jury verdict.",
    "The men, held on suspicion of burglary, were remanded and will face trial; figures show a rise\tin raids.",
])
def test_word_gates_pass_every_match(text):
    # a lexicon is only run on a text whose word bits hold its gate (processors.lexicon): every text it
    # matches, and every phrase it matches on its own, must have them
    from cashwatch.processors.lexicon import gate, word_bits

    low = text.lower()
    lexicons = [("CAMPAIGN", C.CAMPAIGN), ("PAST", C.PAST), ("ATM", C.ATM), ("CIT", C.CIT), ("ATTACK", C.ATTACK)]
    lexicons += list(C.MO_TAGS) + list(C.COURT_STAGES) + [(name, rx) for name, _, rx in C.ATM_TYPES]
    matched = 0
    for name, rx in lexicons:
        assert gate(rx) > 1, f"{name} has no gate"
        for m in rx.finditer(low):
            matched += 1
            assert word_bits(low) & gate(rx), (name, text)
            assert word_bits(m.group()) & gate(rx), (name, m.group())
    assert matched, "the sentence should match some lexicon"


@pytest.mark.parametrize("text, names_cit", [
    ("the cit crew was threatened", True),
    ("guards from g4s were delivering cash", True),
    ("shoppers in the city centre", False),     # "cit" is a word of its own, not the start of "city"
    ("the citadel car park", False),
])
def test_cit_lexicon_matches_whole_words(text, names_cit):
    assert bool(C.CIT.search(text)) is names_cit


@pytest.mark.parametrize("text, kind", [
    # robbed while the machine is being filled: the crew filling it is the victim, a cash-in-transit robbery
    ("Robbers struck as the cash machine outside the supermarket was being replenished.", "cit_robbery"),
    ("A man grabbed the cassette while a worker was refilling the ATM.", "cit_robbery"),
    # the crew and their vehicle named in other words
    ("Two men punched a cash delivery worker and ran off with a bag of notes.", "cit_robbery"),
    ("The gang held up a cash truck on the motorway.", "cit_robbery"),
    # the machine filled at another time, or attacked by its own method, stays an ATM attack
    ("The ATM was stolen before it could be replenished.", "atm_theft"),
    ("Thieves blew up the cash machine hours after it was refilled.", "atm_explosive"),
    ("A digger was used to rip out the ATM, which had been refilled on Friday.", "atm_theft"),
])
def test_attacks_on_the_crew_filling_a_machine_are_cit_robberies(text, kind):
    attack = C.attack_sentence(text)
    assert attack is not None and attack.type == kind


@pytest.mark.parametrize("text", [
    "Two men with crowbars attacked the cash machine at the filling station.",
    "Thieves tunnelled into the cash machine from an empty shop next door and stole the cash.",
    "Thieves jemmied the front panel of the ATM overnight.",
    "Two men tried to force access to the cash machine at a petrol station.",
    "The gang forced their way into the ATM's safe with power tools.",
])
def test_tools_that_open_a_machine_in_place_make_a_break_in(text):
    attack = C.attack_sentence(text)
    assert attack is not None and attack.type == "atm_break_in"


@pytest.mark.parametrize("text, kind", [
    # company news about security firms is not an attack on their crews
    ("Brinks is one of the bidders that have approached G4S about buying its cash business.", None),
    ("The prison was taken over from G4S by the government last year.", None),
    # unless a robbery is told outright
    ("Loomis won a contract with the bank after robbers stole a cash box from its van.", "cit_robbery"),
    # a crew member accosted or overpowered is robbed
    ("A cash-in-transit driver was accosted by a man in a helmet who demanded the cash box.", "cit_robbery"),
    ("Two men overpowered a Loomis guard outside the bank.", "cit_robbery"),
])
def test_security_firms_in_business_news_and_crews_attacked(text, kind):
    attack = C.attack_sentence(text)
    assert (attack.type if attack else None) == kind


@pytest.mark.parametrize("text", [
    "A man in his 70s was targeted as he used a cash machine in the high street.",
    "A woman was robbed while she was withdrawing cash from an ATM.",
    "Thieves targeted a pensioner using a cash machine outside the bank.",
])
def test_people_at_a_cash_machine_are_not_attacks_on_it(text):
    assert C.attack_sentence(text) is None
