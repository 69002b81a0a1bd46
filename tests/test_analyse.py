"""Whole-article analysis (cashwatch.processors.analyse), on short articles written for these tests."""
from __future__ import annotations

import random
import re
from datetime import date

import pytest

from cashwatch.models import Article
from cashwatch.processors.analyse import Analyser, clean_lines, split_sentences


def art(text: str, title: str = "", published: date | None = date(2023, 11, 8), hint: str | None = None,
        url: str = "https://news.example/story") -> Article:
    return Article(article_id="a-test", url=url, title=title, text=text, published=published, place_hint=hint)


def test_incident_with_place_date_and_mo(analyser):
    a = analyser.analyse(art(
        "Thieves used a stolen telehandler to rip a cash machine from the wall of a Co-op in Yaxley "
        "in the early hours of Tuesday.\nCambridgeshire Police said officers were called at 3.40am.\n"
        "The machine was later found dumped in a field.", title="Cash machine ripped from village store"))
    assert a.kind == "incident"
    [inc] = a.incidents
    assert (inc.type, inc.force, inc.region, inc.country, inc.town) == (
        "atm_theft", "cambridgeshire", "eastern", "GB", "Yaxley")
    assert inc.date == date(2023, 11, 7)  # Tuesday before the Wednesday publication
    assert "plant" in inc.mo and inc.role == "primary" and not inc.attempted
    assert inc.store == "Co-op" and inc.lat and inc.lon and 0 < inc.confidence <= 1
    assert "telehandler" in inc.evidence


def test_attempted_explosive_attack(analyser):
    a = analyser.analyse(art(
        "Raiders tried to blow up an ATM at a petrol station in Garforth last night but fled empty-handed.\n"
        "West Yorkshire Police are appealing for witnesses."))
    [inc] = a.incidents
    assert (inc.type, inc.force, inc.attempted, inc.date) == ("atm_explosive", "west-yorkshire", True, date(2023, 11, 7))


def test_cit_robbery(analyser):
    a = analyser.analyse(art(
        "A security guard was threatened with a knife and robbed of a cash box as he made a delivery to a bank "
        "in Halifax this morning.\nThe robber escaped on a moped."))
    [inc] = a.incidents
    assert (a.kind, inc.type, inc.force, inc.date) == ("incident", "cit_robbery", "west-yorkshire", date(2023, 11, 8))
    assert "knife" in inc.mo


def test_two_villages_the_same_night(analyser):
    a = analyser.analyse(art(
        "Gas was used to blow open a cash machine at a shop in Cosby in the early hours of Monday.\n"
        "In a separate incident the same night, thieves used a digger to steal an ATM in Kettering.\n"
        "Police are investigating whether the attacks are linked."))
    got = sorted((i.type, i.force) for i in a.incidents if i.role == "primary")
    assert got == [("atm_explosive", "leicestershire"), ("atm_theft", "northamptonshire")]


def test_past_attack_is_a_reference(analyser):
    a = analyser.analyse(art(
        "Thieves stole a cash machine from a supermarket in Antrim last night.\n"
        "A cash machine was stolen from a shop in Ballymena in March 2021, the PSNI said."))
    roles = {i.town: i.role for i in a.incidents}
    assert roles["Antrim"] == "primary" and roles.get("Ballymena") == "reference"


@pytest.mark.parametrize("text, title", [
    ("Customers have been warned after a card skimming device was found on a cash machine in Preston.\n"
     "Police said the device could copy card details.", "Skimmer found on cashpoint"),
    ("A village will lose its last free cash machine next month when it starts charging a fee.\n"
     "Residents said they were disappointed by the charge.", "Fees for village ATM"),
    ("A man threatened a cashier with a knife and took cash from the till at a convenience store.\n"
     "He left on foot.", "Shop robbed at knifepoint"),
    ("A security van overturned on the motorway after a crash with a lorry.\n"
     "The driver was treated in hospital.", "Security van crash"),
    ("Police raided a farm and recovered stolen tractors and quad bikes worth £200,000.\n"
     "Three men were arrested.", "Farm machinery recovered"),
    ("Ram raiders smashed a car into a mobile phone shop and stole handsets.\n"
     "The shop front was destroyed.", "Phone shop ram raid"),
])
def test_near_miss_articles_are_other(analyser, text, title):
    a = analyser.analyse(art(text, title=title))
    assert a.kind == "other" and a.incidents == []


