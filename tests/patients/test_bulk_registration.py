"""Registering many patients at once (an import's path, written with COPY): the rows the database keeps
are those a one-by-one registration would keep (chart numbers, search columns, the model's validation),
with one audit event in the same transaction, and a refusal writes nothing."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from audit.models import AuditEvent
from audit.services import audited_transaction
from patients.models import Patient
from patients.services import register_patients_in_bulk, search_patients
from tests.factories import AdminFactory, PatientFactory

pytestmark = pytest.mark.django_db


def new(given, family, **fields):
    return Patient(given_name=given, family_name=family, date_of_birth=date(1980, 5, 17), **fields)


def register(patients, by):
    with audited_transaction():
        return register_patients_in_bulk(patients, by=by, detail="test import")


def test_the_returned_patients_are_the_saved_rows():
    admin = AdminFactory()
    saved = register([new("Zoë", "Côté", phone="604 555 0123"), new("Kenji", "Sato")], admin)
    for patient in saved:
        stored = Patient.objects.get(pk=patient.pk)
        assert stored.chart_number == patient.chart_number and stored.chart_number.startswith("C")
        assert stored.created_by == admin and stored.created_at is not None
    assert str(Patient.objects.get(family_name="Côté").phone) == "+16045550123"


def test_the_database_fills_the_search_columns():
    register([new("Zoë", "Côté", phone="604 555 0123")], AdminFactory())
    assert [p.family_name for p in search_patients("zoe cote")] == ["Côté"]
    assert [p.family_name for p in search_patients("0123")] == ["Côté"]


def test_one_audit_event_counts_the_patients():
    register([new("Zoë", "Côté"), new("Kenji", "Sato")], AdminFactory())
    event = AuditEvent.objects.get(object_type="patients.patient")
    assert event.detail == "2 patients registered at once: test import"


def test_an_invalid_phone_is_refused_and_nothing_is_written():
    with pytest.raises(ValidationError, match="Kenji Sato"):
        register([new("Zoë", "Côté"), new("Kenji", "Sato", phone="555")], AdminFactory())
    assert not Patient.objects.filter(family_name__in=["Côté", "Sato"]).exists()
    assert not AuditEvent.objects.filter(object_type="patients.patient").exists()


def test_a_patient_already_registered_is_refused():
    PatientFactory(given_name="Kenji", family_name="Sato", date_of_birth=date(1980, 5, 17))
    with pytest.raises(ValidationError, match="already registered"):
        register([new("KENJI", "sato")], AdminFactory())


def test_a_phn_registered_meanwhile_is_refused_by_the_database(monkeypatch):
    # Another desk registers the PHN between the import's check and its COPY: the unique index refuses it,
    # as Django's IntegrityError (which the import turns into "taken meanwhile").
    PatientFactory(phn="9123456780")
    monkeypatch.setattr(
        "patients.services.match_registered", lambda candidates: [(None, "", "") for _c in candidates]
    )
    with pytest.raises(IntegrityError):
        register([new("Kenji", "Sato", phn="9123456780")], AdminFactory())
