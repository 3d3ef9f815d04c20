"""A change and its audit event commit or roll back together (issue 10, part 6): every service of the
needling record and of consent writes its audit event inside the transaction of its change, so when the
audit event cannot be written, the change is not saved either (and a change that fails leaves no event
claiming it happened)."""

import pytest
from django.db import DatabaseError

from audit.models import Action, AuditEvent
from tests.audit.refusal import audit_refused
from tests.factories import complete_session, give_consent
from treatments.models import Addendum, NeedlePoint, NeedlingSession, PointRemoval, PrecautionAcknowledgement

pytestmark = pytest.mark.django_db


def test_no_point_is_saved_when_its_audit_event_fails(consented_draft, clinician, point_fields):
    from treatments.services import add_point

    with audit_refused(), pytest.raises(DatabaseError, match="audit trail unavailable"):
        add_point(consented_draft, by=clinician, **point_fields)
    assert not NeedlePoint.objects.exists()


def test_a_point_and_its_audit_event_are_saved_together(consented_draft, clinician, point_fields):
    from treatments.services import add_point

    point = add_point(consented_draft, by=clinician, **point_fields)
    assert AuditEvent.objects.filter(
        action=Action.UPDATE, detail__startswith=f"needle point {point.order} added"
    )


def test_no_correction_removal_or_side_effect_outlives_a_failed_audit(
    consented_draft, clinician, point_fields
):
    from treatments.services import add_point, add_side_effect, remove_point, save_draft, update_point

    point = add_point(consented_draft, by=clinician, **point_fields)
    for attempt in [
        lambda: update_point(point, by=clinician, depth_mm=20),
        lambda: remove_point(point, by=clinician, reason="Entered twice"),
        lambda: add_side_effect(consented_draft, by=clinician, type="bruising", severity="mild"),
        lambda: save_draft(consented_draft, {"plan": "Weekly"}, expected_version=1, by=clinician),
    ]:
        with audit_refused(), pytest.raises(DatabaseError, match="audit trail unavailable"):
            attempt()
    point.refresh_from_db()
    consented_draft.refresh_from_db()
    assert point.depth_mm == 40 and not PointRemoval.objects.exists()
    assert (
        not consented_draft.side_effects.exists()
        and consented_draft.plan == ""
        and consented_draft.version == 1
    )


def test_no_session_starts_and_none_is_signed_without_its_audit_event(clinician, patient, point_fields):
    from treatments.services import add_point, sign_session, start_session

    with audit_refused(), pytest.raises(DatabaseError, match="audit trail unavailable"):
        start_session(patient=patient, clinician=clinician)
    assert not NeedlingSession.objects.exists()
    give_consent(patient)
    session = start_session(patient=patient, clinician=clinician)
    add_point(session, by=clinician, **point_fields)
    complete_session(session)
    with audit_refused(), pytest.raises(DatabaseError, match="audit trail unavailable"):
        sign_session(session, by=clinician)
    session.refresh_from_db()
    assert session.signed_at is None and session.content_hash == ""


def test_no_addendum_or_acknowledgement_without_its_audit_event(draft, clinician, point_fields):
    from tests.factories import ScreeningFactory
    from treatments.services import acknowledge_precautions, add_addendum, add_point, sign_session

    ScreeningFactory(patient=draft.patient, bleeding_risk=True)
    with audit_refused(), pytest.raises(DatabaseError, match="audit trail unavailable"):
        acknowledge_precautions(draft, by=clinician, items=["bleeding_risk"])
    assert not PrecautionAcknowledgement.objects.exists()
    acknowledge_precautions(draft, by=clinician, items=["bleeding_risk"])
    add_point(draft, by=clinician, **point_fields)
    complete_session(draft)
    sign_session(draft, by=clinician)
    with audit_refused(), pytest.raises(DatabaseError, match="audit trail unavailable"):
        add_addendum(draft, by=clinician, text="Soreness settled")
    assert not Addendum.objects.exists()


def test_an_incident_entry_and_its_closing_fail_with_their_audit_event(draft, clinician):
    from tests.factories import ManagerFactory
    from treatments.incidents import close_incident, record_entry
    from treatments.models import Incident, IncidentEntry, SideEffect

    SideEffect.objects.create(session=draft, type="fainting", severity="significant")
    incident = Incident.objects.get()
    with audit_refused(), pytest.raises(DatabaseError, match="audit trail unavailable"):
        record_entry(incident, by=clinician, kind="follow_up", contact_method="phone", text="Fine")
    assert not IncidentEntry.objects.exists()
    record_entry(incident, by=clinician, kind="follow_up", contact_method="phone", text="Fine")
    with audit_refused(), pytest.raises(DatabaseError, match="audit trail unavailable"):
        close_incident(incident, by=ManagerFactory(), note="Recovered")
    incident.refresh_from_db()
    assert incident.is_open


def test_a_refused_point_leaves_no_event_claiming_it_was_added(unconsented_draft, clinician, point_fields):
    from consent.errors import NeedlingNotAllowed
    from treatments.services import add_point

    with pytest.raises(NeedlingNotAllowed):
        add_point(unconsented_draft, by=clinician, **point_fields)
    assert not AuditEvent.objects.filter(detail__contains="added").exists()
    assert AuditEvent.objects.filter(
        action=Action.PERMISSION_DENIED, detail__startswith="refused: add"
    ).exists()
