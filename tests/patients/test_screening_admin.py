"""Opening a screening in the Django admin is audited like opening it in the app (issue 11, part 6)."""

import pytest

from audit.models import Action, AuditEvent
from tests.factories import ScreeningFactory

pytestmark = pytest.mark.django_db


def test_opening_a_screening_in_the_admin_is_audited_under_its_patient(client_for):
    screening = ScreeningFactory(diabetes=True)
    client = client_for("administrator")
    assert client.get(f"/admin/patients/screening/{screening.pk}/change/").status_code == 200
    event = AuditEvent.objects.get(action=Action.VIEW, object_type="patients.screening")
    assert (event.patient_id, event.actor, event.detail) == (
        screening.patient_id,
        client.user,
        "opened in the admin",
    )


def test_the_screening_stays_read_only_in_the_admin(client_for):
    screening = ScreeningFactory()
    response = client_for("administrator").post(
        f"/admin/patients/screening/{screening.pk}/change/", {"diabetes": "on"}
    )
    assert response.status_code == 403
    screening.refresh_from_db()
    assert screening.diabetes is False
