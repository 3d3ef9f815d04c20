"""A NUL character, which PostgreSQL cannot store or compare, is refused with a plain 400 wherever it comes
in (clinic/middleware.py), before any lookup, filter or audit row could meet it and fail with a 500."""

import pytest

from accounts.models import Role
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_a_nul_in_an_admin_filter_is_refused(client_for):
    response = client_for(Role.ADMIN).get("/admin/audit/auditevent/?action__exact=%00")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert b"NUL" in response.content


def test_a_nul_in_a_path_is_refused(client_for):
    assert client_for(Role.ADMIN).get("/admin/audit/auditevent/%00/change/").status_code == 400


def test_a_nul_in_a_form_field_is_refused_and_nothing_is_recorded(client):
    before = AuditEvent.objects.count()
    response = client.post("/login/", {"username": "desk@example.test\x00", "password": "x"})
    assert response.status_code == 400
    # Not even the failed login: the request never reached the view.
    assert AuditEvent.objects.count() == before


def test_a_nul_in_a_header_or_a_cookie_is_refused(client):
    assert client.get("/login/", headers={"User-Agent": "Mozilla\x00"}).status_code == 400
    client.cookies["sessionid"] = "abc\x00def"
    assert client.get("/login/").status_code == 400


def test_a_request_without_one_goes_through(client):
    assert client.get("/login/", {"next": "/"}).status_code == 200
