from datetime import timedelta

import pytest
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts import lockout
from audit.models import Action, AuditEvent
from tests.factories import TEST_PASSWORD, AdminFactory, PhysioFactory

pytestmark = pytest.mark.django_db

LOCKED_MESSAGE = "Too many failed sign-ins for this address. Try again in"
EMAIL = "priya@clinic.test"


@pytest.fixture(autouse=True)
def limits(settings):
    settings.LOGIN_FAILURE_LIMIT = 5
    settings.LOGIN_LOCKOUT_MINUTES = 15
    return settings


@pytest.fixture
def clock(monkeypatch):
    """clock.advance(minutes): the lockout sees a later time than the one the audit rows were written at."""

    class Clock:
        offset = timedelta(0)

        def advance(self, minutes):
            self.offset += timedelta(minutes=minutes)

    c = Clock()
    monkeypatch.setattr(lockout, "now", lambda: timezone.now() + c.offset)
    return c


def post_login(client, email, password):
    return client.post(reverse("login"), {"username": email, "password": password})


def fail(client, email=EMAIL, times=5):
    for _ in range(times):
        response = post_login(client, email, "wrong-password-1")
        assert response.status_code == 200


def logged_in(client):
    return "_auth_user_id" in client.session


def locked_rows():
    return AuditEvent.objects.filter(action=Action.LOGIN_FAILED, detail__contains="locked")


# --- the login form ------------------------------------------------------------------------------


def test_five_failures_lock_the_address_even_for_the_right_password(client):
    PhysioFactory(email=EMAIL)
    fail(client, times=4)
    assert logged_in(client) is False
    # The fifth failure reaches the limit and already says so.
    response = post_login(client, EMAIL, "wrong-password-1")
    assert LOCKED_MESSAGE in response.content.decode()

    response = post_login(client, EMAIL, TEST_PASSWORD)
    assert response.status_code == 200
    body = response.content.decode()
    assert LOCKED_MESSAGE in body
    assert "or reset your password." in body
    assert "do not match an active staff account" not in body
    assert logged_in(client) is False
    assert not AuditEvent.objects.filter(action=Action.LOGIN).exists()
    refused = locked_rows().get()
    assert EMAIL in refused.detail and refused.actor is None
    assert TEST_PASSWORD not in refused.detail


def test_four_failures_do_not_lock(client):
    PhysioFactory(email=EMAIL)
    fail(client, times=4)
    response = post_login(client, EMAIL, TEST_PASSWORD)
    assert response.status_code == 302
    assert logged_in(client)


def test_the_message_counts_down_the_minutes_left(client, clock):
    PhysioFactory(email=EMAIL)
    fail(client)
    assert "Try again in 15 minutes" in post_login(client, EMAIL, TEST_PASSWORD).content.decode()
    clock.advance(14)
    assert "Try again in 1 minute," in post_login(client, EMAIL, TEST_PASSWORD).content.decode()


def test_after_the_window_the_right_password_works_again(client, clock):
    user = PhysioFactory(email=EMAIL)
    fail(client)
    clock.advance(14)
    assert LOCKED_MESSAGE in post_login(client, EMAIL, TEST_PASSWORD).content.decode()
    clock.advance(1.5)
    response = post_login(client, EMAIL, TEST_PASSWORD)
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action=Action.LOGIN, actor=user).exists()


def test_refused_attempts_do_not_extend_the_lock(client, clock):
    PhysioFactory(email=EMAIL)
    fail(client)
    for _ in range(3):
        clock.advance(4)
        post_login(client, EMAIL, "wrong-password-1")
    assert locked_rows().count() == 3
    clock.advance(3.5)  # 15.5 minutes after the five failures that caused the lock, 3.5 after the last try
    assert post_login(client, EMAIL, TEST_PASSWORD).status_code == 302


