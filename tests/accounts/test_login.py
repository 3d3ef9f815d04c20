import pytest
from django.urls import reverse

from audit.models import Action, AuditEvent
from tests.factories import TEST_PASSWORD, PhysioFactory

pytestmark = pytest.mark.django_db


def test_it_shows_the_styled_login_page(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b"Log in to" in response.content
    assert b"vendor/bootstrap/bootstrap.min.css" in response.content


def test_it_logs_in_by_email_case_insensitively_and_audits_it(client):
    user = PhysioFactory(email="priya@clinic.test")
    response = client.post(reverse("login"), {"username": "Priya@Clinic.test", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("home")
    event = AuditEvent.objects.get(action=Action.LOGIN)
    assert event.actor == user
    assert event.ip_address == "127.0.0.1"


def test_a_wrong_password_shows_a_clear_message_and_is_audited(client):
    PhysioFactory(email="priya@clinic.test")
    response = client.post(
        reverse("login"), {"username": "priya@clinic.test", "password": "wrong-password-1"}
    )
    assert response.status_code == 200
    assert "do not match an active staff account" in response.content.decode()
    event = AuditEvent.objects.get(action=Action.LOGIN_FAILED)
    assert event.actor is None
    assert "priya@clinic.test" in event.detail
    assert "wrong-password-1" not in event.detail


def test_an_unknown_email_is_refused_without_saying_whether_it_exists(client):
    response = client.post(reverse("login"), {"username": "nobody@clinic.test", "password": "whatever-it-is"})
    assert response.status_code == 200
    assert "do not match an active staff account" in response.content.decode()
    assert AuditEvent.objects.filter(action=Action.LOGIN_FAILED).count() == 1


def test_a_deactivated_account_cannot_log_in(client):
    PhysioFactory(email="gone@clinic.test", is_active=False)
    response = client.post(reverse("login"), {"username": "gone@clinic.test", "password": TEST_PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_garbage_in_the_login_form_is_a_form_error_not_a_500(client):
    response = client.post(reverse("login"), {"username": "not an e-mail", "password": ""})
    assert response.status_code == 200
    assert b"Enter a valid email address" in response.content or b"Enter a valid e-mail" in response.content


def test_logout_is_a_post_and_is_audited(client):
    user = PhysioFactory()
    client.force_login(user)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action=Action.LOGOUT, actor=user).exists()
    assert client.get(reverse("home")).status_code == 302
