import pytest
from django.db import DatabaseError, connection, transaction

from audit.models import Action, AuditEvent
from audit.services import record

pytestmark = pytest.mark.django_db


def test_a_direct_sql_update_is_refused(physio):
    event = record(Action.VIEW, user=physio, object_type="patients.patient", object_id="1", patient_id=1)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE audit_auditevent SET detail = 'edited' WHERE id = %s", [event.pk])
    event.refresh_from_db()
    assert event.detail == ""


def test_a_direct_sql_delete_is_refused(physio):
    event = record(Action.VIEW, user=physio)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_orm_cannot_update_or_delete_either(physio):
    event = record(Action.VIEW, user=physio)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action=Action.CREATE)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == Action.VIEW


def test_the_admin_offers_no_add_change_or_delete(client, administrator):
    event = record(Action.VIEW, user=administrator)
    client.force_login(administrator)
    assert client.get("/admin/audit/auditevent/").status_code == 200
    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    response = client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()