def test_a_short_window_from_settings(client, clock, limits):
    limits.LOGIN_FAILURE_LIMIT = 2
    limits.LOGIN_LOCKOUT_MINUTES = 1
    PhysioFactory(email=EMAIL)
    fail(client, times=2)
    assert "Try again in 1 minute," in post_login(client, EMAIL, TEST_PASSWORD).content.decode()
    clock.advance(1.1)
    assert post_login(client, EMAIL, TEST_PASSWORD).status_code == 302


def test_mixed_case_addresses_count_together(client):
    PhysioFactory(email=EMAIL)
    for address in [
        "Priya@Clinic.test",
        "PRIYA@CLINIC.TEST",
        "priya@clinic.TEST",
        "pRiYa@clinic.test",
        EMAIL,
    ]:
        post_login(client, address, "wrong-password-1")
    response = post_login(client, "PriyA@clinic.test", TEST_PASSWORD)
    assert LOCKED_MESSAGE in response.content.decode()
    assert logged_in(client) is False


def test_other_addresses_are_unaffected(client):
    PhysioFactory(email=EMAIL)
    PhysioFactory(email="sam@clinic.test")
    fail(client)
    response = post_login(client, "sam@clinic.test", TEST_PASSWORD)
    assert response.status_code == 302


def test_failures_for_an_address_with_no_account_lock_it_too_and_say_nothing_about_existence(client):
    fail(client, email="nobody@clinic.test")
    assert LOCKED_MESSAGE in post_login(client, "nobody@clinic.test", "whatever-it-is").content.decode()


def test_a_successful_login_elsewhere_does_not_reset_the_count(client):
    PhysioFactory(email=EMAIL)
    attacker = AdminFactory(email="mallory@clinic.test")
    fail(client, times=4)
    assert post_login(client, attacker.email, TEST_PASSWORD).status_code == 302
    client.post(reverse("logout"))
    post_login(client, EMAIL, "wrong-password-1")
    assert LOCKED_MESSAGE in post_login(client, EMAIL, TEST_PASSWORD).content.decode()


def test_a_successful_login_does_not_reset_the_count_for_its_own_address(client):
    PhysioFactory(email=EMAIL)
    fail(client, times=4)
    assert post_login(client, EMAIL, TEST_PASSWORD).status_code == 302
    client.post(reverse("logout"))
    post_login(client, EMAIL, "wrong-password-1")
    assert LOCKED_MESSAGE in post_login(client, EMAIL, TEST_PASSWORD).content.decode()


def test_the_count_comes_from_the_database_not_the_client(client):
    PhysioFactory(email=EMAIL)
    fail(client)
    client.cookies.clear()  # a new session, as on another app server
    assert LOCKED_MESSAGE in post_login(client, EMAIL, TEST_PASSWORD).content.decode()


# --- the admin login and authenticate() -----------------------------------------------------------


def admin_form(rf, email, password):
    request = rf.post(reverse("admin:login"))
    return request, AdminAuthenticationForm(request, data={"username": email, "password": password})


def test_the_admin_login_form_obeys_the_lock(rf, clock):
    """Django admin's own login form (AdminSite.login), as the admin site would run it."""
    admin = AdminFactory(email="boss@clinic.test")
    for _ in range(5):
        assert admin_form(rf, admin.email, "wrong-password-1")[1].is_valid() is False
    request, form = admin_form(rf, "Boss@clinic.test", TEST_PASSWORD)
    assert form.is_valid() is False
    assert form.get_user() is None
    assert request.login_lockout.locked
    assert locked_rows().filter(detail__icontains=admin.email).count() == 1
    clock.advance(16)
    request, form = admin_form(rf, admin.email, TEST_PASSWORD)
    assert form.is_valid()
    assert form.get_user() == admin