def test_court_report_with_stage(analyser):
    a = analyser.analyse(art(
        "Two men have been jailed for a total of 19 years for blowing up cash machines.\n"
        "The pair used gas to blow open an ATM at a shop in Lutterworth in January, the court heard.\n"
        "They were sentenced at Leicester Crown Court on Friday.",
        title="Cash machine bombers jailed"))
    assert (a.kind, a.stage) == ("court", "sentenced")
    assert [(i.type, i.force) for i in a.incidents] == [("atm_explosive", "leicestershire")]


def test_campaign_article(analyser):
    a = analyser.analyse(art(
        "Police across the region have launched an operation to tackle attacks on cash machines.\n"
        "Officers are urging retailers to review their security measures and report suspicious vehicles.\n"
        "Figures show a rise in ATM crime over the past two years, with businesses in rural areas most at risk.",
        title="Crackdown on cash machine crime"))
    assert a.kind == "campaign" and a.incidents == []


def test_read_more_lines_are_not_the_story(analyser):
    a = analyser.analyse(art(
        "Residents have complained about potholes on the main road.\n"
        "READ MORE:\nGang uses digger to steal ATM from village shop\n"
        "The council said repairs would begin next week."))
    assert a.kind == "other" and a.incidents == []


def test_target_word_in_the_headline_alone_is_read(analyser):
    # the analyser looks for the target words in the headline and body before reading either
    a = analyser.analyse(art("Thieves struck overnight and escaped in a van.\n"
                             "Greater Manchester Police are appealing for witnesses.",
                             title="Cash machine ripped from shop wall in Wigan"))
    assert a.kind == "incident"
    assert [(i.type, i.force, i.town) for i in a.incidents] == [("atm_theft", "greater-manchester", "Wigan")]


def test_words_that_only_contain_a_target_word_are_other(analyser):
    a = analyser.analyse(art("The whole city welcomed the new treatment centre, and citizens were excited.",
                             title="City centre plans approved"))
    assert a.kind == "other" and a.incidents == []


def test_clean_lines_drops_boilerplate_and_repeats():
    lines = clean_lines("Caption of a photo\nCaption of a photo\nRead more: Another story\nThe story.")
    assert lines == ["Caption of a photo", "The story."]



def test_clean_lines_drops_a_whole_list_of_other_stories_headlines():
    # a list of other stories after its heading: every headline of it, not just the first
    lines = clean_lines("Raiders ripped a cash machine from a wall in Yaxley.\n\nMost Viewed Stories\n"
                        "- 1Cash machine blown up in Oldham\n- 2Council approves new car park\n"
                        "- 3Ram raid at Stockport bank\n\nPolice are appealing for witnesses.")
    assert lines == ["Raiders ripped a cash machine from a wall in Yaxley.", "Police are appealing for witnesses."]


@pytest.mark.parametrize("line, sentences", [
    ("Raiders struck at 3am. Police were called.", ["Raiders struck at 3am.", "Police were called."]),
    ("Was anyone hurt?  No, said police!  \"We are appealing.\" 24 hours later...",
     ["Was anyone hurt?", "No, said police!", "\"We are appealing.\"", "24 hours later..."]),
    ("He said: \"It was terrifying.\" The van left.", ["He said: \"It was terrifying.\"", "The van left."]),
    ("A total of £20,000 was taken. £5,000 was later found.", ["A total of £20,000 was taken.", "£5,000 was later found."]),
    ("Det. Sgt. Jones of St. Albans CID said so. (It was.)", ["Det. Sgt. Jones of St. Albans CID said so.", "(It was.)"]),
    ("It was 3.30am. the van was empty. Wait… ’twas", ["It was 3.30am. the van was empty.", "Wait… ’twas"]),
    ("Not after an ellipsis and quote…’ Next one.", ["Not after an ellipsis and quote…’ Next one."]),
])
def test_split_sentences(line, sentences):
    assert split_sentences([line]) == sentences


def test_split_sentences_cuts_where_the_whitespace_first_pattern_did():
    # the definition the splitter had before it looked for the punctuation first: one split after
    # [.!?…] (or [.!?] and a closing quote) and whitespace, before a capital, digit, £ or opening quote
    reference = re.compile(r"\s(?:(?<=[.!?…]\s)|(?<=[.!?][\"”’']\s))\s*(?=[\"“‘'(]?[A-Z0-9£])")
    rnd = random.Random(7)
    alphabet = list("ab Mr.!?…\"”’'“‘(£0 \u00a0\t.")
    for _ in range(20000):
        line = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 24))).strip()
        pieces = [p.strip() for p in reference.split(line) if p and p.strip()]
        # (the splitter then joins a piece ending with an abbreviation to the next: no such piece here)
        if any(re.search(r"\b(?:Mr|[A-Z])\.$", p) for p in pieces[:-1]):
            continue
        assert split_sentences([line]) == pieces, line


