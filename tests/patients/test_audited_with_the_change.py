"""Each change to a patient commits with its audit event or not at all: when the audit trail refuses the
event, the change is not saved either."""

import pytest
from django.db import DatabaseError
from django.urls import reverse

from accounts.models import Role
from audit.models import Action, AuditEvent
from patients.models import Patient, Screening
from tests.audit.refusal import audit_refused
from tests.patients.test_screening import answers

pytestmark = pytest.mark.django_db


def test_a_registration_is_not_saved_without_its_audit_event(client_for, registration_data):
    client = client_for(Role.FRONT_DESK)
    with audit_refused(), pytest.raises(DatabaseError, match="audit trail unavailable"):
        client.post(reverse("patients:register"), registration_data)
    assert not Patient.objects.exists()
    client.post(reverse("patients:register"), registration_data)
    patient = Patient.objects.get()
    assert AuditEvent.objects.filter(action=Action.CREATE, patient_id=patient.pk).exists()


def test_an_edit_is_not_saved_without_its_audit_event(client_for, zoe, registration_data):
    client = client_for(Role.FRONT_DESK)
    with audit_refused(), pytest.raises(DatabaseError, match="audit trail unavailable"):
        client.post(reverse("patients:edit", args=[zoe.pk]), registration_data | {"given_name": "Zoé-Anne"})
    zoe.refresh_from_db()
    assert zoe.given_name == "Zoë"
    assert not AuditEvent.objects.filter(action=Action.UPDATE, patient_id=zoe.pk).exists()


def test_an_archive_and_a_restore_are_not_saved_without_their_audit_events(client_for, zoe):
    client = client_for(Role.ADMIN)
    with audit_refused(), pytest.raises(DatabaseError, match="audit trail unavailable"):
        client.post(reverse("patients:archive", args=[zoe.pk]))
    zoe.refresh_from_db()
    assert not zoe.is_archived
    client.post(reverse("patients:archive", args=[zoe.pk]))
    with audit_refused(), pytest.raises(DatabaseError, match="audit trail unavailable"):
        client.post(reverse("patients:archive", args=[zoe.pk]), {"restore": "1"})
    zoe.refresh_from_db()
    assert zoe.is_archived
    assert not AuditEvent.objects.filter(action=Action.RESTORE).exists()


def test_a_screening_is_not_saved_without_its_audit_event(client_for, zoe):
    client = client_for(Role.PHYSIO)
    with audit_refused(), pytest.raises(DatabaseError, match="audit trail unavailable"):
        client.post(reverse("patients:screening", args=[zoe.pk]), answers(pregnancy="22 weeks"))
    assert not Screening.objects.exists()


def test_a_change_in_the_admin_is_not_saved_without_its_audit_event(client_for, zoe):
    client = client_for(Role.ADMIN)
    page = reverse("admin:patients_patient_change", args=[zoe.pk])
    data = {
        field: value
        for field, value in client.get(page).context["adminform"].form.initial.items()
        if value is not None
    }
    with audit_refused(), pytest.raises(DatabaseError, match="audit trail unavailable"):
        client.post(page, data | {"given_name": "Changed", "date_of_birth": zoe.date_of_birth.isoformat()})
    zoe.refresh_from_db()
    assert zoe.given_name == "Zoë"
