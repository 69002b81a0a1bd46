"""Place finding and resolution (cashwatch.processors.places), on sentences written for these tests."""
from __future__ import annotations

import pytest

from cashwatch.processors.places import Gazetteer, default_gazetteer


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return default_gazetteer()


@pytest.mark.parametrize("name, force", [
    ("Ringwood", "hampshire"), ("Tring", "hertfordshire"), ("Culcheth", "cheshire"),
    ("Ahoghill", "psni"), ("Cleland", "police-scotland"), ("Talgarth", "dyfed-powys"),
    ("Garforth", "west-yorkshire"), ("Chester-le-Street", "durham"),
])
def test_every_uk_place_has_its_force(gaz, name, force):
    uk = [p for p in gaz.lookup(name) if p.country == "GB"]
    assert uk and uk[0].force == force


def _resolve_first(gaz, text, url=""):
    mentions = gaz.scan(text)
    ctx = gaz.context(mentions, url=url)
    place = next(m for m in mentions if m.kind == "place")
    return gaz.resolve(place, ctx)


@pytest.mark.parametrize("text, force", [
    ("A cash box was taken outside a bank in Newport. Gwent Police are appealing for witnesses.", "gwent"),
    ("A cash box was taken outside a bank in Newport. West Mercia Police said the car headed to Telford.",
     "west-mercia"),
    ("The ATM in Richmond was attacked overnight. North Yorkshire Police attended.", "north-yorkshire"),
    ("The ATM in Richmond was attacked overnight, the Metropolitan Police said.", "metropolitan"),
    ("A digger was used to take the machine in Brandon, near Durham.", "durham"),
])
def test_same_name_places_resolved_from_context(gaz, text, force):
    assert _resolve_first(gaz, text).force == force


def test_county_next_to_place_decides(gaz):
    mentions = gaz.scan("The raid was in Newport, Shropshire.")
    place, county = mentions[0], mentions[1]
    assert county.kind == "area" and county.force == "west-mercia"
    assert gaz.resolve(place, gaz.context(mentions), near=county).force == "west-mercia"


def test_feed_url_hints_the_area(gaz):
    place = _resolve_first(gaz, "A cash box was snatched in Newport town centre.",
                           url="https://www.example-shropshire-news.co.uk/crime/1")
    assert place.force == "west-mercia"


def test_site_named_after_a_town_of_two_words_points_there_not_at_its_first_word(gaz):
    """A local site named after a town of two words (here a London suburb) says where it reports; the
    first word alone is another town, in another force, that the site has nothing to do with."""
    mentions = gaz.scan("A cash box was snatched from a guard outside the bank in Central Road.")
    ctx = gaz.context(mentions, url="https://www.worcesterparknews.example/2010/11/robbery",
                      source="worcesterparknews.example")
    assert ctx.top_force() == "metropolitan"
    assert "west-mercia" not in ctx.forces


def test_irish_scene_gets_country_and_no_force(gaz):
    place = _resolve_first(gaz, "Gardaí said the machine in Enniscorthy was badly damaged.")
    assert place.country == "IE" and place.force is None


@pytest.mark.parametrize("text, force", [
    ("Cheshire Police said the van was found later.", "cheshire"),
    ("The PSNI appealed for dashcam footage.", "psni"),
    ("Police Scotland confirmed two men were seen.", "police-scotland"),
    ("A Met Police spokesman said inquiries continue.", "metropolitan"),
])
def test_force_names_in_text(gaz, text, force):
    police = [m for m in gaz.scan(text) if m.kind == "police"]
    assert police and police[0].force == force


def test_abroad_police_names_a_country(gaz):
    police = [m for m in gaz.scan("Gardaí are investigating.") if m.kind == "police"]
    assert police[0].force is None and police[0].country == "IE"


@pytest.mark.parametrize("text", [
    "Detective Sergeant Ann Preston said the gang was organised.",  # a surname
    "The men fled along Stafford Street towards the ring road.",  # a street named after a town
    "They appeared at Chester Crown Court on Friday.",  # a court, not the scene
    "Sale of the building went ahead.",  # an ordinary word
    "Masked men waited outside the Halifax branch until the van pulled up.",  # a bank named after a town
    "Savers at Leeds Building Society were told their money was safe.",  # a building society
    "Both machines at Tollbury Valley were damaged.",  # the end of a longer name the map lacks (not Valley)
])
def test_names_that_are_not_scenes(gaz, text):
    assert not [m for m in gaz.scan(text) if m.kind == "place"]


