"""This app's part in chart privacy (patients/privacy.py)."""

from .models import ConsentRecord


def explained_consent(user, patient_id):
    return ConsentRecord.objects.filter(explained_by=user, patient_id=patient_id).exists()


def patient_of_new_consent(kwargs):
    return kwargs.get("patient_pk")


def patient_of_consent(kwargs):
    return ConsentRecord.objects.filter(pk=kwargs.get("pk")).values_list("patient_id", flat=True).first()
