"""This app's part in chart privacy (patients/privacy.py)."""

from appointments.models import Appointment

from .models import Incident, NeedlingSession


def treated(user, patient_id):
    return NeedlingSession.objects.filter(clinician=user, patient_id=patient_id).exists()


def patient_of_new_session(kwargs):
    return kwargs.get("patient_pk")


def patient_of_appointment(kwargs):
    return (
        Appointment.objects.filter(pk=kwargs.get("appointment_pk"))
        .values_list("patient_id", flat=True)
        .first()
    )


def patient_of_session(kwargs):
    return NeedlingSession.objects.filter(pk=kwargs.get("pk")).values_list("patient_id", flat=True).first()


def patient_of_incident(kwargs):
    return Incident.objects.filter(pk=kwargs.get("pk")).values_list("patient_id", flat=True).first()
