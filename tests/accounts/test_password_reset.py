import re

import pytest
from django.core import mail

from audit.models import AuditEvent
from tests.factories import PhysioFactory

pytestmark = pytest.mark.django_db


def test_a_staff_member_resets_a_forgotten_password_by_email(client):
    user = PhysioFactory(email="priya@clinic.test")
    response = client.post("/password/reset/", {"email": "Priya@clinic.test"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/password/reset/\S+/)", mail.outbox[0].body).group(1)

    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    short = client.post(form.redirect_chain[-1][0], {"new_password1": "short1", "new_password2": "short1"})
    assert "at least 12 characters" in short.content.decode()

    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-brand-new-passphrase", "new_password2": "a-brand-new-passphrase"},
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-brand-new-passphrase")
    assert AuditEvent.objects.filter(action="password_reset", actor=user).exists()


def test_an_unknown_address_sends_nothing_and_says_the_same(client):
    response = client.post("/password/reset/", {"email": "nobody@clinic.test"}, follow=True)
    assert "Check your e-mail" in response.content.decode()
    assert mail.outbox == []


def test_a_used_link_no_longer_works(client):
    PhysioFactory(email="priya@clinic.test")
    client.post("/password/reset/", {"email": "priya@clinic.test"})
    link = re.search(r"http://testserver(/password/reset/\S+/)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    url = form.redirect_chain[-1][0]
    client.post(url, {"new_password1": "a-brand-new-passphrase", "new_password2": "a-brand-new-passphrase"})
    again = client.get(link, follow=True)
    assert "This link no longer works" in again.content.decode()


def test_changing_a_password_requires_login_and_twelve_characters(client):
    user = PhysioFactory()
    assert client.get("/password/change/").status_code == 302
    client.force_login(user)
    response = client.post(
        "/password/change/",
        {
            "old_password": "correct-horse-battery-staple",
            "new_password1": "tooshort",
            "new_password2": "tooshort",
        },
    )
    assert "at least 12 characters" in response.content.decode()
    assert not AuditEvent.objects.filter(detail="password changed").exists()
    client.post(
        "/password/change/",
        {
            "old_password": "correct-horse-battery-staple",
            "new_password1": "a-much-longer-one",
            "new_password2": "a-much-longer-one",
        },
    )
    user.refresh_from_db()
    assert user.check_password("a-much-longer-one")
    assert AuditEvent.objects.filter(detail="password changed", actor=user).exists()