@pytest.mark.parametrize("text, name, force", [
    ("A cash machine was ripped out in Wick overnight.", "Wick", "police-scotland"),
    ("The ATM at a shop in Sandy was blown up.", "Sandy", "bedfordshire"),
    ("Raiders struck at a garage in Ware on Monday.", "Ware", "hertfordshire"),
])
def test_towns_named_like_ordinary_words_count_when_introduced_as_places(gaz, text, name, force):
    places = [m for m in gaz.scan(text) if m.kind == "place"]
    assert [m.name for m in places] == [name]
    assert gaz.resolve(places[0], gaz.context(places)).force == force


def test_an_area_named_after_its_big_town_is_read_as_the_town(gaz):
    # Wrexham is a county borough and its town of 65,000: news naming it means the town (a place to map and
    # to link); Conwy's namesake town is small, so the name stays the area
    [m] = gaz.scan("A guard was robbed outside a bank in Wrexham.")
    assert (m.kind, gaz.resolve(m, gaz.context([m])).force) == ("place", "north-wales")
    assert [m.kind for m in gaz.scan("Raiders struck a village shop in Conwy.")] == ["area"]


@pytest.mark.parametrize("text", [
    "Stone was thrown through the window.",  # an ordinary word, not introduced as a place
    "Police hope the footage will help.",
    "The van was parked in Sandy Lane.",  # a street
])
def test_ordinary_words_stay_words(gaz, text):
    assert not [m for m in gaz.scan(text) if m.kind == "place"]


def test_longer_unknown_name_does_not_match_its_first_word(gaz):
    # "Leigh" is a town, but "Leigh Park" is a different place the gazetteer does not list
    assert not [m for m in gaz.scan("The couriers were attacked in Leigh Park last night.") if m.kind == "place"]


@pytest.mark.parametrize("text, name", [
    ("Two men raided a shop in Barrow in Furness overnight.", "Barrow in Furness"),  # lower-case middle word
    ("A cash machine in Lytham St. Annes was attacked.", "Lytham St. Annes"),  # a dotted "St." inside
    ("The ATM in Bury St Edmunds was damaged.", "Bury St Edmunds"),  # not "Bury", a place of its own
])
def test_names_of_three_words_are_read_whole(gaz, text, name):
    assert [m.name for m in gaz.scan(text)] == [name]


@pytest.mark.parametrize("alias, force", [("Hull", "humberside"), ("Stoke", "staffordshire"), ("Londonderry", "psni")])
def test_short_names_news_uses(gaz, alias, force):
    uk = [p for p in gaz.lookup(alias) if p.country == "GB"]
    assert uk and uk[0].force == force


def test_site_country_domain_points_abroad(gaz):
    mentions = gaz.scan("Thieves blew up a cash machine in the town centre.")
    ctx = gaz.context(mentions, url="https://www.example-news.ie/crime/1", source="example-news.ie")
    assert ctx.abroad() == "IE"


def test_url_names_are_read_in_the_same_order_in_every_process():
    """Names of one length found in a URL are taken in a fixed order, not in the order of a set (str
    hashes are salted per process): two workers must resolve the same URL alike."""
    import os
    import subprocess
    import sys

    code = ("from cashwatch.processors.places import default_gazetteer as g; "
            "print(g()._url_hits('https://news.example/watford-reading-bedford-croydon/crime'))")
    seen = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2", "3", "4", "5")}
    assert len(seen) == 1, seen


@pytest.mark.parametrize("text, names", [
    ("The gang robbed a Glasgow bank van.", ["Glasgow"]),  # a town before "bank" is still a place
    ("Residents of East Kilbride and North Shields heard nothing.", ["East Kilbride", "North Shields"]),
    ("Police in Oldham believe the raid in Rochdale was linked.", ["Oldham", "Rochdale"]),
])
def test_places_after_ordinary_capitalised_words_are_found(gaz, text, names):
    assert [m.name for m in gaz.scan(text) if m.kind == "place"] == names



def test_a_headline_town_is_not_taken_for_the_end_of_a_longer_name(gaz):
    """In a headline every word is capitalised: the word before a town does not make it part of a longer
    name there (in running text "Tollbury Valley" is one unknown place, not Valley)."""
    assert [m.name for m in gaz.scan("Cash Machine Raiders Hit Oakham", title_case=True)
            if m.kind == "place"] == ["Oakham"]


@pytest.mark.parametrize("text, names", [
    ("Guards were robbed in Glasgow's east end.", ["Glasgow"]),  # a possessive names the place
    ("Shoppers in Leeds’s city centre heard the blast.", ["Leeds"]),
    ("The raid in Chandler's Ford happened at 3am.", []),  # a name of its own (not Chandler, Arizona)
])
def test_a_possessive_names_the_place_before_it(gaz, text, names):
    assert [m.name for m in gaz.scan(text) if m.kind == "place"] == names