def test_force_from_text_when_no_town(analyser):
    a = analyser.analyse(art("A cash machine was ripped out of a wall overnight, Lancashire Police said."))
    assert [(i.force, i.town) for i in a.incidents] == [("lancashire", None)]


def test_feed_hint_when_text_names_no_place(analyser):
    a = analyser.analyse(art("A cash machine was ripped out of a shop wall overnight.", hint="kent"))
    assert [i.force for i in a.incidents] == ["kent"]


def test_scene_abroad_has_country_and_no_force(analyser):
    a = analyser.analyse(art("Gardaí said a gang used a digger to steal an ATM in Celbridge, Co Kildare, last night."))
    [inc] = a.incidents
    assert (inc.country, inc.force) == ("IE", None)


def test_empty_article_is_other(analyser):
    assert analyser.analyse(art("")).kind == "other"


def test_round_up_lists_each_scene(analyser):
    a = analyser.analyse(art(
        "Police have warned shopkeepers after a run of attacks on cash machines in Northern Ireland.\n"
        "Thieves forced open the door of a cash machine on Tuesday in Portadown.\n"
        "The others were at Mill Road, Dungiven, Church Street, Kilmore and Quay Lane, Annalong, all last month."))
    towns = {i.town for i in a.incidents}
    assert {"Portadown", "Dungiven", "Kilmore", "Annalong"} <= towns  # Kilmore, Annalong: named after a street
    assert {i.force for i in a.incidents} == {"psni"}


def test_same_day_follows_the_previous_attack(analyser):
    a = analyser.analyse(art(
        "Gas was used to blow open a cash machine in Hinckley in the early hours of Monday.\n"
        "Another raid took place at a Co-op in Kettering on the same day.", published=date(2023, 11, 8)))
    days = {i.town: i.date for i in a.incidents}
    assert days == {"Hinckley": date(2023, 11, 6), "Kettering": date(2023, 11, 6)}


def test_where_a_defendant_lives_is_not_the_scene(analyser):
    a = analyser.analyse(art(
        "A Wigan man has been jailed for blowing up a cash machine at a shop in Lutterworth.\n"
        "Smith, 31, of Mill Lane, Leigh, was sentenced at Leicester Crown Court.",
        title="Wigan man jailed for cash machine blast"))
    assert a.kind == "court"
    assert [(i.town, i.force) for i in a.incidents] == [("Lutterworth", "leicestershire")]


def test_district_named_with_its_town(analyser):
    a = analyser.analyse(art("Raiders used gas to blow up the cash machine at a store in Northwood, Stoke-on-Trent, last night."))
    [inc] = a.incidents
    assert inc.force == "staffordshire"


def test_bad_text_does_not_crash(analyser):
    weird = "\x00\ufeff" + "ATM " * 500 + "\n\n\n" + "…" * 100 + "Ünïcödé İstanbul 31/13/99 on Monday" * 5
    a = analyser.analyse(art(weird, published=None))
    assert a.kind in ("incident", "court", "campaign", "other")


def test_court_report_lists_the_attacks_of_the_case(analyser):
    a = analyser.analyse(art(
        "Three men who used a digger to steal cash machines from shops have been jailed.\n"
        "The gang struck in Frodsham in January and in Mold in February, the court heard.",
        title="Cash machine gang jailed"))
    assert (a.kind, a.stage) == ("court", "sentenced")
    assert sorted((i.town, i.force) for i in a.incidents) == [("Frodsham", "cheshire"), ("Mold", "north-wales")]
    assert all("crew_assaulted" not in i.mo for i in a.incidents)


def test_getaway_car_location_is_not_the_scene(analyser):
    a = analyser.analyse(art(
        "Thieves used a stolen tractor to rip a cash machine from a bank wall in Ludlow on Monday.\n"
        "The getaway car was later found burnt out near Gloucester."))
    assert [(i.town, i.force) for i in a.incidents] == [("Ludlow", "west-mercia")]


def test_scene_named_sentences_after_the_attack(analyser):
    a = analyser.analyse(art(
        "A security guard was punched and robbed of a cash box outside a supermarket this morning.\n"
        "The robber ran off along the High Street.\n"
        "Police were called to the store in Station Road, Thornbury, at 9.15am."))
    [inc] = a.incidents
    assert (inc.town, inc.force) == ("Thornbury", "avon-and-somerset")


