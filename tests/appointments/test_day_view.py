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
    # The signed-in user's session, account and second factor, the locations, the physiotherapists, their
    # appointments (one fixed query), their hours with breaks, their time off (appointments.selectors).
    assert small <= 8, small


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


# --- "Today" and the "now" line (issue 14) --------------------------------------------------------------
def test_today_has_a_now_line_and_a_today_button(later_today, client_for, therapist):
    html = client_for(Role.FRONT_DESK).get(reverse("appointments:day")).content.decode()
    assert '<tr class=" now">' in html  # 09:30 is not on the hour
    assert 'data-testid="now-line">now 09:30</span>' in html
    assert html.count('data-testid="now-line"') == 1
    assert 'href="?date=2026-12-09" aria-current="date">Today</a>' in " ".join(html.split())


def test_another_day_has_no_now_line_and_today_goes_back(later_today, client_for, therapist):
    html = (
        client_for(Role.FRONT_DESK).get(reverse("appointments:day"), {"date": "2026-12-10"}).content.decode()
    )
    assert 'data-testid="now-line"' not in html
    assert 'href="?date=2026-12-09" >Today</a>' in " ".join(html.split())


def test_the_now_line_moves_with_the_clock(later_today, client_for, therapist):
    import time_machine

    with time_machine.travel(later_today(14, 7), tick=False):
        html = client_for(Role.FRONT_DESK).get(reverse("appointments:day")).content.decode()
    assert '<tr class="hour now">' in html and "now 14:07" in html


# --- the week of everyone at a location (issue 14) --------------------------------------------------------
def test_the_week_shows_every_physiotherapist_of_the_location(client_for, therapist, at, monday):
    from appointments.models import Location

    main = therapist.working_hours.first().location
    colleague = PhysioFactory(full_name="Cora Colleague")
    WorkingHoursFactory(therapist=colleague, location=main, weekday=2)
    branch = Location.objects.create(name="Branch North")
    WorkingHoursFactory(therapist=PhysioFactory(full_name="Nora North"), location=branch)
    AppointmentFactory(therapist=therapist, start=at(9), patient=PatientFactory(family_name="Monday"))
    AppointmentFactory(
        therapist=colleague, start=at(10, day_offset=2), patient=PatientFactory(family_name="Wednesday")
    )
    AppointmentFactory(
        therapist=therapist, start=at(9, day_offset=7), patient=PatientFactory(family_name="Following")
    )
    html = (
        client_for(Role.PHYSIO)
        .get(
            reverse("appointments:location_week"),
            {"date": (monday + timedelta(days=4)).isoformat(), "location": main.pk},
        )
        .content.decode()
    )
    assert html.count('data-testid="location-week-row"') == 2
    assert "Dana Physio" in html and "Cora Colleague" in html and "Nora North" not in html
    cells = html.split('data-testid="location-week-row"')
    dana = next(c for c in cells if "Dana Physio" in c)
    cora = next(c for c in cells if "Cora Colleague" in c)
    assert "09:00 Monday" in dana and "Wednesday" not in dana
    assert "10:00 Wednesday" in cora
    assert "Following" not in html  # the week after


def test_the_location_week_is_reached_from_the_day_and_week_views(client_for, therapist, monday):
    client = client_for(Role.FRONT_DESK)
    html = client.get(reverse("appointments:day"), {"date": monday.isoformat()}).content.decode()
    assert 'data-testid="location-week"' in html and reverse("appointments:location_week") in html
    html = client.get(reverse("appointments:week", args=[therapist.pk])).content.decode()
    assert f'href="{reverse("appointments:location_week")}?date=' in html


def test_the_location_week_runs_a_constant_number_of_queries(
    client_for, therapist, at, monday, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(Role.FRONT_DESK)
    url = reverse("appointments:location_week")
    location = therapist.working_hours.first().location
    AppointmentFactory(therapist=therapist, start=at(8))
    with CaptureQueriesContext(connection) as small:
        assert client.get(url, {"date": monday.isoformat()}).status_code == 200
    for n in range(6):
        person = PhysioFactory()
        WorkingHoursFactory(therapist=person, location=location)
        for day in range(5):
            for slot in range(4):
                AppointmentFactory(therapist=person, start=at(8 + slot, day_offset=day))
    with django_assert_max_num_queries(len(small)):
        response = client.get(url, {"date": monday.isoformat()})
    assert response.content.decode().count('data-testid="appointment"') == 121
    assert len(small) <= 8


def test_the_location_week_with_nobody_working_there_yet(client_for, db):
    response = client_for(Role.FRONT_DESK).get(reverse("appointments:location_week"), {"date": "not-a-date"})
    assert response.status_code == 200
    assert "Nobody works at" in response.content.decode()