@pytest.mark.parametrize("name, full, force", [
    ("Clacton", "Clacton-on-Sea", "essex"), ("Bexhill", "Bexhill-on-Sea", "sussex"),
    ("Tunbridge Wells", "Royal Tunbridge Wells", "kent"),
])
def test_resort_and_royal_towns_are_found_by_the_name_news_gives_them(gaz, name, full, force):
    assert [p.force for p in gaz.lookup(name) if p.country == "GB"] == [force]
    assert [p.force for p in gaz.lookup(full) if p.country == "GB"] == [force]


def test_a_direction_before_a_small_town_makes_another_place(gaz):
    """"South Woodford" is a London district the gazetteer lacks, not Woodford in Northamptonshire: a
    compass word before a town's name makes a new place's name, unless the town is a city with parts."""
    names = [m.name for m in gaz.scan("Robbers attacked a cash delivery outside a supermarket in South Woodford.")
             if m.kind == "place"]
    assert "Woodford" not in names
    city = [m for m in gaz.scan("A cash van was robbed in North Belfast on Friday.") if m.kind == "place"]
    assert [m.name for m in city] == ["Belfast"]
    assert gaz.resolve(city[0], gaz.context(city)).force == "psni"


def test_a_district_missing_from_the_gazetteer_is_not_a_faraway_village_of_the_same_name(gaz):
    """The gazetteer knows only a Bedfordshire village called Everton; a story about Merseyside Police and
    Liverpool means the Liverpool district, so the scene is placed in Merseyside (at Liverpool)."""
    text = ("Merseyside Police said men tried to prise open a cash machine on Heyworth Street in Everton overnight. "
            "Officers in Liverpool are checking CCTV from nearby shops in Bootle and Kirkby.")
    mentions = gaz.scan(text)
    ctx = gaz.context(mentions)
    everton = next(m for m in mentions if m.name == "Everton")
    place = gaz.resolve(everton, ctx)
    assert (place.name, place.force, place.population) == ("Everton", "merseyside", 0)
    # the village itself, when the story is about its own area
    text = "Bedfordshire Police said raiders ripped a cash machine from a shop in Everton, a village near Sandy."
    mentions = gaz.scan(text)
    everton = next(m for m in mentions if m.name == "Everton")
    assert gaz.resolve(everton, gaz.context(mentions)).force == "bedfordshire"
    # a story of another force that names the village's county: the village it is
    text = ("Merseyside Police officers in Liverpool and Bootle arrested three men over raids in Bedfordshire. "
            "A shop in Everton was attacked at 3am, officers said.")
    mentions = gaz.scan(text)
    everton = next(m for m in mentions if m.name == "Everton")
    assert gaz.resolve(everton, gaz.context(mentions)).force == "bedfordshire"


@pytest.mark.parametrize("host, force", [
    ("www.whitbygazette.co.uk", "north-yorkshire"),  # "<town><paper word>": a town of any size
    ("kentonline.co.uk", "kent"),  # a county and "online"
    ("m.pressandjournal.co.uk", "police-scotland"),  # a regional site of outlets.csv, on a sub-domain
    ("dailyecho.co.uk", "hampshire"),
    ("newsletter.co.uk", "psni"),
    ("getreading.co.uk", "thames-valley"),  # "get<place>", "thisis<county>"
    ("thisisoxfordshire.co.uk", "thames-valley"),
    ("wrexham.com", "north-wales"),  # a town's name alone (5,000 people or more)
    ("kent.police.uk", "kent"),  # a police force's own site
    ("example-news.scot", "police-scotland"),
    ("walesonline.co.uk", None),  # a nation of several forces, not the village called Wales
    ("street.com", None),  # a bare word that is also a small town's name
    ("dailymail.co.uk", None),  # national papers, and names that only contain a paper word
    ("thetimes.co.uk", None),
    ("example.com", None),
])
def test_a_news_site_says_which_area_it_reports_on(gaz, host, force):
    assert gaz._site_force(host) == force


def test_an_outlet_places_a_story_whose_town_the_gazetteer_lacks(gaz):
    mentions = gaz.scan("Thieves blew up the cash machine outside the supermarket in Hiltingbury last night.")
    ctx = gaz.context(mentions, url="https://www.dailyecho.co.uk/news/123/", source="dailyecho.co.uk")
    assert ctx.top_force() == "hampshire"
