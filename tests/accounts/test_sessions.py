"""Sessions that end: an idle limit, an absolute limit, every session ended by a new password or a
deactivation, and a person's own list of sessions, any of which they end."""

import time

import pytest
from django.urls import reverse

from accounts import sessions
from accounts.models import StaffSession
from audit.models import Action, AuditEvent
from tests.conftest import Client
from tests.factories import TEST_PASSWORD, FrontDeskFactory, PhysioFactory
from tests.markup import page_text

pytestmark = pytest.mark.django_db


def age_session(client, *, idle=0, since_login=0):
    session = client.session
    now = time.time()
    session[sessions.LAST_SEEN] = int(now - idle)
    session[sessions.LOGIN_AT] = int(now - since_login)
    session.save()


@pytest.fixture
def physio_client(client):
    user = PhysioFactory()
    client.force_login(user)
    client.user = user
    return client


# --- idle and absolute limits ------------------------------------------------------------------------------
def test_a_session_idle_past_the_limit_ends_and_the_login_page_says_why(physio_client, settings):
    settings.SESSION_IDLE_MINUTES = 30
    age_session(physio_client, idle=31 * 60)
    response = physio_client.get("/patients/?q=smith")
    assert response.status_code == 302
    assert response.url == "/login/?next=/patients/%3Fq%3Dsmith&ended=idle"
    assert "_auth_user_id" not in physio_client.session
    page = page_text(physio_client.get(response.url).content.decode())
    assert "Your session ended (idle for more than 30 minutes)" in page
    event = AuditEvent.objects.get(action=Action.SESSION_END)
    assert event.actor == physio_client.user and "idle" in event.detail


def test_a_session_used_within_the_limit_goes_on(physio_client, settings):
    settings.SESSION_IDLE_MINUTES = 30
    age_session(physio_client, idle=29 * 60)
    assert physio_client.get(reverse("home")).status_code == 200
    # ...and its clock restarts.
    assert time.time() - physio_client.session[sessions.LAST_SEEN] < 5


def test_the_idle_limit_is_a_setting(physio_client, settings):
    settings.SESSION_IDLE_MINUTES = 5
    age_session(physio_client, idle=6 * 60)
    assert physio_client.get(reverse("home")).status_code == 302


def test_an_active_session_still_ends_at_the_absolute_limit(physio_client, settings):
    settings.SESSION_COOKIE_AGE = 8 * 3600
    age_session(physio_client, idle=10, since_login=8 * 3600 + 60)
    response = physio_client.get(reverse("home"))
    assert response.url.endswith("ended=absolute")


def test_a_timed_out_htmx_request_asks_for_a_full_page_login_and_back_to_the_page_open(
    physio_client, settings
):
    age_session(physio_client, idle=31 * 60)
    response = physio_client.get(
        "/patients/?q=smi",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/sessions/12/"},
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/login/?next=/sessions/12/&ended=idle"


def test_a_timed_out_form_post_returns_to_the_page_the_form_was_on(physio_client):
    age_session(physio_client, idle=31 * 60)
    response = physio_client.post(
        "/sessions/12/save/", {"plan": "x"}, headers={"Referer": "http://testserver/sessions/12/"}
    )
    assert response.url == "/login/?next=/sessions/12/&ended=idle"


def test_a_referer_from_another_site_is_not_followed(physio_client):
    age_session(physio_client, idle=31 * 60)
    response = physio_client.post("/sessions/12/save/", {}, headers={"Referer": "https://evil.test/x"})
    assert response.url.startswith("/login/?next=/sessions/12/save/")


# --- ending every session ---------------------------------------------------------------------------------
def test_a_password_change_ends_every_other_session_but_keeps_this_one(physio_client):
    user = physio_client.user
    other = Client()
    other.force_login(user)
    assert StaffSession.objects.filter(user=user).count() == 2
    response = physio_client.post(
        reverse("password_change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "a-new-password-4711",
            "new_password2": "a-new-password-4711",
        },
    )
    assert response.status_code == 302
    assert physio_client.get(reverse("home")).status_code == 200
    assert other.get(reverse("home")).status_code == 302
    assert StaffSession.objects.filter(user=user).count() == 1
    assert AuditEvent.objects.filter(action=Action.SESSION_END, detail__contains="password changed").exists()


def test_deactivating_a_user_ends_all_their_sessions(physio_client):
    user = physio_client.user
    user.is_active = False
    user.save()
    assert not StaffSession.objects.filter(user=user).exists()
    assert physio_client.get(reverse("home")).status_code == 302
    assert AuditEvent.objects.filter(action=Action.SESSION_END, detail__contains="deactivated").exists()


def test_a_login_update_does_not_end_anything(physio_client):
    user = physio_client.user
    other = Client()
    other.force_login(user)  # updates last_login only
    assert StaffSession.objects.filter(user=user).count() == 2


# --- a person's own sessions -------------------------------------------------------------------------------
def test_a_person_sees_their_sessions_and_ends_another(physio_client):
    user = physio_client.user
    laptop = Client()
    laptop.force_login(user)
    FrontDeskFactory()  # someone else's sessions never show
    page = physio_client.get(reverse("security")).content.decode()
    assert page.count('name="session" value="') == 2  # "End" for the other one, "End all other sessions"
    assert "This session" in page
    assert laptop.cookies["sessionid"].value not in page  # the key itself never reaches a page
    other = next(
        row
        for row in StaffSession.objects.filter(user=user)
        if row.session_key != physio_client.session.session_key
    )
    response = physio_client.post(reverse("end_session"), {"session": sessions.handle(other.session_key)})
    assert response.status_code == 302
    assert laptop.get(reverse("home")).status_code == 302
    assert physio_client.get(reverse("home")).status_code == 200


def test_end_all_other_sessions(physio_client):
    user = physio_client.user
    others = [Client() for _ in range(3)]
    for other in others:
        other.force_login(user)
    physio_client.post(reverse("end_session"), {"session": "others"})
    assert StaffSession.objects.filter(user=user).count() == 1
    assert all(other.get(reverse("home")).status_code == 302 for other in others)


def test_nobody_ends_someone_elses_session_by_its_handle(physio_client):
    victim = PhysioFactory()
    victim_client = Client()
    victim_client.force_login(victim)
    handle = sessions.handle(victim_client.session.session_key)
    physio_client.post(reverse("end_session"), {"session": handle})
    assert victim_client.get(reverse("home")).status_code == 200


# --- caching ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["/", "/patients/", "/patients/?q=a", "/appointments/", "/sessions/my-day/"])
def test_signed_in_pages_are_never_stored(physio_client, url):
    response = physio_client.get(url)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_charts_and_needling_sessions_are_never_stored(physio_client):
    from tests.factories import NeedlingSessionFactory

    session = NeedlingSessionFactory(clinician=physio_client.user)
    for url in [
        reverse("patients:chart", args=[session.patient_id]),
        reverse("treatments:session", args=[session.pk]),
    ]:
        response = physio_client.get(url)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
