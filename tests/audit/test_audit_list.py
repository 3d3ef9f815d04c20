from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import Action
from audit.services import record
from tests.factories import PhysioFactory

# Its outcome depends on the clock: `make test-clock` runs it at awkward instants too.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]


def rows(response):
    """The table body only: the staff filter's options name everybody."""
    html = response.content.decode()
    return html[html.index("<tbody>") : html.index("</tbody>")]


def test_the_administrator_browses_the_trail_with_filters(client, administrator):
    priya, daniel = PhysioFactory(full_name="Priya N"), PhysioFactory(full_name="Daniel O")
    record(Action.VIEW, user=priya, object_type="patients.patient", object_id="7", patient_id=7)
    record(Action.PRINT, user=daniel, object_type="treatments.needlingsession", object_id="3", patient_id=8)
    client.force_login(administrator)

    everything = rows(client.get("/audit/"))
    assert "Priya N" in everything and "Daniel O" in everything

    by_user = rows(client.get("/audit/", {"user": priya.pk}))
    assert "Priya N" in by_user and "Daniel O" not in by_user

    by_patient = rows(client.get("/audit/", {"patient_id": 8}))
    assert "Daniel O" in by_patient and "Priya N" not in by_patient

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
        "/audit/", {"user": "abc", "patient_id": "-4", "date_from": "yesterday", "page": "x"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize("role_fixture", ["physio", "front_desk", "manager"])
def test_other_roles_may_not_browse_the_trail(client, request, role_fixture):
    client.force_login(request.getfixturevalue(role_fixture))
    assert client.get("/audit/").status_code == 403


def test_the_page_queries_a_constant_number_of_times(client, administrator, django_assert_max_num_queries):
    for n in range(60):
        record(Action.VIEW, user=PhysioFactory(), patient_id=n + 1)
    client.force_login(administrator)
    with django_assert_max_num_queries(8):
        response = client.get("/audit/")
    assert response.status_code == 200
    assert response.content.decode().count("<tr>") == 51  # header + a page of 50
