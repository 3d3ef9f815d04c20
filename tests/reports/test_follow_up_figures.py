"""The safety dashboard's follow-up figures (issue 15): response rate, soreness in three bands and warning
signs per 100 sessions for the range, in a constant number of queries."""

import pytest
from django.utils import timezone

from accounts.models import Role
from tests.factories import PatientFactory
from tests.reports.conftest import add_session, at
from treatments.models import FollowUp

pytestmark = pytest.mark.django_db


def params(report_filter):
    return {"start": report_filter.start.isoformat(), "end": report_filter.end.isoformat()}


def follow_up(session, soreness=None, warning=False):
    answered = soreness is not None
    return FollowUp.objects.create(
        session=session,
        sent_at=timezone.now(),
        answered_at=timezone.now() if answered else None,
        soreness=soreness,
        bruising=False if answered else None,
        chest_pain=warning,
    )


def test_the_safety_page_reports_response_rate_soreness_and_warning_signs(clinic, client_for):
    sessions = list(clinic.sessions.values())[:4]
    follow_up(sessions[0], soreness=2)
    follow_up(sessions[1], soreness=5, warning=True)
    follow_up(sessions[2], soreness=8)
    follow_up(sessions[3])  # not answered
    response = client_for(Role.MANAGER).get("/reports/safety/", params(clinic.report_filter))
    figures = response.context["follow_ups"]
    in_range = response.context["safety"].sessions
    assert (figures["sent"], figures["answered"]) == (4, 3)
    assert figures["response_rate"] == 75
    assert figures["soreness"] == [("0-3", 1), ("4-6", 1), ("7-10", 1)]
    assert figures["warning_sessions"] == 1 and figures["warning_per_100"] == pytest.approx(100 / in_range)
    html = response.content.decode()
    assert 'data-testid="follow-up-response-rate">75.0%' in html
    assert f'data-testid="follow-up-warning-rate">{100 / in_range:.2f}' in html


def test_the_follow_up_figures_cost_the_same_queries_for_many_rows(
    clinic, client_for, django_assert_max_num_queries
):
    client = client_for(Role.MANAGER)
    query = params(clinic.report_filter)
    with django_assert_max_num_queries(25) as few:
        client.get("/reports/safety/", query)
    for hour in range(8, 16):
        session = add_session(PatientFactory(), clinic.ben, at(clinic.report_filter.start, hour), [])
        follow_up(session, soreness=hour - 6, warning=hour % 2 == 0)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/reports/safety/", query)
    assert response.context["follow_ups"]["sent"] == 8
