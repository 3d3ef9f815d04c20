"""Confirming an import: patients created from the rows the dry run staged, rows linked to
where they came from, appointments booked under the booking rules, one audit event with the counts, and
nothing created twice when the same files come again."""

import pytest

from accounts.models import Role
from appointments.models import Appointment, AppointmentStatusChange
from audit.models import Action, AuditEvent
from interop.models import BatchStatus, ImportBatch, ImportedRecord
from patients.models import Patient
from tests.markup import tags

from .conftest import fixture_bytes, upload

pytestmark = pytest.mark.django_db


def confirm(client):
    batch = ImportBatch.objects.latest("id")
    return client.post(f"/interop/import/{batch.pk}/confirm/"), batch


def test_confirming_creates_the_patients_and_records_where_each_came_from(admin_client, clinic):
    upload(admin_client, fixture_bytes("jane_patients.csv"), fixture_bytes("jane_appointments.csv"))
    response, batch = confirm(admin_client)
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == BatchStatus.IMPORTED
    amelie = Patient.objects.get(family_name="Tremblay")
    assert (amelie.given_name, amelie.preferred_name, str(amelie.date_of_birth)) == (
        "Amélie",
        "Amy",
        "1985-03-14",
    )
    assert amelie.phn == "9123456780" and str(amelie.phone) == "+16045550101"
    assert amelie.address.startswith("1200 W Broadway")
    assert amelie.chart_number.startswith("C")
    records = {r.source_id: r for r in ImportedRecord.objects.filter(kind="patient")}
    assert set(records) == {"1001", "1002", "1003", "1007", "1008"}
    assert records["1001"].created and records["1001"].patient == amelie
    assert not records["1003"].created and records["1003"].patient == clinic  # matched, not created
    assert records["1008"].patient == amelie  # her second Jane profile
    assert records["1001"].source_system == "jane" and records["1001"].row_number == 2
    assert not batch.patients_file  # the upload leaves the database once imported
    assert len(batch.patients_sha256) == 64


def test_appointments_are_booked_for_the_right_patient_physio_and_status(admin_client, clinic):
    upload(admin_client, fixture_bytes("jane_patients.csv"), fixture_bytes("jane_appointments.csv"))
    confirm(admin_client)
    booked = {a.patient.family_name + a.start.strftime(" %m-%d"): a for a in Appointment.objects.all()}
    assert set(booked) == {"Tremblay 10-05", "Chen 10-06", "Sato 10-07", "Sato 01-15"}
    assert booked["Tremblay 10-05"].status == "completed"
    assert booked["Chen 10-06"].status == "no_show"
    assert (
        booked["Sato 10-07"].status == "cancelled"
        and booked["Sato 10-07"].cancel_reason == "Cancelled in Jane"
    )
    assert booked["Sato 01-15"].status == "booked" and booked["Sato 01-15"].notes == "Interpreter: Japanese"
    assert {a.therapist.full_name for a in booked.values()} == {"Priya Natarajan"}
    assert AppointmentStatusChange.objects.filter(note="imported").count() == 4
    assert ImportedRecord.objects.filter(kind="appointment").count() == 4


def test_the_import_is_audited_with_its_counts(admin_client, clinic):
    upload(admin_client, fixture_bytes("jane_patients.csv"), fixture_bytes("jane_appointments.csv"))
    _response, batch = confirm(admin_client)
    event = AuditEvent.objects.get(object_type="interop.importbatch", action=Action.CREATE)
    assert "patients: 3 created, 2 matched, 0 already imported, 3 refused" in event.detail
    assert "appointments: 4 created" in event.detail
    assert batch.patients_sha256[:16] in event.detail
    assert AuditEvent.objects.filter(
        object_type="patients.patient", detail__contains="3 patients registered"
    ).exists()


def test_running_the_same_files_again_creates_nothing_twice(admin_client, clinic):
    upload(admin_client, fixture_bytes("jane_patients.csv"), fixture_bytes("jane_appointments.csv"))
    confirm(admin_client)
    patients, appointments = Patient.objects.count(), Appointment.objects.count()
    upload(admin_client, fixture_bytes("jane_patients.csv"), fixture_bytes("jane_appointments.csv"))
    again = ImportBatch.objects.latest("id")
    assert again.result["patients"]["already"] == 5
    assert again.result["patients"]["create"] == 0
    assert again.result["appointments"]["already"] == 4
    assert again.result["appointments"]["create"] == 0
    response, _batch = confirm(admin_client)
    assert response.status_code == 400
    assert "Nothing can be imported" in response.content.decode()
    assert (Patient.objects.count(), Appointment.objects.count()) == (patients, appointments)


def test_a_batch_is_confirmed_once(admin_client, clinic):
    upload(admin_client, fixture_bytes("cliniko_patients.csv"), fixture_bytes("cliniko_appointments.csv"))
    confirm(admin_client)
    response, _batch = confirm(admin_client)
    assert response.status_code == 400
    assert Patient.objects.filter(family_name="Patel").count() == 1


