"""Extraction: every cleaning rule on HTML written for these tests, the extract() contract, and the
quality gate on the public benchmark's real pages (skipped where ../shared is absent).

All sentences below were written for these tests.
"""
from __future__ import annotations

import gzip
import importlib.util
import json
from datetime import date

import pytest
from lxml.html import fromstring

from cashwatch.processors.clean import (
    LINE_RULES,
    TREE_RULES,
    clean_body,
    is_boilerplate_block,
    line_rule_for,
    prune_tree,
)
from cashwatch.processors.extract import MIN_BODY_CHARS, Extracted, extract

STORY = [
    "Two men forced open the cash machine at a filling station on Mill Lane shortly after midnight, "
    "detectives said on Thursday morning.",
    "The pair arrived in a dark estate car and spent about twenty minutes at the machine before driving "
    "off towards the bypass with an unknown sum of money.",
    "A spokesperson for the force said the building had been made safe and that officers were "
    "reviewing footage from cameras along the main road.",
    "Anyone who saw a dark estate car parked near the forecourt late on Wednesday is asked to call "
    "101 quoting the incident number given in the appeal.",
]


def page(inner: str, head: str = "") -> str:
    """A minimal but complete news page with the four story paragraphs and ``inner`` furniture."""
    first = "".join(f"<p>{p}</p>" for p in STORY[:2])
    rest = "".join(f"<p>{p}</p>" for p in STORY[2:])
    return (f"<html lang='en'><head><title>Cash machine forced open | Valley Post</title>{head}</head><body>"
            f"<article><h1>Cash machine forced open at filling station</h1>"
            f"<div class='story-body'>{first}{inner}{rest}</div>"
            "</article></body></html>")


def text_of(html: str, rules: list[str]) -> str:
    tree = prune_tree(fromstring(html), rules)
    return " ".join(" ".join(tree.itertext()).split())


# --- tree rules: each removes its furniture and keeps the story ---------------------------------

TREE_CASES = [
    ("figure_captions", "<figure><img src='a.jpg'><figcaption>The forecourt after the raid (Picture: Staff)"
                        "</figcaption></figure>", "The forecourt after the raid"),
    ("furniture_blocks", "<div class='newsletter-signup'><p>Get our morning briefing every day</p></div>",
     "morning briefing"),
    ("furniture_blocks", "<div class='share-tools'><a href='#'>Facebook</a> <a href='#'>Email</a></div>",
     "Facebook"),
    ("furniture_blocks", "<aside class='related-articles'><h2>More on this</h2><ul><li>Van robbed</li></ul></aside>",
     "Van robbed"),
    ("furniture_blocks", "<div id='cookie-banner'><p>We use cookies to run this site</p></div>", "cookies"),
    ("furniture_blocks", "<section class='comments'><p>Terrible news for the village</p></section>",
     "Terrible news for the village"),
    ("furniture_blocks", "<div class='ad-slot'><span>Advertisement</span></div>", "Advertisement"),
    ("furniture_blocks", "<div class='byline'>By Jo Bloggs, crime reporter</div>", "Jo Bloggs"),
    ("furniture_blocks", "<div class='relatedLinks'><a href='/x'>Shop owner speaks out</a> and more</div>",
     "Shop owner speaks out"),
    ("link_paragraphs", "<p><strong>READ MORE:</strong> <a href='/y'>Security van crew threatened in car park</a></p>",
     "Security van crew threatened"),
    ("link_paragraphs", "<ul><li><a href='/z'>Village shop loses its only cashpoint</a></li></ul>",
     "Village shop loses"),
    ("link_paragraphs", "<p>Related: <a href='/w'>Police step up patrols near rural banks</a></p>",
     "Police step up patrols"),
    ("site_chrome", "", "Sport Weather Traffic"),
    ("headline", "", "Cash machine forced open at filling station"),
]


@pytest.mark.parametrize("rule,furniture,marker", TREE_CASES)
def test_tree_rule_removes_its_furniture_and_keeps_the_story(rule, furniture, marker):
    html = page(furniture)
    if rule == "site_chrome":
        html = html.replace("<article>", "<nav><a href='/s'>Sport</a> <a href='/w'>Weather</a> "
                                         "<a href='/t'>Traffic</a></nav><article>").replace(
            "</article>", "</article><footer><p>Sport Weather Traffic</p></footer>")
    assert marker in " ".join(" ".join(fromstring(html).itertext()).split())  # the fixture has it
    pruned = text_of(html, [rule])
    assert marker not in pruned
    for para in STORY:
        assert para in pruned


