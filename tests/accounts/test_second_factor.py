"""A second factor for everyone who sees clinical data: enrolment at first login, a code at every login,
recovery codes, an administrator's reset, the admin site behind it, every step audited, and wrong codes
counted by the lockout."""

import re

import pytest
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, StaffSession
from accounts.second_factor import RECOVERY_CODES, reset_devices
from audit.models import Action, AuditEvent
from tests.factories import (
    TEST_PASSWORD,
    AdminFactory,
    FrontDeskFactory,
    ManagerFactory,
    PhysioFactory,
    give_authenticator,
    totp_code,
)

pytestmark = pytest.mark.django_db

LOCKED_MESSAGE = "Too many failed sign-ins for this address"


@pytest.fixture(autouse=True)
def limits(settings):
    settings.LOGIN_FAILURE_LIMIT = 5


def log_in_with_password(client, user):
    response = client.post(reverse("login"), {"username": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 302
    return client.get(response.url)


def secret_on_page(response):
    return re.search(r'data-testid="totp-secret"[^>]*>([A-Z2-7]+)<', response.content.decode()).group(1)


def code_for_secret(secret):
    import base64

    from django_otp.oath import TOTP

    return f"{TOTP(base64.b32decode(secret + '=' * (-len(secret) % 8))).token():06d}"


# --- who needs one ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("factory", [PhysioFactory, ManagerFactory, AdminFactory])
def test_clinical_roles_without_a_device_are_sent_to_enrol_at_first_login(client, factory):
    user = factory()
    response = log_in_with_password(client, user)
    assert response.status_code == 302
    assert response.url.startswith(reverse("second_factor_enrol"))
    # Nothing past the login is reachable until then.
    for url in [reverse("home"), reverse("security"), reverse("recovery_codes")]:
        assert client.get(url).url.startswith(reverse("second_factor_enrol"))


def test_the_front_desk_passes_without_one_by_default(client):
    user = FrontDeskFactory()
    response = log_in_with_password(client, user)
    assert response.status_code == 200
    assert b'data-testid="whoami"' in response.content


def test_the_clinic_can_require_it_of_the_front_desk(client, settings):
    settings.SECOND_FACTOR_FRONT_DESK = True
    user = FrontDeskFactory()
    response = log_in_with_password(client, user)
    assert response.url.startswith(reverse("second_factor_enrol"))


def test_a_front_desk_member_who_enrolled_types_the_code_too(client):
    user = FrontDeskFactory()
    give_authenticator(user)
    response = log_in_with_password(client, user)
    assert response.url.startswith(reverse("login_code"))


# --- enrolment --------------------------------------------------------------------------------------------
def test_enrolment_shows_a_qr_code_drawn_here_and_confirms_with_a_code(client):
    user = PhysioFactory()
    log_in_with_password(client, user)
    page = client.get(reverse("second_factor_enrol"))
    body = page.content.decode()
    assert "<svg" in body and "http" not in body.split('data-testid="qr-code"')[1].split("</div>")[0].replace(
        "http://www.w3.org", ""
    )
    secret = secret_on_page(page)
    response = client.post(reverse("second_factor_enrol"), {"code": code_for_secret(secret), "next": "/"})
    assert response.status_code == 302
    assert response.url.startswith(reverse("recovery_codes"))
    codes = client.get(response.url)
    shown = re.findall(r"<li>([0-9a-f]{5}-[0-9a-f]{5})</li>", codes.content.decode())
    assert len(shown) == RECOVERY_CODES == len(set(shown))
    # Shown once only.
    assert "<li>" + shown[0] not in client.get(reverse("recovery_codes")).content.decode()
    assert client.get(reverse("home")).status_code == 200
    assert TOTPDevice.objects.get(user=user).confirmed
    assert AuditEvent.objects.filter(action=Action.MFA_ENROL, actor=user).count() == 2  # app, codes


def test_a_wrong_enrolment_code_is_refused_with_a_message_and_counted(client):
    user = PhysioFactory()
    log_in_with_password(client, user)
    client.get(reverse("second_factor_enrol"))
    response = client.post(reverse("second_factor_enrol"), {"code": "000000"})
    assert response.status_code == 200
    assert "That code does not match" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    assert AuditEvent.objects.filter(action=Action.LOGIN_FAILED, object_type="second factor").count() == 1


def test_the_enrolment_page_keeps_the_same_secret_across_reloads(client):
    user = PhysioFactory()
    log_in_with_password(client, user)
    first = secret_on_page(client.get(reverse("second_factor_enrol")))
    assert secret_on_page(client.get(reverse("second_factor_enrol"))) == first


# --- the code at login ------------------------------------------------------------------------------------
def test_a_good_code_opens_the_pages_and_is_audited(client):
    user = PhysioFactory()
    device = give_authenticator(user)
    response = log_in_with_password(client, user)
    assert response.url.startswith(reverse("login_code"))
    response = client.post(reverse("login_code"), {"code": totp_code(device), "next": "/patients/"})
    assert response.status_code == 302 and response.url == "/patients/"
    assert client.get("/patients/").status_code == 200
    event = AuditEvent.objects.get(action=Action.MFA_VERIFY)
    assert event.actor == user and "authenticator app" in event.detail


def test_a_code_cannot_be_used_twice(client):
    user = PhysioFactory()
    device = give_authenticator(user)
    code = totp_code(device)
    log_in_with_password(client, user)
    assert client.post(reverse("login_code"), {"code": code}).status_code == 302
    client.post(reverse("logout"))
    log_in_with_password(client, user)
    response = client.post(reverse("login_code"), {"code": code})
    assert response.status_code == 200
    assert "That code does not match" in response.content.decode()


def test_a_wrong_code_shows_a_message_is_audited_and_opens_nothing(client):
    user = PhysioFactory()
    give_authenticator(user)
    log_in_with_password(client, user)
    response = client.post(reverse("login_code"), {"code": "123456"})
    assert response.status_code == 200
    assert "That code does not match" in response.content.decode()
    assert client.get(reverse("home")).url.startswith(reverse("login_code"))
    failed = AuditEvent.objects.get(action=Action.LOGIN_FAILED)
    assert failed.object_type == "second factor" and user.email in failed.detail


@pytest.mark.parametrize("garbage", ["", "   ", "abc", "1" * 200, "<script>", "12345678901234567890x"])
def test_garbage_codes_get_a_message_never_an_error(client, garbage):
    user = PhysioFactory()
    give_authenticator(user)
    log_in_with_password(client, user)
    response = client.post(reverse("login_code"), {"code": garbage})
    assert response.status_code == 200
    assert "code" in response.content.decode().lower()


def test_a_code_with_a_nul_character_is_refused_before_it_is_checked(client):
    user = PhysioFactory()
    give_authenticator(user)
    log_in_with_password(client, user)
    response = client.post(reverse("login_code"), {"code": "12\u00003456"})
    assert response.status_code == 400  # clinic/middleware.py: NUL never reaches a form or the database
    assert not AuditEvent.objects.filter(action=Action.MFA_VERIFY).exists()


def test_wrong_codes_count_toward_the_lockout_and_end_the_half_open_session(client):
    user = PhysioFactory()
    device = give_authenticator(user)
    # Two wrong passwords, then three wrong codes: five failures for the address.
    for _ in range(2):
        client.post(reverse("login"), {"username": user.email, "password": "wrong-password-1"})
    log_in_with_password(client, user)
    for _ in range(2):
        client.post(reverse("login_code"), {"code": "000000"})
    response = client.post(reverse("login_code"), {"code": "000000"})
    assert response.status_code == 302 and response.url == reverse("login")
    assert "_auth_user_id" not in client.session
    # Locked now: the right password and the right code are refused alike.
    response = client.post(reverse("login"), {"username": user.email, "password": TEST_PASSWORD})
    assert LOCKED_MESSAGE in response.content.decode()
    assert totp_code(device)  # the device itself is untouched


def test_a_recovery_code_works_once(client):
    from accounts.second_factor import new_recovery_codes

    user = PhysioFactory()
    give_authenticator(user)
    codes = new_recovery_codes(user)
    log_in_with_password(client, user)
    response = client.post(reverse("login_code"), {"code": codes[0].upper().replace("-", " ")})
    assert response.status_code == 302
    assert StaticToken.objects.filter(device__user=user).count() == RECOVERY_CODES - 1
    assert "recovery code; 9 recovery codes left" in AuditEvent.objects.get(action=Action.MFA_VERIFY).detail
    client.post(reverse("logout"))
    log_in_with_password(client, user)
    assert client.post(reverse("login_code"), {"code": codes[0]}).status_code == 200


def test_new_recovery_codes_replace_the_old_ones(client):
    from accounts.second_factor import new_recovery_codes

    user = PhysioFactory()
    old = new_recovery_codes(user)
    client.force_login(user)
    response = client.post(reverse("recovery_codes"))
    new = re.findall(r"<li>([0-9a-f]{5}-[0-9a-f]{5})</li>", client.get(response.url).content.decode())
    assert len(new) == RECOVERY_CODES and not set(new) & set(old)
    assert set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True)) == set(new)


