"""The administrator's door: needling records are read there, never written (a draft is written only by
its own clinician, DESIGN.md rule 4), every opening is audited like opening it in the app, nothing is
deletable, and catalogue changes (muscles, needles) are audited."""

import pytest

from audit.models import Action, AuditEvent
from tests.factories import complete_session, muscle, needle
from treatments.models import Muscle, NeedlePoint, NeedleSize, NeedlingSession, SideEffect
from treatments.services import add_point, add_side_effect, sign_session

pytestmark = pytest.mark.django_db


def point_data(session, **overrides):
    data = {
        "session": session.pk,
        "order": 1,
        "muscle": muscle("Gluteus medius").pk,
        "side": "R",
        "segment": "",
        "needle_size": needle("0.25", 40).pk,
        "depth_mm": "30",
        "insertions": 1,
        "technique": "pistoning",
        "twitch_response": "none",
        "patient_response": "none",
        "notes": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def admin_client(client_for):
    return client_for("administrator")


def test_the_admin_adds_no_point_even_a_valid_one_to_a_draft(admin_client, draft):
    response = admin_client.post("/admin/treatments/needlepoint/add/", point_data(draft))
    assert response.status_code == 403
    assert not NeedlePoint.objects.exists()


def test_the_admin_changes_no_point_of_a_draft(admin_client, draft, clinician, point_fields):
    point = add_point(draft, by=clinician, **point_fields)
    response = admin_client.post(
        f"/admin/treatments/needlepoint/{point.pk}/change/", point_data(draft, depth_mm="55")
    )
    assert response.status_code == 403
    point.refresh_from_db()
    assert point.depth_mm == 40


def test_the_admin_starts_no_session_and_records_no_side_effect(admin_client, draft):
    response = admin_client.post(
        "/admin/treatments/sideeffect/add/",
        {"session": draft.pk, "type": "bruising", "severity": "mild", "onset": "during",
         "recorded_at_0": "2026-11-25", "recorded_at_1": "10:00"},
    )  # fmt: skip
    assert response.status_code == 403
    assert not SideEffect.objects.exists()
    response = admin_client.post(
        "/admin/treatments/needlingsession/add/",
        {"patient": draft.patient_id, "clinician": draft.clinician_id},
    )
    assert response.status_code == 403
    assert NeedlingSession.objects.count() == 1


def test_the_admin_changes_no_draft(admin_client, draft):
    response = admin_client.post(
        f"/admin/treatments/needlingsession/{draft.pk}/change/",
        {"patient": draft.patient_id, "clinician": draft.clinician_id, "plan": "written by the admin"},
    )
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.plan == ""


def test_opening_a_session_point_or_side_effect_in_the_admin_is_audited(
    admin_client, draft, clinician, point_fields
):
    point = add_point(draft, by=clinician, **point_fields)
    effect = add_side_effect(draft, by=clinician, type="bruising", severity="mild")
    for url in [
        f"/admin/treatments/needlingsession/{draft.pk}/change/",
        f"/admin/treatments/needlepoint/{point.pk}/change/",
        f"/admin/treatments/sideeffect/{effect.pk}/change/",
    ]:
        before = AuditEvent.objects.filter(action=Action.VIEW, patient_id=draft.patient_id).count()
        assert admin_client.get(url).status_code == 200
        opened = AuditEvent.objects.filter(action=Action.VIEW, patient_id=draft.patient_id)
        assert opened.count() == before + 1
        assert opened.first().detail == "opened in the admin"
        assert opened.first().actor == admin_client.user


def test_opening_a_signed_session_and_its_addendum_in_the_admin_is_audited(
    admin_client, draft, clinician, point_fields
):
    from treatments.services import add_addendum

    add_point(draft, by=clinician, **point_fields)
    complete_session(draft)
    sign_session(draft, by=clinician)
    addendum = add_addendum(draft, by=clinician, text="Soreness settled the next day.")
    assert admin_client.get(f"/admin/treatments/addendum/{addendum.pk}/change/").status_code == 200
    assert AuditEvent.objects.filter(
        action=Action.VIEW, object_type="treatments.addendum", patient_id=draft.patient_id
    ).exists()


def test_nothing_is_deletable_in_the_admin(admin_client, draft):
    response = admin_client.post(f"/admin/treatments/needlingsession/{draft.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert draft.__class__.objects.filter(pk=draft.pk).exists()


def test_a_muscle_added_or_changed_in_the_admin_is_audited(admin_client):
    response = admin_client.post(
        "/admin/treatments/muscle/add/",
        {"name": "Flexor hallucis longus", "body_region": "calf", "risk_region": "none", "active": "on"},
    )
    assert response.status_code == 302
    added = Muscle.objects.get(name="Flexor hallucis longus")
    event = AuditEvent.objects.get(action=Action.CREATE, object_type="treatments.muscle")
    assert event.object_id == str(added.pk) and "added in the admin" in event.detail
    response = admin_client.post(
        f"/admin/treatments/muscle/{added.pk}/change/",
        {"name": "Flexor hallucis longus", "body_region": "calf", "risk_region": "none"},
    )
    assert response.status_code == 302
    changed = AuditEvent.objects.get(action=Action.UPDATE, object_type="treatments.muscle")
    assert "changed in the admin: active" in changed.detail


def test_a_needle_size_added_in_the_admin_is_audited(admin_client):
    response = admin_client.post("/admin/treatments/needlesize/add/", {"gauge_mm": "0.22", "length_mm": 13})
    assert response.status_code == 302
    size = NeedleSize.objects.get(gauge_mm="0.22", length_mm=13)
    assert AuditEvent.objects.filter(
        action=Action.CREATE, object_type="treatments.needlesize", object_id=str(size.pk)
    ).exists()


def test_an_advisory_depth_without_its_source_is_refused_in_the_admin(admin_client):
    response = admin_client.post(
        "/admin/treatments/muscle/add/",
        {"name": "Quadratus plantae", "body_region": "calf", "risk_region": "none",
         "advisory_max_depth_mm": "12", "active": "on"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "Cite the published source of the advisory maximum depth." in response.content.decode()
    assert not Muscle.objects.filter(name="Quadratus plantae").exists()
