"""An appointment's room is at its location in the database too (appointments 0010's trigger): the writers
that skip booking's check (a direct create, bulk_create, raw SQL) are refused; the forms say it first
(tests/appointments/test_change_place.py)."""

import pytest
from django.db import IntegrityError, connection, transaction

from appointments.models import Appointment, Room
from tests.factories import AppointmentFactory, LocationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def west_room(db):
    return Room.objects.create(location=LocationFactory(name="West clinic"), name="Room 9")


def refused():
    return pytest.raises(IntegrityError, match="appointment_room_at_its_location|is not at location")


def test_a_direct_save_of_a_room_at_another_location_is_refused(west_room, at):
    appointment = AppointmentFactory(start=at(9))
    appointment.room = west_room
    with refused(), transaction.atomic():
        appointment.save()
    assert Appointment.objects.get(pk=appointment.pk).room is None


def test_bulk_create_with_a_room_at_another_location_is_refused(west_room, at):
    template = AppointmentFactory(start=at(9))
    copy = Appointment(
        patient=template.patient,
        therapist=template.therapist,
        type=template.type,
        location=template.location,
        room=west_room,
        start=at(11),
        end=at(11, 30),
    )
    with refused(), transaction.atomic():
        Appointment.objects.bulk_create([copy])
    assert Appointment.objects.count() == 1


def test_raw_sql_is_refused_and_a_room_without_a_location_too(west_room, at):
    appointment = AppointmentFactory(start=at(9))
    for sql, params in (
        ("UPDATE appointments_appointment SET room_id = %s WHERE id = %s", [west_room.pk, appointment.pk]),
        (
            "UPDATE appointments_appointment SET room_id = %s, location_id = NULL WHERE id = %s",
            [west_room.pk, appointment.pk],
        ),
    ):
        with refused(), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    assert Appointment.objects.get(pk=appointment.pk).room is None


def test_a_room_at_the_location_is_taken_by_every_writer(west_room, at):
    appointment = AppointmentFactory(start=at(9), location=west_room.location)
    appointment.room = west_room
    appointment.save()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE appointments_appointment SET notes = 'raw' WHERE id = %s AND room_id = %s",
            [appointment.pk, west_room.pk],
        )
        assert cursor.rowcount == 1
    # Moving an appointment and its room away together, in one statement, is one consistent row.
    other = Room.objects.create(location=LocationFactory(name="East clinic"), name="Room 2")
    Appointment.objects.filter(pk=appointment.pk).update(location=other.location, room=other)
    assert Appointment.objects.get(pk=appointment.pk).room == other