# --- the admin site and the administrator's reset ----------------------------------------------------------
def test_the_admin_site_sits_behind_the_second_factor(client):
    admin = AdminFactory()
    give_authenticator(admin)
    client.force_login_password_only(admin)
    response = client.get("/admin/")
    assert response.status_code == 302 and response.url.startswith(reverse("login_code"))
    client.force_login(admin)
    assert client.get("/admin/").status_code == 200


def test_an_administrator_resets_a_users_devices_and_ends_their_sessions(client):
    admin = AdminFactory()
    physio = PhysioFactory()
    give_authenticator(physio)
    from tests.conftest import Client

    physio_client = Client()
    physio_client.force_login(physio)
    assert StaffSession.objects.filter(user=physio).count() == 1
    client.force_login(admin)
    response = client.post(
        "/admin/accounts/user/", {"action": "reset_second_factor", "_selected_action": [physio.pk]}
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=physio).exists()
    assert not StaffSession.objects.filter(user=physio).exists()
    event = AuditEvent.objects.get(action=Action.MFA_RESET)
    assert event.actor == admin and event.object_id == str(physio.pk)
    # Their next login asks them to enrol again.
    assert physio_client.get(reverse("home")).url.startswith(reverse("login"))
    response = log_in_with_password(physio_client, physio)
    assert response.url.startswith(reverse("second_factor_enrol"))