def test_list_of_towns_after_one_preposition(analyser):
    a = analyser.analyse(art(
        "Two men have been jailed for blowing up cash machines.\n"
        "The pair targeted shops in Tameside, Oldham and north Leeds over three months, the court heard.",
        title="Cash machine bombers jailed"))
    assert sorted((i.town, i.force) for i in a.incidents) == [("Leeds", "west-yorkshire"),
                                                              ("Oldham", "greater-manchester")]


# -- the scene's town, wherever the article names it ------------------------------------------------

@pytest.mark.parametrize("text, title, town, force", [
    pytest.param("Raiders used a stolen tractor to tear a cash machine out of a shop in Co Tyrone overnight.\n"
                 "The ATM was ripped from the front of a store in the village of Fivemiletown, leaving the wall "
                 "close to collapse.", "", "Fivemiletown", "psni", id="county-first-then-village-of"),
    pytest.param("Thieves drove a stolen forklift through the front of a supermarket and took its cash machine "
                 "overnight.\nThe forklift was left at the scene.\nOfficers said a cordon would stay in place.\n"
                 "Forensic teams spent the morning at the shop.\nNobody was hurt.\nThe store stayed shut.\n"
                 "Staff were sent home.\nAnyone with information about the raid in Shildon, near Bishop "
                 "Auckland, should call Durham Constabulary.", "", "Shildon", "durham",
                 id="named-only-in-the-closing-appeal"),
    pytest.param("A security guard was pushed to the ground and robbed of a cash box as he walked into a "
                 "supermarket this morning.\nThe robbery happened outside the store in Tinkers Lane, Little "
                 "Hulton.\nLancashire Police want to hear from witnesses.", "", "Little Hulton", None,
                 id="unknown-district-after-its-street"),
])
def test_scene_town_found_beyond_the_attack_sentence(analyser, text, title, town, force):
    [inc] = analyser.analyse(art(text, title=title)).incidents
    assert inc.town == town
    if force:
        assert inc.force == force


def test_village_outside_the_county_named_first_does_not_become_the_scene(analyser):
    # the attack is placed in Co Antrim; the later town (in another force) is only where a van was seen
    [inc] = analyser.analyse(art(
        "An ATM was ripped from a shop in Co Antrim with a stolen digger overnight.\n"
        "Police believe the gang drove the cash machine towards Carlisle.")).incidents
    assert inc.force == "psni" and inc.town is None


def test_store_named_with_the_machine_or_the_town_beats_the_first_shop(analyser):
    a = analyser.analyse(art(
        "Residents sheltered in a Greggs bakery after gas was used to blow up a Co-operative ATM in Shildon "
        "this morning.\nDurham Constabulary said nobody was hurt."))
    assert a.incidents[0].store == "Co-operative"
    b = analyser.analyse(art(
        "Court heard the men blew up cash machines at two Spar shops and a Tesco Express in nearby Shildon.",
        title="Two men jailed for ATM explosions", published=date(2024, 2, 1)))
    assert [(i.town, i.store) for i in b.incidents] == [("Shildon", "Tesco Express")]


def test_day_the_attack_happened_beats_a_caption_date(analyser):
    a = analyser.analyse(art(
        "Thieves ripped a cash machine from a shop wall with a stolen digger.\n"
        "Digger used to remove ATM caught on camera - Apr 9, 2019\n"
        "The theft happened early on Sunday in the small town of Draperstown in Northern Ireland.",
        published=None))
    [inc] = a.incidents
    assert (inc.town, inc.date) == ("Draperstown", date(2019, 4, 7))


def test_where_the_case_is_heard_is_not_the_scene_of_an_unplaced_attack(analyser):
    a = analyser.analyse(art(
        "A man who used gas to blow open a cash machine has been jailed for eight years.\n"
        "The attack caused thousands of pounds of damage.\nDetectives traced him through his phone.\n"
        "Jones, of Mill Lane, pleaded guilty in Nuneaton to causing an explosion and burglary.",
        title="Man jailed for cash machine gas attack", published=date(2018, 4, 3)))
    assert a.kind == "court"
    assert all(i.town != "Nuneaton" for i in a.incidents)