def test_the_admin_login_url_sends_anonymous_users_to_the_locked_login_page(client):
    admin = AdminFactory(email="boss@clinic.test")
    fail(client, email=admin.email)
    response = client.post(reverse("admin:login"), {"username": admin.email, "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert logged_in(client) is False
    assert LOCKED_MESSAGE in post_login(client, admin.email, TEST_PASSWORD).content.decode()


def test_admin_form_and_login_page_failures_add_up(client, rf):
    admin = AdminFactory(email="boss@clinic.test")
    fail(client, email="Boss@Clinic.test", times=3)
    for _ in range(2):
        admin_form(rf, admin.email, "wrong-password-1")[1].is_valid()
    assert LOCKED_MESSAGE in post_login(client, admin.email, TEST_PASSWORD).content.decode()


def test_direct_authenticate_obeys_the_lock_and_is_audited(clock):
    user = PhysioFactory(email=EMAIL)
    for _ in range(5):
        assert authenticate(None, username=EMAIL, password="wrong-password-1") is None
    assert authenticate(None, username="Priya@clinic.test", password=TEST_PASSWORD) is None
    assert authenticate(None, email=EMAIL, password=TEST_PASSWORD) is None
    assert locked_rows().count() == 2
    assert lockout.status(EMAIL).locked
    clock.advance(16)
    assert lockout.status(EMAIL).locked is False
    assert authenticate(None, username=EMAIL, password=TEST_PASSWORD) == user


def test_client_login_still_works_and_obeys_the_lock(client):
    user = PhysioFactory(email=EMAIL)
    assert client.login(username=EMAIL, password=TEST_PASSWORD)
    client.logout()
    for _ in range(5):
        assert client.login(username=user.email, password="wrong-password-1") is False
    assert client.login(username=user.email, password=TEST_PASSWORD) is False


def test_a_refused_attempt_with_a_request_is_audited_with_its_address_and_ip(client):
    PhysioFactory(email=EMAIL)
    fail(client)
    post_login(client, EMAIL, TEST_PASSWORD)
    refused = locked_rows().get()
    assert refused.detail == lockout.LOCKED_DETAIL.format(address=EMAIL)
    assert refused.ip_address == "127.0.0.1"
    # Five counted failures and one refusal, nothing else.
    assert AuditEvent.objects.filter(action=Action.LOGIN_FAILED).count() == 6


# --- password reset -------------------------------------------------------------------------------


def test_password_reset_works_for_a_locked_address_and_lifts_the_lock(client):
    user = PhysioFactory(email=EMAIL)
    fail(client)
    assert LOCKED_MESSAGE in post_login(client, EMAIL, TEST_PASSWORD).content.decode()
    response = client.post(reverse("password_reset"), {"email": "Priya@clinic.test"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [EMAIL]

    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    response = client.get(reverse("password_reset_confirm", args=[uid, token]), follow=True)
    new_password = "a-brand-new-password-42"
    response = client.post(
        response.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password}
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action=Action.PASSWORD_RESET, actor=user).exists()
    # Guesses at the old password no longer count; the owner of the mailbox is in.
    assert post_login(client, EMAIL, new_password).status_code == 302


# --- cost -----------------------------------------------------------------------------------------


def test_a_login_runs_the_same_number_of_queries_however_many_failures_exist(
    client, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def measure(email, password):
        client.cookies.clear()
        with CaptureQueriesContext(connection) as queries:
            response = post_login(client, email, password)
        return len(queries), response.status_code

    PhysioFactory(email=EMAIL)
    PhysioFactory(email="sam@clinic.test")
    for n in range(30):
        post_login(client, f"other{n}@clinic.test", "wrong-password-1")

    success_clean, status = measure("sam@clinic.test", TEST_PASSWORD)
    assert status == 302
    failure_first, _ = measure(EMAIL, "wrong-password-1")
    for _ in range(2):
        measure(EMAIL, "wrong-password-1")
    failure_fourth, _ = measure(EMAIL, "wrong-password-1")
    assert failure_fourth == failure_first
    success_after_four, status = measure(EMAIL, TEST_PASSWORD)
    assert status == 302
    assert success_after_four == success_clean
    measure(EMAIL, "wrong-password-1")  # the fifth
    refused, status = measure(EMAIL, TEST_PASSWORD)
    assert status == 200
    assert refused <= failure_first
    client.cookies.clear()
    with django_assert_max_num_queries(success_clean):
        post_login(client, "sam@clinic.test", TEST_PASSWORD)
