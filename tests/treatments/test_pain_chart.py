"""The chart panel's pain chart is drawn from a template that escapes every value."""

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from types import SimpleNamespace

from treatments.chart import pain_chart_svg

SVG = "{http://www.w3.org/2000/svg}"


class HostileScore(int):
    """A pain score that prints as markup: only the template's escaping keeps it text."""

    def __str__(self):
        return '"><svg onload=alert(1)><script>alert(1)</script>'


def session(before, after, day=1):
    return SimpleNamespace(
        pain_before=before, pain_after=after, started_at=datetime(2026, 11, day, 9, tzinfo=UTC)
    )


def test_a_score_that_prints_as_markup_comes_out_as_text():
    root = ET.fromstring(pain_chart_svg([session(HostileScore(7), None)]))
    assert root.find(f".//{SVG}script") is None and root.find(f".//{SVG}svg") is None
    assert [t.text for t in root.iter(f"{SVG}title")] == [f"2026-11-01 before: {HostileScore(7)}"]


def test_each_recorded_score_is_a_bar_oldest_on_the_left():
    root = ET.fromstring(pain_chart_svg([session(3, None, day=2), session(6, 2, day=1)]))
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert titles == ["2026-11-01 before: 6", "2026-11-01 after: 2", "2026-11-02 before: 3"]


def test_no_scores_no_chart():
    assert pain_chart_svg([session(None, None)]) is None