@pytest.mark.parametrize("title, town", [
    ("Cash machine ripped from Fivemiletown shop by digger gang", "Fivemiletown"),
    ("Wigan man held after cash machine ripped from shop wall", None),  # where he is from, not the scene
])
def test_headline_town_places_an_attack_the_body_does_not(analyser, title, town):
    a = analyser.analyse(art("Thieves used a stolen digger to rip an ATM from the wall of a shop overnight.\n"
                             "Police are appealing for witnesses.", title=title))
    assert a.incidents[0].town == town


def test_store_town_check_reads_as_the_regex_it_replaces():
    # _store asks whether the words after a shop's name lead to the scene's town ("Spar shop in nearby
    # Calne"); it once compiled a regex per town (a fifth of a millisecond for each new town)
    import random
    import re

    from cashwatch.processors.analyse import _names_town

    rnd = random.Random(3)
    towns = ["Calne", "nearby Calne", "Nearby", "Westward Ho!", "St. Ives", "Bishop's Stortford", "Ó Town", "A_B"]
    positives = 0
    for _ in range(4000):
        town = rnd.choice(towns)
        after = (rnd.choice(["", " ", "\t ", "  "]) + rnd.choice(["", "store ", "shop\t", "branch  ", "stores "])
                 + rnd.choice(["in", "at", "on", "inn"]) + rnd.choice(["", " ", "  "])
                 + rnd.choice(["", "nearby ", "nearby  "]) + rnd.choice([town, town.lower(), "Devizes"])
                 + rnd.choice(["", " ", "s", "!", ".", "_", "é", "1"]))[:40]
        regex = re.compile(r"^\s+(?:store\s+|shop\s+|branch\s+|supermarket\s+)?(?:in|at)\s+(?:nearby\s+)?"
                           + re.escape(town) + r"\b")
        expected = regex.match(after) is not None
        assert _names_town(after, town) is expected, (after, town)
        positives += expected
    assert positives > 100
    assert _names_town(" in nearby Calne, police said", "Calne") and not _names_town(" in Calnexx", "Calne")


def test_a_list_of_places_and_counties_is_not_read_as_town_then_county(analyser):
    """"in Coventry, Northamptonshire, Norfolk and Monmouth": each is a place of the series, so Coventry stays
    in the West Midlands instead of moving to the county that follows it in the list."""
    a = analyser.analyse(art("Three men have been jailed for a string of cash machine burglaries. Over two months "
                             "the gang struck in Coventry, Northamptonshire, Norfolk and Monmouth, using cutting "
                             "gear to open the machines.", title="Cash machine gang jailed"))
    assert a.kind == "court"
    assert ("Coventry", "west-midlands") in [(i.town, i.force) for i in a.incidents]


@pytest.mark.parametrize("text, itype", [
    pytest.param("Police are investigating an attempted burglary of the cash machine at a petrol station in "
                 "Ballymena overnight. The front panel was badly damaged but nothing was taken.",
                 "atm_break_in", id="broken-into-in-place"),
    pytest.param("Thieves struck at a petrol station in Ballymena overnight and the cash machine was stolen. "
                 "Police found the forecourt damaged.", "atm_theft", id="taken-away"),
])
def test_an_attack_whose_method_no_type_word_names_is_typed_by_what_was_done(analyser, text, itype):
    [inc] = analyser.analyse(art(text)).incidents
    assert inc.type == itype


def test_round_up_lists_each_attack_with_its_place_and_day(analyser):
    """A police appeal about a series lists the attacks as address lines with dates: each is news."""
    a = analyser.analyse(art(
        "Detectives have linked a spate of attempted break-ins at cash machines in village shops across the county "
        "and are appealing for information.\n"
        "The offenders forced the shop doors and tried to cut into the machines at these addresses:\n"
        "- Village Stores, Main Street, Oakham, Rutland (02/10/2026)\n"
        "- Post Office, 4 Market Place, Uppingham, Rutland (09/10/2026)\n"
        "Anyone with information should call 101.", title="Appeal after spate of cash machine attacks",
        published=date(2026, 10, 20)))
    primary = sorted((i.town, str(i.date)) for i in a.incidents if i.role == "primary")
    assert ("Oakham", "2026-10-02") in primary and ("Uppingham", "2026-10-09") in primary


def test_court_series_named_in_the_plea_but_not_where_suspects_were_arrested(analyser):
    a = analyser.analyse(art(
        "Two men have been jailed for six years for their part in a series of cash machine raids.\n"
        "They pleaded guilty to raids on cash machines at shops in Tickhill and Bawtry last spring.\n"
        "Both were arrested at addresses in Rotherham after a police chase.",
        title="Cash machine raiders jailed"))
    assert a.kind == "court"
    towns = {i.town for i in a.incidents if i.role == "primary"}
    assert {"Tickhill", "Bawtry"} <= towns and "Rotherham" not in towns


