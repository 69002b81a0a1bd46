"""Date resolution against the published date (cashwatch.processors.dates)."""
from __future__ import annotations

from datetime import date

import pytest

from cashwatch.processors import dates as D
from cashwatch.processors.dates import find_dates, resolve_date
from cashwatch.processors.lexicon import word_bits

WED = date(2022, 6, 15)  # a Wednesday


@pytest.mark.parametrize("text, expected", [
    ("The raid happened early this morning.", WED),
    ("Officers were called at 2am today.", WED),
    ("The machine was taken last night.", date(2022, 6, 14)),
    ("It was reported yesterday afternoon.", date(2022, 6, 14)),
    ("The attack happened at 3.10am on Monday.", date(2022, 6, 13)),
    ("It happened in the early hours of Sunday.", date(2022, 6, 12)),
    ("The shop was hit on Wednesday.", WED),
    ("They struck last Wednesday.", date(2022, 6, 8)),
    ("The store was targeted between Saturday and Sunday.", date(2022, 6, 12)),
    ("The raid took place overnight on Friday into Saturday.", date(2022, 6, 11)),
    ("It was raided on Thursday, June 9.", date(2022, 6, 9)),
    ("The attack on 2 May left the shop wrecked.", date(2022, 5, 2)),
    ("The attack took place on 14th December.", date(2021, 12, 14)),  # no future dates: last year
    ("It happened on 3 March 2019 at the same store.", date(2019, 3, 3)),
    ("Call 101 quoting log 233 of 14/06/22.", date(2022, 6, 14)),
])
def test_resolve_against_published(text, expected):
    assert resolve_date(text, WED) == expected


@pytest.mark.parametrize("text", [
    "There were several attacks last week.",
    "Thefts have risen earlier this year.",
    "The thieves may have escaped in a van.",
    "Patrols run every Sunday in the town.",
])
def test_vague_or_non_dates_fix_nothing(text):
    assert resolve_date(text, WED) is None


def test_weekday_without_published_date_is_unfixed():
    hits = find_dates("The raid happened on Tuesday.", None)
    assert [h.kind for h in hits] == ["weekday"]
    assert hits[0].day is None


def test_word_bits_given_or_taken_give_the_same_dates():
    # the analyser lends find_dates the word bits it already took for a sentence
    text = "Between Sunday night and Monday, and again at 2am on 3 March, the machine was hit."
    assert find_dates(text, WED, word_bits(text)) == find_dates(text, WED)
    assert [h.kind for h in find_dates(text, WED)] == ["range", "dmy"]


def test_explicit_year_needs_no_published_date():
    assert resolve_date("It happened on 7 April 2019.", None) == date(2019, 4, 7)


def test_explicit_and_relative_in_one_sentence_are_both_listed():
    hits = find_dates("It happened in the early hours of yesterday (June 14).", WED)
    assert {h.kind for h in hits} == {"yesterday", "mdy"}
    assert {h.day for h in hits} == {date(2022, 6, 14)}


def test_day_of_month_patterns_need_a_digit():
    # find_dates skips them for texts without a digit: every match must hold one
    for kind, rx in D._PATTERNS:
        if kind in D._DIGIT_KINDS:
            assert rx.search("on 5 may 2021") or rx.search("on may 5") or rx.search("on 05/05/2021"), kind
            assert not rx.search("on fifth may twenty twenty one, on may fifth, on five/may/twenty"), kind


def test_a_pages_own_date_stamp_is_marked_as_such():
    """"Published: 11:08, 20 May 2019" is when the page went up, not a day the story tells of."""
    hits = find_dates("Date published: 14 April 2009 Robbers attacked two guards on Saturday afternoon.", date(2009, 4, 14))
    assert [(h.kind, str(h.day)) for h in hits] == [("stamp", "2009-04-14"), ("weekday", "2009-04-11")]
    assert [h.kind for h in find_dates("Updated 3.15pm, 2 June 2021", None)] == ["stamp"]
    assert [h.kind for h in find_dates("The raid on 20 May 2019 was the third.", None)] == ["dmy"]


@pytest.mark.parametrize("text, published, month_day", [
    pytest.param("The shop was hit at 2am on March 3.", None, (3, 3), id="month-day-undated"),
    pytest.param("Raiders struck on the 21st of October.", None, (10, 21), id="day-of-month-undated"),
    pytest.param("The shop was hit at 2am on March 3.", date(2024, 3, 5), None, id="dated-year-inferred"),
    pytest.param("The shop was hit on 3 March 2021.", None, None, id="year-given"),
])
def test_a_day_and_month_nothing_fixes_keep_their_calendar_day(text, published, month_day):
    [hit] = [h for h in find_dates(text, published) if h.kind in ("dmy", "mdy")]
    assert hit.month_day == month_day
    assert (hit.day is None) is (published is None and month_day is not None)
