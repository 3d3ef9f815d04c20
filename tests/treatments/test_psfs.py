"""The Patient-Specific Functional Scale (issue 14 part 2): the patient names up to five activities and
scores each 0 (unable) to 10 (able as before); the PSFS score is their mean. Scored at a session or between
sessions by a physiotherapist, offered again with the last scoring's activities word for word so each has
its trend. Kept as scored: rule 5's file, tests/treatments/test_nothing_hard_deleted.py."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.access import Refused
from audit.models import Action, AuditEvent
from tests.factories import FrontDeskFactory, NeedlingSessionFactory, PatientFactory, PhysioFactory
from treatments.models import OutcomeItem, OutcomeMeasure
from treatments.outcomes import last_activities, psfs_score, record_psfs

pytestmark = pytest.mark.django_db


def test_the_score_is_the_mean_of_the_activity_scores():
    assert psfs_score([3, 4]) == Decimal("3.50")
    assert psfs_score([2, 6, 5]) == Decimal("4.33")
    assert psfs_score([0]) == Decimal("0.00") and psfs_score([10, 10, 10, 10, 10]) == Decimal("10.00")


def test_a_scoring_is_recorded_with_its_activities_in_order_and_audited(clinician, patient):
    measure = record_psfs(
        patient=patient, by=clinician, activities=[("Reaching overhead", 3), ("  Sleeping   on the right", 4)]
    )
    assert measure.score == Decimal("3.50") and measure.session is None
    assert [(i.order, i.activity, i.score) for i in measure.items.all()] == [
        (1, "Reaching overhead", 3),
        (2, "Sleeping on the right", 4),
    ]
    event = AuditEvent.objects.get(action=Action.CREATE, object_type="treatments.outcomemeasure")
    assert event.patient_id == patient.pk and event.detail == "PSFS 3.50 (2 activities)"


@pytest.mark.parametrize(
    ("activities", "message"),
    [
        ([], "at least one activity"),
        ([("Running", 11)], "whole number from 0"),
        ([("Running", -1)], "whole number from 0"),
        ([("Running", 2.5)], "whole number from 0"),
        ([("Running", True)], "whole number from 0"),
        ([("", 5)], "no name"),
        ([("x" * 121, 5)], "longer than 120"),
        ([("Running", 2), ("running ", 3)], "listed twice"),
        ([(f"Activity {n}", 5) for n in range(6)], "at most 5"),
    ],
)
def test_bad_activities_are_refused_and_nothing_is_saved(clinician, patient, activities, message):
    with pytest.raises(ValidationError, match=message):
        record_psfs(patient=patient, by=clinician, activities=activities)
    assert not OutcomeMeasure.objects.exists() and not OutcomeItem.objects.exists()


def test_only_a_physiotherapist_scores_it(patient):
    with pytest.raises(Refused):
        record_psfs(patient=patient, by=FrontDeskFactory(), activities=[("Running", 3)])
    assert AuditEvent.objects.filter(action=Action.PERMISSION_DENIED, patient_id=patient.pk).count() == 1
    assert not OutcomeMeasure.objects.exists()


def test_a_session_of_another_patient_cannot_hold_the_scoring(clinician, patient):
    other_session = NeedlingSessionFactory(patient=PatientFactory(), clinician=clinician)
    with pytest.raises(Refused, match="not a session of this patient"):
        record_psfs(patient=patient, by=clinician, activities=[("Running", 3)], session=other_session)
    assert not OutcomeMeasure.objects.exists()


def test_an_archived_patient_is_not_scored(clinician, patient):
    from django.utils import timezone

    patient.archived_at = timezone.now()
    patient.save()
    with pytest.raises(ValidationError, match="archived"):
        record_psfs(patient=patient, by=clinician, activities=[("Running", 3)])


def test_the_next_scoring_offers_the_last_activities_word_for_word(clinician, patient):
    assert last_activities(patient.pk) == []
    record_psfs(patient=patient, by=clinician, activities=[("Running", 2), ("Stairs", 6)])
    record_psfs(patient=patient, by=clinician, activities=[("Running", 5), ("Kneeling in the garden", 4)])
    assert last_activities(patient.pk) == ["Running", "Kneeling in the garden"]


def test_the_database_refuses_a_score_outside_0_to_10_and_an_unnamed_activity(clinician, patient):
    measure = record_psfs(patient=patient, by=clinician, activities=[("Running", 2)])
    for row in (
        OutcomeItem(measure=measure, order=2, activity="Stairs", score=11),
        OutcomeItem(measure=measure, order=3, activity="", score=5),
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            row.save()


# --- the form ----------------------------------------------------------------------------------------
def form_data(*pairs, **extra):
    data = {}
    for number, (name, score) in enumerate(pairs, start=1):
        data[f"activity_{number}"], data[f"score_{number}"] = name, score
    return data | extra


def test_the_form_records_a_scoring_between_sessions(client, clinician, patient):
    client.force_login(clinician)
    url = reverse("treatments:psfs", args=[patient.pk])
    response = client.post(url, form_data(("Running", "2"), ("Stairs", "6")))
    assert response.status_code == 302 and response["Location"].endswith("#course-of-care")
    assert OutcomeMeasure.objects.get().score == Decimal("4.00")
    page = client.get(url).content.decode()
    assert 'value="Running"' in page and 'value="Stairs"' in page and 'data-testid="psfs-repeating"' in page


def test_the_form_records_a_scoring_at_a_session(client, clinician, patient):
    session = NeedlingSessionFactory(patient=patient, clinician=clinician)
    client.force_login(clinician)
    url = reverse("treatments:psfs", args=[patient.pk]) + f"?session={session.pk}"
    assert "At the session of" in client.get(url).content.decode()
    response = client.post(url, form_data(("Running", "7"), session=session.pk))
    assert response["Location"] == reverse("treatments:session", args=[session.pk])
    assert OutcomeMeasure.objects.get().session == session


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (form_data(), "Name at least one activity"),
        (form_data(("Running", "11")), "whole number from 0"),
        (form_data(("Running", "seven")), "whole number from 0"),
        (form_data(("Running", "")), "Score “Running” from 0 to 10"),
        (form_data(("", "5")), "no name"),
        (form_data(("Running", "2"), ("RUNNING", "3")), "listed twice"),
        (form_data(("x" * 121, "2")), "at most 120 characters"),
    ],
)
def test_bad_input_on_the_form_is_a_message_and_nothing_is_saved(client, clinician, patient, data, message):
    client.force_login(clinician)
    response = client.post(reverse("treatments:psfs", args=[patient.pk]), data)
    assert response.status_code == 422 and message in response.content.decode()
    assert not OutcomeMeasure.objects.exists()


def test_the_front_desk_and_another_patients_session_are_refused(client, clinician, patient):
    client.force_login(FrontDeskFactory())
    assert client.get(reverse("treatments:psfs", args=[patient.pk])).status_code == 403
    other_session = NeedlingSessionFactory(patient=PatientFactory(), clinician=clinician)
    client.force_login(clinician)
    url = reverse("treatments:psfs", args=[patient.pk])
    response = client.post(url, form_data(("Running", "3"), session=other_session.pk))
    assert response.status_code == 403 and not OutcomeMeasure.objects.exists()
    assert client.get(url + "?session=abc").status_code == 404


def test_a_colleague_may_score_between_sessions(client, clinician, patient):
    record_psfs(patient=patient, by=clinician, activities=[("Running", 2)])
    client.force_login(PhysioFactory())
    client.post(reverse("treatments:psfs", args=[patient.pk]), form_data(("Running", "4")))
    assert OutcomeMeasure.objects.count() == 2