def test_every_tree_rule_has_a_case():
    assert {rule for rule, _, _ in TREE_CASES} == set(TREE_RULES)


@pytest.mark.parametrize("html", [
    # the story container itself carries a furniture word: its prose keeps it
    "<div class='entry-content entry-content-read-more'>{}</div>",
    "<div id='share-target' class='module'>{}</div>",
    "<div class='post has-comments'>{}</div>",
])
def test_furniture_named_container_holding_the_story_is_kept(html):
    paras = "".join(f"<p>{p}</p>" for p in STORY)
    tree = fromstring(f"<html><body>{html.format(paras)}</body></html>")
    pruned = " ".join(" ".join(prune_tree(tree).itertext()).split())
    for para in STORY:
        assert para in pruned


@pytest.mark.parametrize("cls,expected", [
    ("share-bar", True), ("newsletter", True), ("sign-up-box", True), ("most-read", True),
    ("shared-content", False), ("article-body", False), ("story__content", False), ("relatedness", False),
])
def test_furniture_names_match_whole_tokens(cls, expected):
    assert is_boilerplate_block(fromstring(f"<div class='{cls}'><span>x</span></div>")) is expected


def test_story_paragraph_with_an_inline_link_is_not_a_link_paragraph():
    html = page("<p>The council said in <a href='/s'>a statement</a> that the shop would reopen next "
                "month once the wall has been rebuilt and new shutters fitted.</p>")
    assert "a statement that the shop would reopen" in text_of(html, ["link_paragraphs"])


# --- line rules ---------------------------------------------------------------------------------

LINE_CASES = [
    ("READ MORE: Raiders target cashpoint for the second time", "promo_lines"),
    ("Read more: Guard hurt in depot robbery", "promo_lines"),
    ("SEE ALSO: Cash van crew tied up", "promo_lines"),
    ("Related: Shop ATM stolen with digger", "promo_lines"),
    ("Most read in Crime", "promo_lines"),
    ("You may also like...", "promo_lines"),
    ("Watch: Moment the machine was dragged away", "promo_lines"),
    ("Sign up to our free crime newsletter", "prompt_lines"),
    ("Subscribe to the evening edition", "prompt_lines"),
    ("Share this article", "prompt_lines"),
    ("Thanks for signing up!", "prompt_lines"),
    ("Comments (12)", "prompt_lines"),
    ("Advertisement", "prompt_lines"),
    ("Story continues below advertisement", "prompt_lines"),
    ("Follow the Valley Post crime desk on Facebook and Instagram.", "prompt_lines"),
    ("Tell us what you think in the comments below", "prompt_lines"),
    ("Like this story? Pass it on to a neighbour!", "prompt_lines"),
    ("Tags", "prompt_lines"),
    ("Filed under: Crime | Courts", "prompt_lines"),
    ("Additional reporting by Sam Reed", "prompt_lines"),
    ("Alex Wood contributed to this report.", "prompt_lines"),
    ("Picture: Valley Post photographer", "credit_lines"),
    ("(Image: Reader picture)", "credit_lines"),
    ("Photo by a member of the public", "credit_lines"),
    ("Posted on Friday 20 November 2026", "dateline_lines"),
    ("Updated: 10:42, 3 March", "dateline_lines"),
    ("Published 14 May 2025", "dateline_lines"),
]
STORY_LINES = [
    "Related charges were brought against a third man on Monday.",
    "Subscribers to the alarm service were not told for a week.",
    "Posted on social media, the clip shows the machine being hauled onto a trailer.",
    "Picture the scene: a quiet square at two in the morning, then a loud bang.",
    "Published figures show eleven attacks on machines in the county last year.",
    "Photographs taken by a neighbour were handed to detectives.",
    "Comments made by the judge were reported in full.",
    "Follow-up enquiries are continuing, a spokesperson said.",
    "More than twenty machines were attacked in the county last winter.",
    "Tags on the stolen van had been changed, officers found.",
    # a long paragraph is story even when it opens like a prompt
    "Sign up figures for the new banking hub were higher than expected, the council said, with more "
    "than four hundred residents registering in the first week and dozens more asking for home visits "
    "because the last cash machine in the town had been removed after the raid.",
]


@pytest.mark.parametrize("line,rule", LINE_CASES)
def test_line_rule_drops_non_story_line(line, rule):
    assert line_rule_for(line) == rule
    assert clean_body(f"{STORY[0]}\n{line}\n{STORY[1]}") == f"{STORY[0]}\n{STORY[1]}"


