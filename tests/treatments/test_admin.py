"""The administrator's door obeys the same rules as the session screen and the services."""

import pytest

from tests.factories import complete_session, muscle, needle
from treatments.models import NeedlePoint, SideEffect
from treatments.services import add_point, sign_session

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


def test_the_admin_adds_a_valid_point_to_a_draft(admin_client, draft):
    response = admin_client.post("/admin/treatments/needlepoint/add/", point_data(draft))
    assert response.status_code == 302
    assert NeedlePoint.objects.get().depth_mm == 30


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"depth_mm": "45"}, "beyond the needle&#x27;s length"),
        ({"depth_mm": "0"}, "The depth must be more than 0 mm."),
        ({"insertions": "0"}, "A point needs at least one insertion."),
        ({"segment": "C9"}, "is not one of the available choices"),
    ],
)
def test_the_admin_refuses_bad_points_with_the_message(admin_client, draft, change, message):
    response = admin_client.post("/admin/treatments/needlepoint/add/", point_data(draft, **change))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not NeedlePoint.objects.exists()


def test_the_admin_refuses_a_depth_past_the_advisory_maximum_without_confirmation(
    admin_client, consented_draft
):
    data = point_data(consented_draft, muscle=muscle("Rhomboid major").pk, depth_mm="25")
    response = admin_client.post("/admin/treatments/needlepoint/add/", data)
    assert "advisory maximum of 19 mm" in response.content.decode()
    assert not NeedlePoint.objects.exists()
    data["depth_confirmed"] = "on"
    assert admin_client.post("/admin/treatments/needlepoint/add/", data).status_code == 302


def test_the_admin_refuses_a_side_effect_without_severity(admin_client, draft):
    response = admin_client.post(
        "/admin/treatments/sideeffect/add/",
        {"session": draft.pk, "type": "bruising", "severity": "", "onset": "during",
         "recorded_at_0": "2026-11-25", "recorded_at_1": "10:00"},
    )  # fmt: skip
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    assert not SideEffect.objects.exists()


def test_the_admin_cannot_add_a_point_to_a_signed_session(admin_client, draft, clinician):
    add_point(
        draft, by=clinician, muscle=muscle("Soleus"), side="L", needle_size=needle("0.30", 50), depth_mm=20
    )
    complete_session(draft)
    sign_session(draft, by=clinician)
    response = admin_client.post("/admin/treatments/needlepoint/add/", point_data(draft, order=2))
    assert response.status_code == 200
    assert "signed and read-only" in response.content.decode()
    assert draft.points.count() == 1


def test_nothing_is_deletable_in_the_admin(admin_client, draft):
    response = admin_client.post(f"/admin/treatments/needlingsession/{draft.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert draft.__class__.objects.filter(pk=draft.pk).exists()