def test_a_cliniko_import_maps_did_not_arrive_and_cancellations(admin_client, clinic):
    upload(admin_client, fixture_bytes("cliniko_patients.csv"), fixture_bytes("cliniko_appointments.csv"))
    batch = ImportBatch.objects.latest("id")
    found = {row: reason for kind, row, _s, reason in batch.result["refusals"] if kind == "appointments"}
    assert found[5] == "its patient (row 4) was refused"
    assert (
        found[6] == "no member of staff named \u201cFront Desk Person\u201d (add them, or correct the name)"
    )
    assert found[7] == "it ends before it starts"
    confirm(admin_client)
    statuses = {
        (a.patient.family_name, a.start.day): (a.status, a.cancel_reason) for a in Appointment.objects.all()
    }
    assert statuses == {
        ("O'Neil", 1): ("completed", ""),
        ("Patel", 1): ("no_show", ""),
        ("O'Neil", 2): ("cancelled", "Illness Called in sick"),
    }
    hannah = Patient.objects.get(family_name="O'Neil")
    assert ImportedRecord.objects.get(source_system="cliniko", source_id="38412").patient == hannah


def test_an_appointment_that_overlaps_one_on_file_is_refused(admin_client, clinic):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from accounts.models import User
    from tests.factories import AppointmentFactory

    priya = User.objects.get(full_name="Priya Natarajan")
    AppointmentFactory(
        therapist=priya, start=datetime(2026, 10, 5, 9, 15, tzinfo=ZoneInfo("America/Vancouver"))
    )
    upload(admin_client, fixture_bytes("jane_patients.csv"), fixture_bytes("jane_appointments.csv"))
    found = {
        row: r
        for kind, row, _s, r in ImportBatch.objects.latest("id").result["refusals"]
        if kind == "appointments"
    }
    assert found[2] == "The physiotherapist already has an appointment at 2026-10-05 09:15."
    assert 4 not in found  # a no-show holds no time (2026-10-06)


def test_the_database_refuses_an_overlap_that_slips_past_the_plan(clinic):
    """book_imported's rule is held by the exclusion constraint too (a booking made between the dry run
    and the confirmation): nothing of the import is kept."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from accounts.models import User
    from appointments.models import AppointmentType, Location
    from appointments.services.booking import BookingError
    from appointments.services.imports import book_imported
    from audit.services import audited_transaction
    from tests.factories import AppointmentFactory

    priya = User.objects.get(full_name="Priya Natarajan")
    start = datetime(2026, 10, 6, 10, 0, tzinfo=ZoneInfo("America/Vancouver"))
    AppointmentFactory(therapist=priya, start=start)
    new = Appointment(
        patient=clinic,
        therapist=priya,
        type=AppointmentType.objects.first(),
        location=Location.objects.first(),
        start=start,
        end=start + timedelta(minutes=30),
        status="completed",
    )
    with pytest.raises(BookingError), audited_transaction():
        book_imported([new], by=priya, detail="test")
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize("role", [Role.PHYSIO, Role.FRONT_DESK, Role.MANAGER])
def test_only_the_administrator_imports(client_for, clinic, role):
    client = client_for(role)
    assert client.get("/interop/import/").status_code == 403
    response = upload(client, fixture_bytes("jane_patients.csv"))
    assert response.status_code == 403
    assert not ImportBatch.objects.exists()


def test_other_roles_cannot_see_or_confirm_a_batch(client_for, clinic):
    admin = client_for(Role.ADMIN)
    upload(admin, fixture_bytes("jane_patients.csv"))
    batch = ImportBatch.objects.get()
    for role in (Role.PHYSIO, Role.FRONT_DESK, Role.MANAGER):
        client = client_for(role)
        assert client.get(f"/interop/import/{batch.pk}/").status_code == 403
        assert client.post(f"/interop/import/{batch.pk}/confirm/").status_code == 403
        assert client.post(f"/interop/import/{batch.pk}/discard/").status_code == 403
    batch.refresh_from_db()
    assert batch.status == BatchStatus.PENDING


def test_discarding_drops_the_files(admin_client, clinic):
    upload(admin_client, fixture_bytes("jane_patients.csv"))
    batch = ImportBatch.objects.get()
    assert admin_client.post(f"/interop/import/{batch.pk}/discard/").status_code == 302
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DISCARDED and not batch.patients_file
    assert admin_client.post(f"/interop/import/{batch.pk}/confirm/").status_code == 400
    assert not Patient.objects.filter(family_name="Tremblay").exists()


def test_the_confirm_button_shows_while_the_batch_waits_and_not_once_it_is_imported(admin_client, clinic):
    upload(admin_client, fixture_bytes("jane_patients.csv"), fixture_bytes("jane_appointments.csv"))
    batch = ImportBatch.objects.latest("id")
    waiting = admin_client.get(f"/interop/import/{batch.pk}/").content.decode()
    assert len(tags(waiting, "button", data_testid="confirm")) == 1
    confirm(admin_client)
    imported = admin_client.get(f"/interop/import/{batch.pk}/").content.decode()
    assert tags(imported, "button", data_testid="confirm") == []
