"""What the incident page shows of each report (cashwatch.web.evidence, cashwatch.web.app's filters):
pure functions over stored records, tested without a browser (tests/test_web_browser.py drives the page)."""
from __future__ import annotations

import datetime as dt

import pytest

from cashwatch.models import Analysis, IncidentMention, Report
from cashwatch.web.app import day_month
from cashwatch.web.evidence import report_evidence


@pytest.mark.parametrize("month_day, shown", [
    ("--08-16", "16 August, year not given"),
    ("--02-29", "29 February, year not given"),
    (None, ""),
])
def test_a_day_and_month_without_a_year_reads_as_such(month_day, shown):
    assert day_month(month_day) == shown


def test_a_reports_evidence_keeps_the_day_and_month_it_gave_without_a_year():
    # an undated report's "on August 16": no date, but the page still says which day of the year
    mention = IncidentMention(type="atm_theft", town="Alton", force="hampshire", month_day="--08-16",
                              evidence="A cash machine was ripped from the wall early on August 16.")
    analysis = Analysis(article_id="a1", kind="incident", incidents=[mention])
    report = Report(article_id="a1", url="https://news.example/a1", mention=0, town="Alton", force="hampshire",
                    month_day="--08-16")
    ev = report_evidence(report, analysis)
    assert ev["date"] is None and ev["month_day"] == "--08-16" and ev["town"] == "Alton"
    # without its analysis (an old store), the report itself says the same
    assert report_evidence(report, None)["month_day"] == "--08-16"
    dated = report.model_copy(update={"date": dt.date(2023, 8, 16), "month_day": None})
    assert report_evidence(dated, None)["date"] == dt.date(2023, 8, 16)