@pytest.mark.parametrize("line", STORY_LINES)
def test_line_rules_keep_story_lines(line):
    assert clean_body(f"{STORY[0]}\n{line}") == f"{STORY[0]}\n{line}"


def test_every_line_rule_has_a_case():
    assert {rule for _, rule in LINE_CASES} == set(LINE_RULES)


# --- extract() ----------------------------------------------------------------------------------

FURNITURE = (
    "<div class='newsletter-signup'><p>Sign up to the Valley Post daily newsletter</p></div>"
    "<p><strong>READ MORE:</strong> <a href='/other'>Bank branch to close in the spring</a></p>"
    "<figure><img src='x.jpg'><figcaption>Picture: The filling station on Mill Lane</figcaption></figure>"
)


def test_extract_returns_story_without_furniture_and_metadata():
    head = ("<meta property='article:published_time' content='2026-03-05T06:15:00+00:00'>"
            "<meta property='og:title' content='Cash machine forced open at filling station'>")
    ex = extract(page(FURNITURE, head), "https://valley-post.example/news/1")
    assert ex.title == "Cash machine forced open at filling station"
    assert ex.body.split("\n") == STORY
    assert ex.published == date(2026, 3, 5)
    assert ex.language == "en"


@pytest.mark.parametrize("head,body_extra,expected", [
    ("<script type='application/ld+json'>{\"@type\": \"NewsArticle\", \"datePublished\": \"2025-12-24\"}</script>",
     "", date(2025, 12, 24)),
    ("", "<time datetime='2024-07-01T09:00:00Z'>1 July 2024</time>", date(2024, 7, 1)),
    ("<meta name='date' content='2023-02-28'>", "", date(2023, 2, 28)),
    ("<meta property='article:published_time' content='not a date'>", "", None),
    ("", "", None),
])
def test_published_date_sources(head, body_extra, expected):
    assert extract(page(body_extra, head)).published == expected


@pytest.mark.parametrize("html", [
    "", "   ", "plain text, no markup at all", "<html></html>", "\x00\x01\x02 binary junk \xff",
    "<html><body><div><div><div>", "<p>" * 5000,
])
def test_bad_input_gives_empty_or_small_result_never_raises(html):
    ex = extract(html)
    assert isinstance(ex, Extracted)
    assert isinstance(ex.body, str) and isinstance(ex.title, str)


def test_short_story_is_recovered_without_furniture():
    # shorter than MIN_BODY_CHARS, so the recall pass runs; it must not pull the furniture back in
    short = "A cash machine was damaged in an overnight attempt to force it open in Eastbridge."
    assert len(short) < MIN_BODY_CHARS
    html = ("<html lang='en'><head><title>ATM damaged | Valley Post</title></head><body>"
            "<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
            "<article><h1>ATM damaged</h1><div class='article-body'><p>" + short + "</p>"
            "<div class='ad-slot'><span>Advertisement</span></div>"
            "<p><strong>READ MORE:</strong> <a href='/o'>Post office counter to close</a></p>"
            "<div class='tags'><a href='/t/crime'>Crime</a></div></div></article>"
            "<footer><p>Valley Post Ltd. All rights reserved.</p></footer></body></html>")
    ex = extract(html)
    assert ex.body == short
    assert ex.title == "ATM damaged"


# --- quality gate on the public benchmark's real pages ------------------------------------------

# Floor for F1 on the 181 real pages (cashwatch measured 0.973; plain trafilatura 2.3.1 0.953).
# Lowering it is an explicit act.
REAL_PAGES_F1_FLOOR = 0.965


@pytest.mark.shared
def test_real_pages_f1_at_least_floor(shared_dir):
    data = shared_dir / "realworld" / "extraction"
    scorer_path = shared_dir / "eval" / "extraction_score.py"
    if not (data / "ground-truth.json").exists() or not scorer_path.exists():
        pytest.skip(f"{data} or {scorer_path} is absent")
    spec = importlib.util.spec_from_file_location("extraction_score", scorer_path)
    scorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    results = {}
    for key in truth:
        with gzip.open(data / "html" / f"{key}.html.gz", "rt", encoding="utf-8") as fh:
            results[key] = {"body": extract(fh.read(), truth[key].get("url")).body}
    assert scorer.score(truth, results)["f1"] >= REAL_PAGES_F1_FLOOR
