from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from audit.models import Action
from audit.services import record
from tests.factories import PatientFactory, PhysioFactory

# Its outcome depends on the clock: `make test-clock` runs it at awkward instants too.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]


def rows(response):
    """The table body only: the staff filter's options name everybody."""
    html = response.content.decode()
    return html[html.index("<tbody>") : html.index("</tbody>")]


def test_the_administrator_browses_the_trail_with_filters(client, administrator):
    priya, daniel = PhysioFactory(full_name="Priya N"), PhysioFactory(full_name="Daniel O")
    seen = PatientFactory(given_name="Mina", family_name="Castellanos")
    printed = PatientFactory(given_name="Olu", family_name="Adeyemi")
    record(
        Action.VIEW, user=priya, object_type="patients.patient", object_id=str(seen.pk), patient_id=seen.pk
    )
    record(
        Action.PRINT,
        user=daniel,
        object_type="treatments.needlingsession",
        object_id="3",
        patient_id=printed.pk,
    )
    client.force_login(administrator)

    everything = rows(client.get("/audit/"))
    assert "Priya N" in everything and "Daniel O" in everything

    by_user = rows(client.get("/audit/", {"user": priya.pk}))
    assert "Priya N" in by_user and "Daniel O" not in by_user

    by_chart_number = rows(client.get("/audit/", {"patient": printed.chart_number}))
    assert "Daniel O" in by_chart_number and "Priya N" not in by_chart_number
    assert f"{printed.chart_number} Adeyemi, Olu" in by_chart_number  # the patient named, not an id

    by_name = rows(client.get("/audit/", {"patient": "castellanos"}))
    assert "Priya N" in by_name and "Daniel O" not in by_name

    nobody = rows(client.get("/audit/", {"patient": "Nobody Here"}))
    assert "No events match these filters." in nobody

    by_action = rows(client.get("/audit/", {"action": "print"}))
    assert "Daniel O" in by_action and "Priya N" not in by_action

    today = timezone.localdate()
    future = client.get("/audit/", {"date_from": (today + timedelta(days=1)).isoformat()}).content.decode()
    assert "No events match these filters." in future


def test_a_reversed_date_range_is_a_form_error(client, administrator):
    client.force_login(administrator)
    response = client.get("/audit/", {"date_from": "2026-05-02", "date_to": "2026-05-01"})
    assert response.status_code == 200
    assert "The end date is before the start date." in response.content.decode()


def test_garbage_filters_are_form_errors_not_500(client, administrator):
    client.force_login(administrator)
    response = client.get(
        "/audit/", {"user": "abc", "patient": "x" * 300, "date_from": "yesterday", "page": "x"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize("role_fixture", ["physio", "front_desk", "manager"])
def test_other_roles_may_not_browse_the_trail(client, request, role_fixture):
    client.force_login(request.getfixturevalue(role_fixture))
    assert client.get("/audit/").status_code == 403


@pytest.mark.parametrize("query", [{}, {"patient": "Castellanos"}])
def test_the_page_queries_a_constant_number_of_times(
    client, administrator, django_assert_max_num_queries, query
):
    for n in range(60):
        patient = PatientFactory(family_name="Castellanos")
        record(Action.VIEW, user=PhysioFactory(), patient_id=patient.pk if n % 2 else n + 10_000_000)
    client.force_login(administrator)
    with django_assert_max_num_queries(9):
        response = client.get("/audit/", query)
    assert response.status_code == 200
    assert response.content.decode().count("<tr>") == (51 if not query else 31)  # header + the events


def test_times_are_shown_in_the_clinics_zone_and_the_page_says_so(client, administrator, settings):
    settings.TIME_ZONE = "America/Vancouver"
    # 2026-07-01 03:30 UTC is 2026-06-30 20:30 in Vancouver (PDT, UTC-7).
    with time_machine.travel("2026-07-01T03:30:00+00:00", tick=False):
        record(Action.VIEW, user=PhysioFactory(), object_type="patients.patient")
    client.force_login(administrator)
    html = client.get("/audit/").content.decode()
    assert "When (America/Vancouver)" in html and "UTC" not in html
    assert "2026-06-30 20:30:00" in html