def test_court_report_dates_an_attack_in_the_year_it_named(analyser):
    """"thefts between March and May 2025. On April 12 ..." in a report published in 2026: April 2025."""
    a = analyser.analyse(art(
        "A man has been jailed for six years for a series of cash machine thefts between March and May 2025.\n"
        "On April 12 he and two others used a stolen digger to rip a cash machine from a shop in Ruskington.",
        title="Digger raider jailed", published=date(2026, 6, 3)))
    assert a.kind == "court"
    assert [(i.town, str(i.date)) for i in a.incidents if i.role == "primary"] == [("Ruskington", "2025-04-12")]


def test_a_list_line_naming_a_village_and_its_town_is_one_scene(analyser):
    a = analyser.analyse(art(
        "Police are appealing for information after attempted break-ins at cash machines in post offices.\n"
        "The offenders forced the doors and tried to cut into the machines at these addresses:\n"
        "- Post Office, 3 High Street, Histon, Cambridge (04/10/2026)\n"
        "- Post Office, 9 Bridge Street, Oakham, Rutland (11/10/2026)\n"
        "Anyone with information should call 101.", title="Appeal after cash machine attacks",
        published=date(2026, 10, 20)))
    towns = sorted(i.town for i in a.incidents if i.role == "primary")
    assert "Histon" in towns and "Cambridge" not in towns and "Oakham" in towns


@pytest.mark.parametrize("use_models", [False, True])
def test_one_weak_attack_sentence_told_as_news_is_an_incident(use_models):
    """'The branch was targeted' alone says little; said with the hour it happened, it is the news."""
    a = Analyser(use_models=use_models).analyse(art(
        "A street in Dunfermline was closed last night after a suspected raid at a bank.\n"
        "It is thought the branch was targeted at around 6pm as a G4S security van arrived to collect cash.\n"
        "Police cars and an ambulance went to the scene and the road reopened two hours later.",
        title="Street closed after suspected raid at bank"))
    assert a.kind == "incident"
    assert [(i.type, i.force) for i in a.incidents] == [("cit_robbery", "police-scotland")]


def test_one_weak_attack_sentence_without_news_time_is_not_an_incident():
    a = Analyser(use_models=False).analyse(art(
        "Banks say cash machines in rural areas are targeted more often than those in towns.\n"
        "The report looks at how branches decide where to put them.",
        title="Where cash machines go"))
    assert a.kind != "incident" and not a.incidents


def test_people_robbed_or_distracted_at_a_cash_machine_are_not_attacks_on_it():
    a = Analyser(use_models=False).analyse(art(
        "Officers in Exeter have asked shoppers to take care at cash machines after three reports this week.\n"
        "Between 1.10pm and 1.30pm on Monday thieves targeted a man using a cash machine in the High Street.\n"
        "A second man distracted him while his card was taken and £300 was later withdrawn.",
        title="Warning to shoppers using cash machines"))
    assert a.kind not in ("incident", "court") and not a.incidents


def test_court_report_names_an_attack_among_the_incidents_of_the_case(analyser):
    """"incidents" is an event word in a report about attacks: the one it places is part of the case."""
    a = analyser.analyse(art(
        "Three men have been charged after a series of explosions at cash machines, the first in Maidstone.\n"
        "Police said there were nine incidents in the county last winter, including at a bank in Ashford.\n"
        "The men were arrested at homes in Gravesend.",
        title="Three charged over cash machine explosions"))
    assert a.kind == "court"
    towns = {i.town for i in a.incidents if i.role == "primary"}
    assert {"Maidstone", "Ashford"} <= towns and "Gravesend" not in towns
    assert all(i.type == "atm_explosive" for i in a.incidents)


def test_series_date_is_the_one_next_to_its_place_counted_from_the_latest_date_named(analyser):
    """Undated report: "last year" counts from the latest full date the story opens with (the report
    comes after every day it tells of), and a listed attack takes the date beside its place."""
    a = analyser.analyse(art(
        "Five men have been charged over a series of cash machine explosions, the first at a bank in Sleaford.\n"
        "Police said there were 14 raids between 4 August 2024 and 6 January 2025, including at a shop in "
        "Ruskington on October 12 last year.",
        title="Five charged over cash machine explosions", published=None))
    assert a.kind == "court"
    dated = {i.town: str(i.date) for i in a.incidents if i.role == "primary"}
    assert dated.get("Ruskington") == "2024-10-12"


