"""Repeat last session (issue 14 part 2): a new draft starts from the previous session's points, each
checked again against today's consent and screening through add_point; the refused ones are listed with
their reason on the draft's screen, never silently dropped. Only the draft's own clinician repeats, and
only a session of the same patient."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.access import Refused
from audit.models import Action, AuditEvent
from consent.models import Region
from tests.factories import (
    NeedlingSessionFactory,
    PatientFactory,
    PhysioFactory,
    ScreeningFactory,
    complete_session,
    give_consent,
    muscle,
    needle,
)
from treatments.models import NeedlePoint, NeedlingSession
from treatments.repeat import previous_session, repeat_session, start_repeating
from treatments.services import add_point, remove_point, sign_session, start_session

pytestmark = pytest.mark.django_db

GLUTEUS = {"muscle": "Gluteus medius", "side": "R", "needle": ("0.30", 60), "depth_mm": 40}
NECK = {"muscle": "Upper trapezius", "side": "L", "needle": ("0.25", 30), "depth_mm": 15}
CALF = {"muscle": "Gastrocnemius (lateral head)", "side": "R", "needle": ("0.30", 50), "depth_mm": 25}


def point_fields(spec, **extra):
    return {
        "muscle": muscle(spec["muscle"]),
        "side": spec["side"],
        "needle_size": needle(*spec["needle"]),
        "depth_mm": spec["depth_mm"],
        **extra,
    }


@pytest.fixture
def last_session(clinician, patient):
    """A session signed a week ago with three points (right gluteus medius, left upper trapezius in the
    neck, right lateral gastrocnemius), all risks accepted then; a fourth point was removed in error."""
    give_consent(patient)
    session = NeedlingSessionFactory(
        patient=patient, clinician=clinician, started_at=timezone.now() - timedelta(days=7)
    )
    add_point(session, by=clinician, **point_fields(GLUTEUS, technique="static", segment="L5"))
    add_point(session, by=clinician, **point_fields(NECK))
    add_point(session, by=clinician, **point_fields(CALF, technique="gunn_ims"))
    wrong = add_point(session, by=clinician, **point_fields(GLUTEUS, side="L"))
    remove_point(wrong, by=clinician, reason="entered on the wrong side")
    complete_session(session)
    return sign_session(session, by=clinician)


def repeated(session):
    return [
        (p.muscle.name, p.side, p.segment, str(p.needle_size), p.depth_mm, p.technique)
        for p in session.points.select_related("muscle", "needle_size").order_by("order")
    ]


def test_every_needled_point_is_repeated_when_today_allows_it(clinician, patient, last_session):
    session, outcome = start_repeating(patient=patient, clinician=clinician)
    assert session.pk != last_session.pk and not session.is_signed
    assert outcome.refused == [] and len(outcome.added) == 3
    assert repeated(session) == [
        ("Gluteus medius", "R", "L5", "0.30 x 60 mm", 40, "static"),
        ("Upper trapezius", "L", "", "0.25 x 30 mm", 15, "pistoning"),
        ("Gastrocnemius (lateral head)", "R", "", "0.30 x 50 mm", 25, "gunn_ims"),
    ]
    # Today's response is today's: twitch and response start at their defaults, one insertion.
    assert {(p.twitch_response, p.patient_response, p.insertions) for p in session.points.all()} == {
        ("none", "none", 1)
    }
    event = AuditEvent.objects.filter(object_id=str(session.pk), detail__startswith="repeated").get()
    assert event.detail == f"repeated session {last_session.pk}: 3 point(s) added, 0 refused"


def test_a_declined_neck_and_a_site_contraindication_are_refused_and_named(clinician, patient, last_session):
    give_consent(patient, accepted=(Region.GENERAL, Region.MID_BACK), declined=(Region.NECK,))
    ScreeningFactory(
        patient=patient,
        infection_at_site=True,
        infection_at_site_note="Cellulitis right calf",
        infection_at_site_site=["calf"],
        infection_at_site_side="R",
    )
    session, outcome = start_repeating(patient=patient, clinician=clinician)
    assert repeated(session) == [("Gluteus medius", "R", "L5", "0.30 x 60 mm", 40, "static")]
    reasons = {str(point.muscle): reason for point, reason in outcome.refused}
    assert set(reasons) == {"Upper trapezius", "Gastrocnemius (lateral head)"}
    assert "declined the neck risk" in reasons["Upper trapezius"]
    assert "contraindication" in reasons["Gastrocnemius (lateral head)"]
    assert "Cellulitis right calf" in reasons["Gastrocnemius (lateral head)"]
    # Each refusal is audited, as add_point audits it, and the repeat says how many were refused.
    assert AuditEvent.objects.filter(action=Action.PERMISSION_DENIED, object_id=str(session.pk)).count() == 2


def test_no_point_is_repeated_when_the_consent_was_withdrawn(clinician, patient, last_session):
    from consent.models import ConsentRecord
    from consent.services.obtaining import withdraw_consent

    for record in ConsentRecord.objects.filter(patient=patient):
        withdraw_consent(record, by=clinician, reason="Patient changed their mind")
    session, outcome = start_repeating(patient=patient, clinician=clinician)
    assert outcome.added == [] and len(outcome.refused) == 3
    assert not session.points.exists()
    assert all("withdrawn" in reason or "consent" in reason for _point, reason in outcome.refused)


def test_there_is_nothing_to_repeat_without_a_signed_session(clinician, patient):
    give_consent(patient)
    earlier = timezone.now() - timedelta(days=3)
    NeedlingSessionFactory(patient=patient, clinician=clinician, started_at=earlier)
    with pytest.raises(ValidationError, match="no signed session before this one") as refused:
        start_repeating(patient=patient, clinician=clinician)
    # The clinician is left on their draft (started first), told why.
    assert refused.value.session.patient == patient and not refused.value.session.points.exists()


def test_a_session_of_another_patient_cannot_be_repeated(clinician, patient, last_session):
    other = PatientFactory()
    ScreeningFactory(patient=other)
    give_consent(other)
    draft = start_session(patient=other, clinician=clinician)
    with pytest.raises(Refused, match="not a session of this patient"):
        repeat_session(draft, source=last_session, by=clinician)
    assert not draft.points.exists()
    assert AuditEvent.objects.filter(action=Action.PERMISSION_DENIED, object_id=str(draft.pk)).count() == 1


def test_only_the_drafts_own_clinician_repeats_into_it(clinician, patient, last_session):
    draft = start_session(patient=patient, clinician=clinician)
    colleague = PhysioFactory()
    with pytest.raises(Refused):
        repeat_session(draft, source=last_session, by=colleague)
    assert not draft.points.exists()


def test_a_draft_that_has_points_is_not_repeated_into(clinician, patient, last_session):
    draft = start_session(patient=patient, clinician=clinician)
    add_point(draft, by=clinician, **point_fields(GLUTEUS))
    with pytest.raises(ValidationError, match="already has needle points"):
        repeat_session(draft, source=last_session, by=clinician)
    assert draft.points.count() == 1


def test_a_draft_or_a_later_session_is_not_the_one_repeated(clinician, patient, last_session):
    draft = start_session(patient=patient, clinician=clinician)
    assert previous_session(draft) == last_session
    colleague_draft = NeedlingSessionFactory(patient=patient, clinician=PhysioFactory())
    with pytest.raises(ValidationError, match="Only a signed session before this one"):
        repeat_session(draft, source=colleague_draft, by=clinician)


def test_a_lapsed_authorisation_refuses_every_point_and_says_why(clinician, patient, last_session):
    from accounts.models import ClinicianProfile

    draft = start_session(patient=patient, clinician=clinician)
    yesterday = timezone.localdate() - timedelta(days=1)
    ClinicianProfile.objects.filter(user=clinician).update(
        needling_authorised_on=yesterday - timedelta(days=400), needling_authorisation_expires=yesterday
    )
    clinician.refresh_from_db()
    outcome = repeat_session(draft, source=last_session, by=clinician)
    assert outcome.added == [] and len(outcome.refused) == 3
    assert all("no current needling authorisation" in reason for _point, reason in outcome.refused)
    assert not draft.points.exists()


def test_the_repeat_is_one_transaction(clinician, patient, last_session, monkeypatch):
    """A failure other than a rule's refusal half way through keeps nothing: not the points already
    inserted, not their audit event, not the audit event of the repeat."""
    from treatments import services

    draft = start_session(patient=patient, clinician=clinician)
    real_audit = services._audit

    def fail_after_the_points(action, session, **kwargs):
        assert session.points.count() == 3  # the points are in, inside the transaction
        if kwargs["detail"].startswith("repeated"):
            raise RuntimeError("the connection dropped")
        return real_audit(action, session, **kwargs)

    monkeypatch.setattr(services, "_audit", fail_after_the_points)
    with pytest.raises(RuntimeError):
        repeat_session(draft, source=last_session, by=clinician)
    assert not draft.points.exists()
    assert not AuditEvent.objects.filter(object_id=str(draft.pk), detail__startswith="repeated").exists()
    assert not AuditEvent.objects.filter(object_id=str(draft.pk), detail__startswith="needle point").exists()


# --- through the pages ---------------------------------------------------------------------------------
def test_the_chart_offers_repeat_and_the_draft_lists_what_was_refused(
    client, clinician, patient, last_session
):
    give_consent(patient, accepted=(Region.GENERAL, Region.MID_BACK), declined=(Region.NECK,))
    client.force_login(clinician)
    chart = client.get(reverse("patients:chart", args=[patient.pk])).content.decode()
    assert "Repeat last session" in chart
    response = client.post(reverse("treatments:start", args=[patient.pk]), {"repeat": "1"}, follow=True)
    session = NeedlingSession.objects.get(patient=patient, signed_at__isnull=True)
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("treatments:session", args=[session.pk])
    assert 'data-testid="repeat-refused"' in page
    assert "Upper trapezius (Left)" in page and "declined the neck risk" in page
    assert session.points.count() == 2
    # The list stays on the draft's screen (a reload does not lose it).
    again = client.get(reverse("treatments:session", args=[session.pk])).content.decode()
    assert "declined the neck risk" in again


def test_the_empty_draft_offers_repeat_and_the_button_repeats(client, clinician, patient, last_session):
    draft = start_session(patient=patient, clinician=clinician)
    client.force_login(clinician)
    page = client.get(reverse("treatments:session", args=[draft.pk])).content.decode()
    assert 'data-testid="repeat-form"' in page
    client.post(reverse("treatments:repeat", args=[draft.pk]), {"source": last_session.pk})
    assert draft.points.count() == 3
    page = client.get(reverse("treatments:session", args=[draft.pk])).content.decode()
    assert 'data-testid="repeat-form"' not in page  # it has points now


def test_a_session_of_another_patient_named_in_the_form_is_refused(client, clinician, patient, last_session):
    other = PatientFactory()
    draft = NeedlingSessionFactory(patient=other, clinician=clinician)
    client.force_login(clinician)
    response = client.post(reverse("treatments:repeat", args=[draft.pk]), {"source": last_session.pk})
    assert response.status_code == 403
    assert not NeedlePoint.objects.filter(session=draft).exists()


def test_a_colleague_cannot_repeat_into_someone_elses_draft(client, clinician, patient, last_session):
    draft = start_session(patient=patient, clinician=clinician)
    client.force_login(PhysioFactory())
    response = client.post(reverse("treatments:repeat", args=[draft.pk]), {"source": last_session.pk})
    assert response.status_code == 403 and not draft.points.exists()


def test_a_source_that_is_not_a_number_is_a_message_not_an_error(client, clinician, patient, last_session):
    draft = start_session(patient=patient, clinician=clinician)
    client.force_login(clinician)
    response = client.post(reverse("treatments:repeat", args=[draft.pk]), {"source": "x'; drop"}, follow=True)
    assert response.status_code == 200 and "Choose the session to repeat." in response.content.decode()
    assert not draft.points.exists()
