import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, InternalError, ProgrammingError, transaction
from django.test import RequestFactory
from django.urls import reverse

from accounts.models import Role
from audit.models import Action, AuditEvent
from patients.models import Patient

pytestmark = pytest.mark.django_db


def test_the_front_desk_archives_a_patient_and_it_is_audited(client_for, zoe):
    client = client_for(Role.FRONT_DESK)
    response = client.post(reverse("patients:archive", args=[zoe.pk]), follow=True)
    assert "archived" in response.content.decode()
    zoe.refresh_from_db()
    assert zoe.is_archived
    assert AuditEvent.objects.filter(action=Action.ARCHIVE, patient_id=zoe.pk, actor=client.user).exists()


def test_an_archived_patient_can_be_restored(client_for, zoe):
    client = client_for(Role.ADMIN)
    client.post(reverse("patients:archive", args=[zoe.pk]))
    client.post(reverse("patients:archive", args=[zoe.pk]), {"restore": "1"})
    zoe.refresh_from_db()
    assert not zoe.is_archived


def test_archive_refuses_get_and_the_manager(client_for, zoe):
    assert client_for(Role.FRONT_DESK).get(reverse("patients:archive", args=[zoe.pk])).status_code == 405
    assert client_for(Role.MANAGER).post(reverse("patients:archive", args=[zoe.pk])).status_code == 403
    zoe.refresh_from_db()
    assert not zoe.is_archived


def test_the_admin_has_no_delete_for_patients(administrator, zoe):
    request = RequestFactory().get("/")
    request.user = administrator
    assert not admin.site._registry[Patient].has_delete_permission(request, zoe)
    assert "delete_selected" not in admin.site._registry[Patient].get_actions(request)


def test_the_admin_delete_page_is_refused(client_for, zoe):
    response = client_for(Role.ADMIN).post(
        reverse("admin:patients_patient_delete", args=[zoe.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert Patient.objects.filter(pk=zoe.pk).exists()


def test_the_database_refuses_to_delete_a_patient(zoe):
    with pytest.raises((InternalError, ProgrammingError, IntegrityError)) as error, transaction.atomic():
        Patient.objects.filter(pk=zoe.pk).delete()
    assert "archived, never deleted" in str(error.value)
    assert Patient.objects.filter(pk=zoe.pk).exists()


def test_deleting_a_patient_object_is_refused_with_a_reason(zoe):
    with pytest.raises(PermissionDenied, match="archived, never deleted"):
        zoe.delete()
    assert Patient.objects.filter(pk=zoe.pk).exists()


def test_an_admin_edit_is_audited_with_field_names(client_for, zoe):
    client = client_for(Role.ADMIN)
    url = reverse("admin:patients_patient_change", args=[zoe.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data.update({"date_of_birth": "1985-04-12", "referral_source": "WorkSafeBC"})
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    event = AuditEvent.objects.filter(action=Action.UPDATE, patient_id=zoe.pk).get()
    assert event.detail == "changed: referral_source"
