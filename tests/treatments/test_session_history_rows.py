"""The chart's session history rows are made in Python (treatments/chart.py history_row), not by the
template with an include per row: what a row says of its session and follow-up, and every value escaped."""

from datetime import UTC, datetime

import pytest

from accounts.models import User
from tests.markup import page_text
from treatments.chart import history_row
from treatments.models import FollowUp, NeedlingSession

# A session with no follow-up is asked for it (the chart's read has it already, select_related).
pytestmark = pytest.mark.django_db
STARTED = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def row(follow_up=None, points=1, **fields):
    session = NeedlingSession(
        pk=7, started_at=STARTED, clinician=User(full_name="<b>Dr</b> O'Neil"), **fields
    )
    session.point_count = points
    if follow_up is not None:
        session.follow_up = follow_up
    return history_row(session, "/sessions/7/", "/sessions/7/visit-summary.pdf")


def test_a_draft_without_pain_or_follow_up():
    html = row(pain_before=None, pain_after=None)
    text = page_text(html)
    assert "<b>Dr</b> O'Neil · pain ? → ? · 1 point draft PDF" in text
    assert "<b>" not in html and 'href="/sessions/7/visit-summary.pdf"' in html
    assert "follow-up" not in text


def test_a_signed_session_with_its_follow_up_answered():
    answered = FollowUp(sent_at=STARTED, answered_at=STARTED, soreness=4, bruising=True, chest_pain=True)
    html = row(answered, points=3, pain_before=6, pain_after=2, signed_at=STARTED)
    text = page_text(html)
    assert "pain 6 → 2 · 3 points signed" in text
    assert "· next day: soreness 4/10, bruising chest pain" in text
    assert '<span class="badge text-bg-danger">chest pain</span>' in html


def test_a_follow_up_not_answered_says_so():
    assert "· follow-up not answered" in page_text(row(FollowUp(sent_at=STARTED)))
