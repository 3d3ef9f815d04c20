from datetime import timedelta

import pytest
from django.db import InternalError, ProgrammingError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from audit.models import Action, AuditEvent
from patients.models import SCREENING_ITEMS, Screening
from patients.services import findings, latest_screening, screening_flags, screening_is_due
from tests.factories import PatientFactory, ScreeningFactory

# Its outcome depends on the clock: `make test-clock` runs it at awkward instants too.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]


def answers(**yes):
    data = {}
    for key, _label in SCREENING_ITEMS:
        data[key] = "yes" if key in yes else "no"
        data[f"{key}_note"] = yes.get(key, "")
    return data


def test_a_physio_records_a_screening_and_the_flags_show_on_the_chart(client_for, zoe):
    client = client_for(Role.PHYSIO)
    response = client.post(
        reverse("patients:screening", args=[zoe.pk]), answers(pregnancy="22 weeks", metal_allergy="Nickel")
    )
    assert response.status_code == 302
    screening = Screening.objects.get(patient=zoe)
    assert screening.answered_by == client.user
    assert screening.flags == ["Pregnancy", "Metal allergy"]
    page = client.get(reverse("patients:chart", args=[zoe.pk])).content.decode()
    assert "Pregnancy" in page and "Metal allergy" in page and "22 weeks" in page
    assert AuditEvent.objects.filter(
        action=Action.CREATE, patient_id=zoe.pk, object_type="patients.screening"
    ).exists()


def test_every_item_needs_an_answer(client_for, zoe):
    data = answers()
    del data["epilepsy"]
    response = client_for(Role.PHYSIO).post(reverse("patients:screening", args=[zoe.pk]), data)
    assert "Answer yes or no: epilepsy." in response.content.decode()
    assert not Screening.objects.exists()


def test_the_front_desk_cannot_open_the_screening_form(client_for, zoe):
    assert client_for(Role.FRONT_DESK).get(reverse("patients:screening", args=[zoe.pk])).status_code == 403


def test_a_new_screening_keeps_the_old_one_as_history(client_for, zoe):
    client = client_for(Role.PHYSIO)
    client.post(reverse("patients:screening", args=[zoe.pk]), answers(diabetes="Type 1"))
    client.post(reverse("patients:screening", args=[zoe.pk]), answers())
    assert Screening.objects.filter(patient=zoe).count() == 2
    assert latest_screening(zoe).flags == []


def test_a_screening_cannot_be_rewritten_in_the_database(zoe):
    screening = ScreeningFactory(patient=zoe)
    with pytest.raises((InternalError, ProgrammingError)), transaction.atomic():
        Screening.objects.filter(pk=screening.pk).update(diabetes=True)


def test_screening_is_due_after_the_configured_period(settings):
    settings.SCREENING_VALID_MONTHS = 12
    recent = ScreeningFactory(answered_at=timezone.now() - timedelta(days=300))
    old = ScreeningFactory(answered_at=timezone.now() - timedelta(days=400))
    assert not screening_is_due(recent)
    assert screening_is_due(old)
    assert screening_is_due(None)
    settings.SCREENING_VALID_MONTHS = 6
    assert screening_is_due(recent)


def test_the_chart_shows_screening_due(client_for, settings):
    settings.SCREENING_VALID_MONTHS = 12
    old = ScreeningFactory(answered_at=timezone.now() - timedelta(days=400))
    page = client_for(Role.FRONT_DESK).get(reverse("patients:chart", args=[old.patient.pk])).content.decode()
    assert "Screening due" in page


def test_screening_flags_come_from_the_latest_screening_in_one_query(django_assert_num_queries):
    patient = PatientFactory()
    ScreeningFactory(patient=patient, epilepsy=True, answered_at=timezone.now() - timedelta(days=30))
    ScreeningFactory(patient=patient, lymphoedema=True)
    unscreened = PatientFactory()
    with django_assert_num_queries(1):
        flags = screening_flags([patient, unscreened])
    assert flags == {patient.pk: ["Lymphoedema"], unscreened.pk: []}


def test_findings_read_the_rules_only_when_an_item_is_answered_yes(django_assert_num_queries):
    """A screening with every answer "no" (most of them) has no finding, and no rule is read for it (the
    visit summary and the session screen ask one query less); a yes reads the rules and finds it."""
    clear = ScreeningFactory()
    with django_assert_num_queries(0):
        assert findings(clear) == [] and findings(None) == []
    epileptic = ScreeningFactory(epilepsy=True)
    with django_assert_num_queries(1):
        found = findings(epileptic)
    assert [finding.item for finding in found] == ["epilepsy"]
