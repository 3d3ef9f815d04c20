"""Chart privacy hooks (patients/privacy.py): which patient a URL of this app belongs to."""


def patient_of_export(kwargs):
    return kwargs.get("patient_pk")
