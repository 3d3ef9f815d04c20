"""The day and week views' grid: each time is one cell, booked or free, with the links the front desk
clicks; its empty cells are built once in appointments/calendar.py (no template work, no URL reversed per
cell), and the page says the same as when the template built each cell."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from accounts.models import Role
from appointments.calendar import Column, build_grid
from appointments.models import Appointment, Status
from tests.factories import AppointmentFactory, PatientFactory

pytestmark = pytest.mark.clock


def day_page(client, monday):
    return client.get(reverse("appointments:day"), {"date": monday.isoformat()}).content.decode()


def test_a_free_time_links_to_the_booking_form_for_that_physiotherapist_and_time(
    client_for, therapist, monday
):
    html = day_page(client_for(Role.FRONT_DESK), monday)
    href = f"{reverse('appointments:book')}?therapist={therapist.pk}&amp;start={monday.isoformat()}T09:45"
    assert f'data-testid="free-slot" href="{href}" title="Book 09:45">+ 09:45</a>' in html


def test_a_time_outside_working_hours_is_bookable_but_faint(client_for, therapist, monday):
    html = day_page(client_for(Role.FRONT_DESK), monday)
    assert 'title="Outside working hours: book 08:00 anyway"' not in html  # working from 08:00
    assert re.search(
        r'<td class="slot-off"><a [^>]*opacity-25[^>]*title="Outside working hours: book 1\d:\d\d', html
    )


def test_who_cannot_book_sees_empty_cells_without_links(client_for, therapist, monday):
    html = day_page(client_for(Role.MANAGER), monday)
    assert '<td class="slot-free"></td>' in html
    assert 'data-testid="free-slot"' not in html and "book 08:00" not in html


def test_an_appointment_fills_its_rows_and_links_to_its_page(client_for, therapist, at, monday):
    appointment = AppointmentFactory(
        therapist=therapist, start=at(9, 15), patient=PatientFactory(family_name="Okafor", given_name="Ada")
    )
    html = day_page(client_for(Role.FRONT_DESK), monday)
    span = (appointment.end - appointment.start) // timedelta(minutes=15)
    assert f'<td rowspan="{span}" class="slot-booked status-booked" data-testid="appointment"' in html
    assert f'<a href="{reverse("appointments:detail", args=[appointment.pk])}" class="d-block' in html
    assert "<strong>09:15</strong> Okafor, Ada" in html
    # The times it covers have no cell of their own; the next free time after it has.
    assert "+ 09:15<" not in html and "+ 09:30<" not in html
    assert f"+ {(at(9, 15) + span * timedelta(minutes=15)).astimezone(at(9).tzinfo):%H:%M}<" in html


def test_an_appointment_cell_escapes_names_and_shows_the_preferred_name_online_and_status_badges(
    client_for, therapist, at, monday
):
    """The booked cell is built in Python (appointments/calendar.py), not by the template: it must escape
    what the patient or the desk typed, and show everything the template showed."""
    patient = PatientFactory(family_name="<b>O'Hara</b>", given_name="Margaret", preferred_name="Peg & Co")
    appointment = AppointmentFactory(
        therapist=therapist, start=at(10), patient=patient, status=Status.ARRIVED
    )
    Appointment.objects.filter(pk=appointment.pk).update(booked_online=True)
    html = day_page(client_for(Role.FRONT_DESK), monday)
    assert "<strong>10:00</strong> &lt;b&gt;O&#x27;Hara&lt;/b&gt;, Peg &amp; Co" in html
    assert "<b>O'Hara</b>" not in html
    cell = html[html.index(f'data-appointment="{appointment.pk}"') :]
    cell = cell[: cell.index("</td>")]
    assert 'data-testid="online-badge"' in cell
    assert f'<span class="d-block small text-muted">{appointment.type.name}</span>' in cell
    assert 'data-status="arrived"' in cell and 'data-testid="appointment-status"' in cell
    assert 'class="slot-booked status-arrived"' in html


def test_the_grid_has_one_cell_per_time_and_physiotherapist(therapist, at, monday):
    from appointments.selectors import day_schedule

    AppointmentFactory(therapist=therapist, start=at(10))
    columns = [
        Column(label=str(p), day=monday, therapist=p, appointments=a, blocks=b)
        for p, a, b in day_schedule(monday)
    ]
    rows = build_grid(columns, book_url="/appointments/book/")
    # Every (time, physiotherapist) is an empty cell or inside one appointment's rows.
    total = sum(
        sum(c["html"].count("<td") if c["appointment"] is None else c["span"] for c in cells)
        for _, _, cells in rows
    )
    assert total == len(rows) * len(columns)
    assert sum(1 for _, _, cells in rows for c in cells if c["appointment"] is not None) == 1


def test_the_week_view_builds_its_cells_the_same_way(client_for, therapist, at, monday):
    AppointmentFactory(
        therapist=therapist, start=at(9, day_offset=1), patient=PatientFactory(family_name="Tues")
    )
    html = (
        client_for(Role.FRONT_DESK)
        .get(reverse("appointments:week", args=[therapist.pk]), {"date": monday.isoformat()})
        .content.decode()
    )
    tuesday = (monday + timedelta(days=1)).isoformat()
    assert f"?therapist={therapist.pk}&amp;start={tuesday}T10:00" in html
    assert "<strong>09:00</strong> Tues" in html
