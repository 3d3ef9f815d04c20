"""The day and week views: who may see them, what they show, and a constant number of queries."""

from datetime import timedelta

import pytest
from django.urls import reverse

from accounts.models import Role, User
from tests.factories import AppointmentFactory, PatientFactory, PhysioFactory, WorkingHoursFactory

# Its outcome depends on the clock: `make test-clock` runs it at awkward instants too.
pytestmark = pytest.mark.clock


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.ADMIN, Role.MANAGER, Role.PHYSIO])
def test_every_role_sees_the_day_view(client_for, role, therapist, at, monday):
    AppointmentFactory(therapist=therapist, start=at(9), patient=PatientFactory(family_name="Okafor"))
    response = client_for(role).get(reverse("appointments:day"), {"date": monday.isoformat()})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Dana Physio" in html and "Okafor" in html
    assert ("+ 08:00" in html) == (role in (Role.FRONT_DESK, Role.ADMIN))


def test_free_times_link_to_a_prefilled_booking_form(client_for, therapist, monday):
    response = client_for(Role.FRONT_DESK).get(reverse("appointments:day"), {"date": monday.isoformat()})
    link = f"{reverse('appointments:book')}?therapist={therapist.pk}&amp;start={monday.isoformat()}T08:15"
    assert link in response.content.decode()


def test_cancelled_appointments_free_the_grid_and_are_listed_below(client_for, therapist, at, monday):
    AppointmentFactory(
        therapist=therapist,
        start=at(9),
        status="cancelled",
        cancel_reason="sick",
        patient=PatientFactory(family_name="Zed"),
    )
    html = (
        client_for(Role.FRONT_DESK)
        .get(reverse("appointments:day"), {"date": monday.isoformat()})
        .content.decode()
    )
    assert "+ 09:00" in html
    assert "Zed</a> (cancelled)" in html


def test_a_bad_date_falls_back_to_today(client_for, db):
    response = client_for(Role.FRONT_DESK).get(reverse("appointments:day"), {"date": "not-a-date"})
    assert response.status_code == 200


def test_the_day_view_runs_a_constant_number_of_queries(
    client_for, monday, at, django_assert_max_num_queries
):
    """10 therapists x 12 appointments costs what 1 x 1 costs."""
    client = client_for(Role.FRONT_DESK)
    url = reverse("appointments:day")

    def count_queries():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as context:
            assert client.get(url, {"date": monday.isoformat()}).status_code == 200
        return len(context.captured_queries)

    first = PhysioFactory()
    WorkingHoursFactory(therapist=first)
    AppointmentFactory(therapist=first, start=at(8))
    small = count_queries()
    for n in range(9):
        person = PhysioFactory()
        WorkingHoursFactory(therapist=person)
    people = list(User.objects.filter(role=Role.PHYSIO))
    assert len(people) == 10
    for person in people:
        for slot in range(12):
            start = at(8) + timedelta(minutes=30 * slot)
            if person == first and slot == 0:
                continue
            AppointmentFactory(therapist=person, start=start)
    with django_assert_max_num_queries(small):
        response = client.get(url, {"date": monday.isoformat()})
    assert response.content.decode().count('data-testid="appointment"') == 120
    assert small <= 10


def test_week_view_shows_one_therapists_week(client_for, therapist, at, monday):
    AppointmentFactory(
        therapist=therapist, start=at(9, day_offset=2), patient=PatientFactory(family_name="Wednesday")
    )
    AppointmentFactory(start=at(9, day_offset=2), patient=PatientFactory(family_name="Elsewhere"))
    response = client_for(Role.PHYSIO).get(
        reverse("appointments:week", args=[therapist.pk]), {"date": (monday + timedelta(days=3)).isoformat()}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Wednesday" in html and "Elsewhere" not in html
    assert f"{monday:%a %d %b}" in html


def test_week_view_of_someone_not_a_physio_is_404(client_for, front_desk):
    response = client_for(Role.FRONT_DESK).get(reverse("appointments:week", args=[front_desk.pk]))
    assert response.status_code == 404


def test_with_several_locations_the_day_shows_one_location_at_a_time(client_for, therapist, monday):
    from appointments.models import Location

    branch = Location.objects.create(name="Branch North")
    elsewhere = PhysioFactory(full_name="Nora North")
    WorkingHoursFactory(therapist=elsewhere, location=branch)
    client = client_for(Role.FRONT_DESK)
    url = reverse("appointments:day")
    first = Location.objects.order_by("pk").first()
    html = client.get(url, {"date": monday.isoformat()}).content.decode()
    assert ("Dana Physio" in html) == (therapist.working_hours.filter(location=first).exists())
    html = client.get(url, {"date": monday.isoformat(), "location": branch.pk}).content.decode()
    assert "Nora North" in html and "Dana Physio" not in html
    html = client.get(url, {"date": monday.isoformat(), "location": "all"}).content.decode()
    assert "Nora North" in html and "Dana Physio" in html
