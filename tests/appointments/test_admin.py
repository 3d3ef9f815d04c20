"""The admin is another door to booking: the same rules, the same messages."""

from django.urls import reverse

from appointments.models import Appointment, AppointmentStatusChange
from tests.factories import AppointmentFactory, PatientFactory


def admin_data(patient, therapist, kind, start, end, **extra):
    local_start, local_end = (m.astimezone() for m in (start, end))
    return {
        "patient": patient.pk,
        "therapist": therapist.pk,
        "type": kind.pk,
        "start_0": start.strftime("%Y-%m-%d"),
        "start_1": start.strftime("%H:%M"),
        "end_0": end.strftime("%Y-%m-%d"),
        "end_1": end.strftime("%H:%M"),
        "notes": "",
        "status_changes-TOTAL_FORMS": "0",
        "status_changes-INITIAL_FORMS": "0",
        **extra,
    }


def local(moment):
    from django.utils import timezone

    return timezone.localtime(moment)


def test_admin_books_through_the_service(client_for, administrator, therapist, follow_up, at):
    patient = PatientFactory()
    client = client_for(administrator)
    response = client.post(
        reverse("admin:appointments_appointment_add"),
        admin_data(patient, therapist, follow_up, local(at(9)), local(at(9, 30))),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    appointment = Appointment.objects.get()
    assert appointment.booked_by == administrator
    assert AppointmentStatusChange.objects.filter(appointment=appointment, to_status="booked").exists()


def test_admin_refuses_an_overlap_with_the_message(client_for, administrator, therapist, follow_up, at):
    AppointmentFactory(therapist=therapist, start=at(9))
    response = client_for(administrator).post(
        reverse("admin:appointments_appointment_add"),
        admin_data(PatientFactory(), therapist, follow_up, local(at(9, 15)), local(at(9, 45))),
    )
    assert response.status_code == 200
    assert "already has an appointment" in response.content.decode()
    assert Appointment.objects.count() == 1


def test_admin_refuses_end_before_start(client_for, administrator, therapist, follow_up, at):
    response = client_for(administrator).post(
        reverse("admin:appointments_appointment_add"),
        admin_data(PatientFactory(), therapist, follow_up, local(at(10)), local(at(9))),
    )
    assert "The end must come after the start." in response.content.decode()
    assert not Appointment.objects.exists()


def test_admin_cannot_delete_appointments(client_for, administrator, at):
    appointment = AppointmentFactory(start=at(9))
    response = client_for(administrator).post(
        reverse("admin:appointments_appointment_delete", args=[appointment.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert Appointment.objects.filter(pk=appointment.pk).exists()
