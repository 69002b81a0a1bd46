"""The same news told many ways: each attack type in several phrasings, subjects, shops, towns and times.

Written for these tests (no article's wording), to hold the reading to the idea rather than to the
phrasings the labelled articles happen to use: the verb phrase alone must make the attack ("a gang
pulled an ATM out of the wall"), a town named like an ordinary word is a town when introduced as one
("in Wick"), and near misses stay out however they are phrased. Every combination is built from a fixed
seed, so a failure names its sentence and reproduces.
"""
from __future__ import annotations

import random
from datetime import date

import pytest

from cashwatch.models import Article

PUBLISHED = date(2024, 3, 6)  # a Wednesday

TOWNS = [("Kettering", "northamptonshire"), ("Wigan", "greater-manchester"), ("Ballymena", "psni"),
         ("Paisley", "police-scotland"), ("Merthyr Tydfil", "south-wales"), ("Truro", "devon-and-cornwall"),
         ("Hexham", "northumbria"), ("Grantham", "lincolnshire"), ("Bicester", "thames-valley"),
         ("Llandudno", "north-wales"), ("Stowmarket", "suffolk"), ("Ripon", "north-yorkshire"),
         ("Yeovil", "avon-and-somerset"), ("Chesterfield", "derbyshire"), ("Wick", "police-scotland"),
         ("Sandy", "bedfordshire")]
SHOPS = ["a Co-op store", "a petrol station", "the Tesco Express", "a branch of Barclays", "a convenience store",
         "the Spar shop", "a post office", "the One Stop shop"]
# each with the days it may mean, published on a Wednesday
TIMES = {"overnight": {date(2024, 3, 5), date(2024, 3, 6)}, "in the early hours of Tuesday": {date(2024, 3, 5)},
         "on Monday night": {date(2024, 3, 4)}, "at about 3am on Sunday": {date(2024, 3, 3)},
         "yesterday morning": {date(2024, 3, 5)}, "shortly after 2am on Friday": {date(2024, 3, 1)}}
FOLLOW = ["Police are appealing for witnesses.", "Anyone with information is asked to call 101.",
          "Detectives believe the offenders fled in a dark car."]
TITLES = ["Police appeal", "Appeal for witnesses after overnight raid", "Investigation under way"]

ATTACKS = {
    "atm_theft": [
        "A gang pulled an ATM out of the wall at {shop} in {town} {time}.",
        "Two men hauled a cash machine away from {shop} in {town} {time}.",
        "Criminals made off with a cashpoint from {shop} in {town} {time}.",
        "A cash machine was ripped from the wall of {shop} in {town} {time}.",
        "An ATM has been stolen from {shop} in {town} {time}.",
        "Police are hunting a gang who used a forklift to lift an ATM out of {shop} in {town} {time}.",
        "Offenders reversed a 4x4 into {shop} in {town} {time} and made off with the cash machine.",
        "A telehandler was driven into the front of {shop} in {town} {time} and the ATM was removed.",
    ],
    "atm_explosive": [
        "Two men detonated a device inside a cash machine at {shop} in {town} {time}.",
        "A cash machine was blown apart at {shop} in {town} {time}.",
        "Gas was pumped into the cashpoint at {shop} in {town} {time} before it was ignited.",
        "Residents were woken by a loud bang {time} when the cash machine at {shop} in {town} was blown up.",
        "The ATM at {shop} in {town} was targeted in an explosive attack {time}.",
    ],
    "atm_break_in": [
        "A gang used power tools to break into an ATM at {shop} in {town} {time}.",
        "Masked men smashed their way into the cash machine at {shop} in {town} {time}.",
        "Offenders used an angle grinder to get into the cash machine at {shop} in {town} {time}.",
        "Burglars cut into the ATM at {shop} in {town} {time} and took the cash cassettes.",
        "The cash machine at {shop} in {town} was broken into {time}.",
    ],
    "cit_robbery": [
        "Masked men robbed a cash van crew outside {shop} in {town} {time}.",
        "A security guard was robbed of a cash box outside {shop} in {town} {time}.",
        "Two men attacked a cash-in-transit worker as he delivered money to {shop} in {town} {time}.",
        "A cash delivery driver was held up at gunpoint outside {shop} in {town} {time}.",
        "A security van crew was ambushed while restocking the cash machine at {shop} in {town} {time}.",
        "A cross-pavement robbery took place outside {shop} in {town} {time}.",
        "A guard delivering cash to the ATM at {shop} in {town} was sprayed in the face and robbed {time}.",
    ],
}
NEAR_MISSES = [
    "A woman was robbed after withdrawing cash from an ATM outside {shop} in {town} {time}.",
    "Customers at {shop} in {town} will now pay £1.99 to take money from the cash machine.",
    "A skimming device was found attached to the cash machine at {shop} in {town} {time}.",
    "A man threatened staff at {shop} in {town} {time} and stole cash from the till.",
    "A JCB digger was stolen from a farm near {town} {time}.",
    "The cash machine at {shop} in {town} has been removed for good as the branch closes.",
]
VARIANTS = 4  # combinations per sentence


def _articles(template: str, seed: int):
    rnd = random.Random(f"{template}#{seed}")
    for n in range(VARIANTS):
        town, force = rnd.choice(TOWNS)
        when = rnd.choice(sorted(TIMES))
        text = template.format(shop=rnd.choice(SHOPS), town=town, time=when)
        body = f"{text}\n\n{' '.join(rnd.sample(FOLLOW, 2))}"
        yield Article(article_id=f"v{n}", url=f"https://news.example/{n}", title=rnd.choice(TITLES), text=body,
                      published=PUBLISHED), text, force, TIMES[when]


@pytest.mark.parametrize("itype, template", [(t, s) for t, ss in ATTACKS.items() for s in ss])
def test_each_phrasing_is_read_as_its_attack(analyser, itype, template):
    for article, text, force, days in _articles(template, 1):
        a = analyser.analyse(article)
        primary = [i for i in a.incidents if i.role == "primary"]
        assert a.kind == "incident", text
        assert [(i.type, i.force) for i in primary] == [(itype, force)], text
        assert primary[0].date in days, text


@pytest.mark.parametrize("template", NEAR_MISSES)
def test_near_misses_raise_no_incident(analyser, template):
    for article, text, _, _ in _articles(template, 2):
        a = analyser.analyse(article)
        assert not [i for i in a.incidents if i.role == "primary"], text