def test_only_an_administrator_resets_devices():
    with pytest.raises(PermissionError):
        reset_devices(PhysioFactory(), by=ManagerFactory())


# --- the demo clinic ---------------------------------------------------------------------------------------
def test_demo_accounts_show_their_code_on_the_code_page_only_with_debug(client, settings):
    from accounts.second_factor import current_code, give_demo_authenticator

    user = PhysioFactory(role=Role.PHYSIO)
    device = give_demo_authenticator(user)
    log_in_with_password(client, user)
    settings.DEBUG = False
    assert b"demo-code" not in client.get(reverse("login_code")).content
    settings.DEBUG = True
    body = client.get(reverse("login_code")).content.decode()
    assert f"<code>{current_code(device)}</code>" in body
    response = client.post(reverse("login_code"), {"code": current_code(device)})
    assert response.status_code == 302


def test_other_accounts_never_show_a_code(client, settings):
    settings.DEBUG = True
    user = PhysioFactory()
    give_authenticator(user)
    log_in_with_password(client, user)
    assert b"demo-code" not in client.get(reverse("login_code")).content


def test_the_demo_clinic_logins_pass_the_second_factor_with_the_documented_secret(client, settings):
    import base64

    from django.core.management import call_command
    from django_otp.oath import TOTP

    from accounts.demo import DEMO_PASSWORD
    from accounts.models import User
    from accounts.second_factor import DEMO_TOTP_SECRET

    settings.DEBUG = True
    call_command("seed_demo", "--size", "0", "--quiet")
    physio = User.objects.get(email="physio@demo.imsclinic.test")
    assert TOTPDevice.objects.get(user=physio).bin_key == base64.b32decode(DEMO_TOTP_SECRET)
    assert not TOTPDevice.objects.filter(user__email="desk@demo.imsclinic.test").exists()
    client.post(reverse("login"), {"username": physio.email, "password": DEMO_PASSWORD})
    code = f"{TOTP(base64.b32decode(DEMO_TOTP_SECRET)).token():06d}"
    assert f"<code>{code}</code>" in client.get(reverse("login_code")).content.decode()
    assert client.post(reverse("login_code"), {"code": code}).status_code == 302
    assert client.get(reverse("home")).status_code == 200


@pytest.mark.parametrize("url", ["/admin/otp_totp/totpdevice/", "/admin/otp_static/staticdevice/"])
def test_the_admin_never_shows_anyones_authenticator_key_or_recovery_codes(client, url):
    admin = AdminFactory()
    client.force_login(admin)
    assert client.get(url).status_code == 404
    assert b"otp_totp" not in client.get("/admin/").content