def test_a_pages_date_stamp_dates_the_report_not_the_attack(analyser):
    a = analyser.analyse(art(
        "Published: 09:12, 16 October 2025\n"
        "Robbers threatened a security guard delivering cash to a bank in Whitby on Saturday and took a cash box.",
        title="Guard robbed outside bank", published=None))
    [inc] = [i for i in a.incidents if i.role == "primary"]
    assert (inc.town, str(inc.date)) == ("Whitby", "2025-10-11")


def test_web_addresses_are_not_read_as_prose():
    """A link's slug ("...-plots-raid-on-...") holds words the story does not say."""
    lines = clean_lines("The report is at https://news.example/story/firm-plots-raid-on-rival-123 for readers.\n"
                        "www.example.org/atm-blown-up\nThe firm said talks continue.")
    assert lines == ["The report is at  for readers.", "The firm said talks continue."]


def test_a_name_the_story_gives_a_person_is_not_an_unknown_town():
    """"Evans, of Mill Lane, Harper and Doyle struck ...": after an address, Harper is a defendant the story
    names as "Danny Harper, 29", not a village the gazetteer lacks."""
    from types import SimpleNamespace as S

    from cashwatch.processors.analyse import _a_persons_name

    story = [S(text="Evans, of Mill Lane, Harper and Doyle struck at shops across the county."),
             S(text="Danny Harper, 29, was jailed for eight years."),
             S(text="A shop on Main Street, Tempo was hit first, then one in North Selby.")]
    assert _a_persons_name("Harper", story)
    assert _a_persons_name("Doyle", [S(text="Doyle, 31, admitted the charge.")])
    assert not _a_persons_name("Tempo", story)  # after a street: the place
    assert not _a_persons_name("Selby", story)  # after a compass word: still a place


def test_undated_report_keeps_the_day_and_month_it_gives_without_a_year(analyser):
    # no publication date and no year: the attack has no date, but "the early hours of March 3" still
    # tells it apart from an attack in the same town in another month
    a = analyser.analyse(art(
        "Thieves ripped a cash machine from the front of a Co-op in Yaxley in the early hours of March 3.\n"
        "A stolen telehandler was left at the scene.", title="Cash machine stolen in village raid",
        published=None))
    [inc] = a.incidents
    assert inc.town == "Yaxley" and inc.date is None and inc.month_day == "--03-03"
    dated = analyser.analyse(art(
        "Thieves ripped a cash machine from the front of a Co-op in Yaxley in the early hours of March 3.",
        title="Cash machine stolen in village raid", published=date(2024, 3, 4)))
    assert dated.incidents[0].date == date(2024, 3, 3) and dated.incidents[0].month_day is None


def test_a_police_reference_with_the_month_in_words_dates_an_undated_report(analyser):
    # "incident 1203 of 14 June 2022": the log was opened the day of the attack, which "overnight" then means
    # (far down the story, where no dateline is looked for)
    a = analyser.analyse(art(
        "Raiders blew up a cash machine at a Tesco store in Hinckley overnight.\n"
        "Residents said they heard two loud bangs. The front of the shop was badly damaged.\n"
        "A cordon was put in place while the building was checked. Nobody was hurt.\n"
        "The store will stay shut for several days. Staff arrived to find glass across the car park.\n"
        "Officers are checking cameras in the area. Three men were seen running to a dark car.\n"
        "Anyone with information should call 101 quoting incident 1203 of 14 June 2022.",
        title="Cash machine blown up", published=None))
    [inc] = a.incidents
    assert inc.town == "Hinckley" and inc.date == date(2022, 6, 14)


def test_court_report_naming_no_cash_machine_or_crew_is_other_whatever_its_court_words(analyser):
    # charged, magistrates, crown court, convicted, jailed: a court report, but of another crime; it names no
    # cash machine, no cash-in-transit crew or van and no attack on one, so it cannot be about them
    a = analyser.analyse(art(
        "Two council officers have been charged with misconduct in public office.\n"
        "They were arrested in March and charged after an investigation into security checks at a care home, "
        "police said.\nBoth appeared before magistrates on Monday and were released on bail to appear at the "
        "crown court.\nProsecutors said records of the checks were falsified, and one of the men admitted "
        "taking cash for it.\nIf convicted, they could be jailed, the court heard.",
        title="Two charged over falsified records"))
    assert a.kind == "other" and a.incidents == [] and a.kind_confidence is None


