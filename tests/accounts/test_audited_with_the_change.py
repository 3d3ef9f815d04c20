"""Sign-in, sign-out, passwords and staff accounts: each change commits with its audit event or not at
all, and the administrator's changes to who may do what are audited."""

import pytest
from django.db import DatabaseError
from django.urls import reverse

from accounts.models import Role
from accounts.models import StaffSession as Session
from audit.models import Action, AuditEvent
from tests.audit.refusal import audit_refused
from tests.factories import TEST_PASSWORD, ClinicianProfileFactory, PhysioFactory

pytestmark = pytest.mark.django_db

UNAVAILABLE = "audit trail unavailable"
# The clinician profile inline of the staff pages, left empty.
NO_PROFILE_FORMS = {
    "clinician_profile-TOTAL_FORMS": "0",
    "clinician_profile-INITIAL_FORMS": "0",
    "clinician_profile-MIN_NUM_FORMS": "0",
    "clinician_profile-MAX_NUM_FORMS": "1",
}


def test_a_sign_in_is_not_kept_without_its_audit_event(client):
    user = PhysioFactory(email="priya@clinic.test")
    with audit_refused(), pytest.raises(DatabaseError, match=UNAVAILABLE):
        client.post(reverse("login"), {"username": "priya@clinic.test", "password": TEST_PASSWORD})
    user.refresh_from_db()
    assert user.last_login is None
    assert not Session.objects.exists()


def test_a_sign_out_ends_the_session_only_with_its_audit_event(client):
    user = PhysioFactory()
    client.force_login(user)
    with audit_refused(), pytest.raises(DatabaseError, match=UNAVAILABLE):
        client.post(reverse("logout"))
    assert Session.objects.count() == 1
    client.post(reverse("logout"))
    assert not Session.objects.exists()
    assert AuditEvent.objects.filter(action=Action.LOGOUT, actor=user).exists()


def test_a_password_change_is_not_saved_without_its_audit_event(client):
    user = PhysioFactory()
    client.force_login(user)
    new = {
        "old_password": TEST_PASSWORD,
        "new_password1": "a-much-longer-one",
        "new_password2": "a-much-longer-one",
    }
    with audit_refused(), pytest.raises(DatabaseError, match=UNAVAILABLE):
        client.post("/password/change/", new)
    user.refresh_from_db()
    assert user.check_password(TEST_PASSWORD)


def staff_form(client, user):
    page = reverse("admin:accounts_user_change", args=[user.pk])
    form = client.get(page).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if name != "password" and value is not None}
    return page, data | NO_PROFILE_FORMS


def test_the_administrator_changing_a_role_is_audited_in_the_same_transaction(client_for):
    client = client_for(Role.ADMIN)
    user = PhysioFactory()
    page, data = staff_form(client, user)
    with audit_refused(), pytest.raises(DatabaseError, match=UNAVAILABLE):
        client.post(page, data | {"role": Role.FRONT_DESK})
    user.refresh_from_db()
    assert user.role == Role.PHYSIO
    response = client.post(page, data | {"role": Role.FRONT_DESK})
    assert response.status_code == 302, response.content.decode()[:2000]
    user.refresh_from_db()
    assert user.role == Role.FRONT_DESK
    event = AuditEvent.objects.get(action=Action.UPDATE, object_type="accounts.user", object_id=str(user.pk))
    assert (event.actor, event.detail) == (client.user, "changed in the admin: role")


def test_the_administrator_adding_a_staff_member_is_audited(client_for):
    client = client_for(Role.ADMIN)
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "new@clinic.test",
            "full_name": "New Person",
            "role": Role.FRONT_DESK,
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
            "usable_password": "true",
        }
        | NO_PROFILE_FORMS,
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action=Action.CREATE, object_type="accounts.user")
    assert event.detail == "staff account added as front_desk in the admin"


def test_a_change_to_a_needling_authorisation_is_audited(client_for):
    client = client_for(Role.ADMIN)
    profile = ClinicianProfileFactory()
    response = client.post(
        reverse("admin:accounts_clinicianprofile_change", args=[profile.pk]),
        {
            "user": profile.user.pk,
            "registration_number": profile.registration_number,
            "regulator": profile.regulator,
            "needling_authorised_on": "2026-05-01",
            "needling_authorisation_expires": "2027-05-01",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action=Action.UPDATE, object_id=str(profile.user.pk))
    assert event.detail.startswith("clinician profile changed in the admin:")
    assert "needling_authorisation_expires" in event.detail


def test_a_password_set_in_the_admin_is_audited(client_for):
    client = client_for(Role.ADMIN)
    user = PhysioFactory()
    response = client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {
            "password1": "an-admin-set-passphrase",
            "password2": "an-admin-set-passphrase",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user.refresh_from_db()
    assert user.check_password("an-admin-set-passphrase")
    assert AuditEvent.objects.filter(object_id=str(user.pk), detail="password set in the admin").exists()


def test_a_change_to_the_profile_on_the_staff_page_is_audited(client_for):
    client = client_for(Role.ADMIN)
    user = PhysioFactory()
    page = reverse("admin:accounts_user_change", args=[user.pk])
    context = client.get(page).context
    data = {name: value for name, value in context["adminform"].form.initial.items() if value is not None}
    data.pop("password", None)
    formset = context["inline_admin_formsets"][0].formset
    data.update(
        {f"{formset.prefix}-{name}": value for name, value in formset.management_form.initial.items()}
    )
    [profile_form] = formset.forms
    for name, value in profile_form.initial.items():
        if value is not None:
            data[profile_form.add_prefix(name)] = value
    data[profile_form.add_prefix("registration_number")] = "PT-99999"
    data[profile_form.add_prefix("id")] = profile_form.instance.pk
    response = client.post(page, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    user.clinician_profile.refresh_from_db()
    assert user.clinician_profile.registration_number == "PT-99999"
    assert AuditEvent.objects.filter(
        object_id=str(user.pk), detail="clinician profile changed in the admin: registration_number"
    ).exists()
