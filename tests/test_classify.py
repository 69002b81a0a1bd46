"""Sentence-level rule families of cashwatch.processors.classify, on sentences written for these tests."""
from __future__ import annotations

import pytest

from cashwatch.processors import classify as C


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
    assert not C.is_past("The machine was ripped out at 3am on Sunday.")
    assert C.is_fresh("The machine was ripped out at 3am on Sunday.")
    assert not C.is_fresh("Cash machine attacks have fallen across the region.")


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