def test_method_told_in_the_attacks_own_sentence_beats_method_words_elsewhere(analyser):
    # the raid is told as a digger theft; the owner's words about gas attacks describe the machine's
    # protection, not this attack
    a = analyser.analyse(art(
        "Thieves drove a stolen digger into the front of a Spar shop in Yaxley at about 3am on Tuesday and made "
        "off with its cash machine.\nThe shop was badly damaged and will stay shut while engineers check the "
        "building.\nThe owner said the machine had been fitted with dye packs and alarms to stop gangs who use "
        "gas to blow them open.\nPolice are appealing for witnesses.", title="Digger used to steal cash machine"))
    [inc] = a.incidents
    assert (inc.type, inc.town) == ("atm_theft", "Yaxley")
    # with no method in its own sentences, the rest of the story still tells it
    b = analyser.analyse(art(
        "A cash machine at a Spar shop in Yaxley was targeted at about 3am on Tuesday.\n"
        "Officers found gas canisters at the scene and the front of the shop was blown out.",
        title="Cash machine targeted"))
    assert [i.type for i in b.incidents] == ["atm_explosive"]


def test_court_report_naming_a_place_beside_the_attack_it_already_told_lists_no_other_attack(analyser):
    # "when the robbery took place" is the case's own robbery: the defendant's alibi town is not a second scene
    a = analyser.analyse(art(
        "A man has been found guilty of robbing a cash-in-transit guard outside a bank in Hinckley.\n"
        "The guard was threatened with a knife and a cash box holding £20,000 was taken, the jury at Leicester "
        "Crown Court heard.\nMarsh told police he had been at his sister's cafe in Nuneaton and had then gone for "
        "a run when the robbery took place.\nHe will be sentenced next month.",
        title="Man guilty of security van robbery"))
    assert a.kind == "court"
    assert [(i.type, i.town) for i in a.incidents] == [("cit_robbery", "Hinckley")]


def test_court_reports_account_of_the_offence_dates_it(analyser):
    # no publication date and no day beside the attack: "the court heard that on <day>" opens the
    # prosecution's account of the one offence the case is about, however far down it comes
    a = analyser.analyse(art(
        "Two men have been jailed over a planned robbery of a cash-in-transit van outside a Tesco store in Lisburn.\n"
        "Both admitted conspiracy to rob at Belfast Crown Court and were each jailed for six years.\n"
        "A third man was cleared of all charges.\nThe judge said the plan had been carefully prepared over several "
        "weeks.\nDetectives had followed the pair for a month before they were arrested.\n"
        "The court heard that on 14 May 2022 the men waited in a stolen car beside the delivery bay.\n"
        "Officers moved in as the guard stepped out of the van.",
        title="Two jailed over cash van robbery plot", published=None))
    assert a.kind == "court"
    assert [(i.type, i.town, i.date) for i in a.incidents] == [("cit_robbery", "Lisburn", date(2022, 5, 14))]


def test_court_heard_without_that_still_opens_the_account_of_the_offence(analyser):
    # "the court heard he ..." is the same account as "heard that he ..."; Wrexham is the county borough's town
    a = analyser.analyse(art(
        "A man who robbed a Securitas guard outside a bank in Wrexham has been jailed for six years.\n"
        "Mold Crown Court heard he threatened the guard with a hammer on 14 September last year.\n"
        "He admitted robbery.", title="Man jailed for robbing cash guard", published=date(2024, 3, 6)))
    assert a.kind == "court"
    assert [(i.type, i.town, i.force, i.date) for i in a.incidents] == [
        ("cit_robbery", "Wrexham", "north-wales", date(2023, 9, 14))]


def test_the_one_attack_of_a_story_takes_the_shop_the_story_names_outside_its_own_sentences(analyser):
    # the shop is named in a sentence before the attack's own; with one attack in the story it is that
    # attack's scene (and lets a later report naming the same shop join it)
    a = analyser.analyse(art(
        "Officers were called to the Spar on the corner of the square at about 3am today.\n"
        "It is thought gas was used to blow open the cash machine in Yaxley, causing a loud bang.\n"
        "Nobody was hurt and the shop will reopen tomorrow.", title="Loud bang heard in village"))
    assert [(i.type, i.town, i.store) for i in a.incidents] == [("atm_explosive", "Yaxley", "Spar")]
