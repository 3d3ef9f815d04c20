"""/hello: the signed-in page with nothing of its own that the benchmarks measure every page against. It
goes through every middleware a page does, is open to every role and to nobody signed out, and reveals
nothing."""

import pytest

from accounts.models import Role
from audit.models import AuditEvent


@pytest.mark.parametrize("role", list(Role))
def test_every_role_gets_one_word(client_for, role):
    client = client_for(role)
    events = AuditEvent.objects.count()
    response = client.get("/hello")
    assert response.status_code == 200
    assert response.content == b"hello\n"
    assert AuditEvent.objects.count() == events, "it shows nothing of anybody, so there is nothing to audit"


def test_it_names_nobody(client_for):
    client = client_for(Role.PHYSIO)
    response = client.get("/hello")
    assert client.user.full_name.encode() not in response.content
    assert client.user.email.encode() not in response.content
    assert "no-store" in response["Cache-Control"]


def test_it_sends_the_signed_out_to_the_login_page(client, db):
    response = client.get("/hello")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_it_waits_for_the_second_factor_like_any_page(client, physio):
    client.force_login_password_only(physio)
    response = client.get("/hello")
    assert response.status_code == 302
    assert response["Location"] == "/account/second-factor/?next=/hello"  # to enrol an authenticator first


def test_it_takes_only_get_and_head(client_for):
    client = client_for(Role.FRONT_DESK)
    assert client.head("/hello").status_code == 200
    assert client.post("/hello").status_code == 405
