"""Bad input to the new safety forms (acknowledging precautions, removing a point, an incident's follow-up)
gets a message and saves nothing; never a server error. A NUL character is refused with 400 before any
form sees it (clinic/middleware.py: PostgreSQL cannot hold one)."""

import pytest
from django.urls import reverse

from tests.factories import ManagerFactory, ScreeningFactory
from treatments.models import IncidentEntry, PointRemoval, PrecautionAcknowledgement, SideEffect
from treatments.services import add_point

pytestmark = pytest.mark.django_db

GARBAGE = ["", "x", "\x00", "' OR 1=1 --", "<script>", "9" * 400, "Ω≈ç√"]


@pytest.mark.parametrize("value", GARBAGE)
def test_acknowledging_garbage_saves_nothing(client, consented_draft, clinician, value):
    ScreeningFactory(patient=consented_draft.patient, diabetes=True)
    client.force_login(clinician)
    response = client.post(reverse("treatments:acknowledge", args=[consented_draft.pk]), {"item": [value]})
    assert response.status_code == (400 if "\x00" in value else 302)
    assert not PrecautionAcknowledgement.objects.exists()


@pytest.mark.parametrize("value", GARBAGE)
def test_removing_a_point_with_a_garbage_reason_or_none(
    client, consented_draft, clinician, point_fields, value
):
    point = add_point(consented_draft, by=clinician, **point_fields)
    client.force_login(clinician)
    response = client.post(
        reverse("treatments:point_remove", args=[consented_draft.pk, point.pk]), {"reason": value}
    )
    assert response.status_code in ((400,) if "\x00" in value else (200, 302))
    if value.strip() in ("", "\x00") or len(value) > 300:
        assert not PointRemoval.objects.exists()


@pytest.mark.parametrize("field", ["kind", "contact_method", "text", "action"])
@pytest.mark.parametrize("value", GARBAGE)
def test_an_incident_entry_with_garbage_saves_nothing_wrong(client, draft, field, value):
    SideEffect.objects.create(session=draft, type="fainting", severity="significant")
    incident = draft.incidents.get()
    client.force_login(ManagerFactory())
    data = {
        "action": "entry",
        "kind": "follow_up",
        "contact_method": "phone",
        "text": "Called: fine",
        field: value,
    }
    response = client.post(reverse("treatments:incident", args=[incident.pk]), data)
    assert response.status_code in ((400,) if "\x00" in value else (302, 422))
    for entry in IncidentEntry.objects.all():
        assert (
            entry.kind in ("action", "follow_up", "note") and entry.text.strip() and "\x00" not in entry.text
        )
