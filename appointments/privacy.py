"""This app's part in chart privacy (patients/privacy.py)."""

from .models import Appointment


def on_schedule(user, patient_id):
    return Appointment.objects.filter(therapist=user, patient_id=patient_id).exists()
