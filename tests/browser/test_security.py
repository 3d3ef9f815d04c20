"""Issue 12 in a real browser: enrolling an authenticator at first login and logging in with its code, the
Content-Security-Policy holding on every role's main pages (a page that logs a violation fails), and a form
typed into before the session timed out filled again after logging back in."""

import base64
import time

import pytest
from django.contrib.sessions.backends.base import SessionBase
from django.urls import reverse
from django_otp.oath import TOTP
from playwright.sync_api import expect

from accounts import sessions
from accounts.models import Role, StaffSession
from accounts.navigation import entries_for
from tests.factories import (
    TEST_PASSWORD,
    AdminFactory,
    ConsentFormFactory,
    FrontDeskFactory,
    ManagerFactory,
    NeedlingSessionFactory,
    PatientFactory,
    PhysioFactory,
    give_authenticator,
    give_consent,
    totp_code,
)
from treatments.models import NeedlingSession

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def catalogue():
    from treatments.catalogue import ensure_catalogue

    ensure_catalogue()


@pytest.fixture
def csp_violations(page):
    """Every Content-Security-Policy violation the page reports, from the console and from the
    securitypolicyviolation event."""
    found = []
    page.on(
        "console",
        lambda message: found.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', function (e) {"
        "  (window.__csp = window.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI); });"
    )

    def collect():
        return found + (page.evaluate("window.__csp || []") or [])

    return collect


def type_password(page, user):
    page.goto("/login/")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()


# --- enrolment and login with a code ---------------------------------------------------------------------
def test_a_physio_enrols_an_authenticator_at_first_login_then_logs_in_with_its_code(page, csp_violations):
    physio = PhysioFactory(full_name="Priya Natarajan")
    type_password(page, physio)
    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    expect(page.get_by_test_id("qr-code").locator("svg")).to_be_visible()
    assert page.get_by_test_id("whoami").count() == 0  # no navigation before the second factor
    secret = page.get_by_test_id("totp-secret").inner_text()
    code = f"{TOTP(base64.b32decode(secret + '=' * (-len(secret) % 8))).token():06d}"
    page.get_by_label("Code from the app").fill(code)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    page.get_by_role("link", name="I have kept them: continue").click()
    expect(page.get_by_test_id("whoami")).to_contain_text("Priya Natarajan")

    page.get_by_role("button", name="Log out").click()
    type_password(page, physio)
    expect(page.get_by_role("heading", name="One more step")).to_be_visible()
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("That code does not match")).to_be_visible()
    from django_otp.plugins.otp_totp.models import TOTPDevice

    page.get_by_label("Code").fill(totp_code(TOTPDevice.objects.get(user=physio)))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_test_id("whoami")).to_contain_text("Priya Natarajan")
    assert csp_violations() == []


def test_the_front_desk_logs_in_with_a_password_alone_unless_the_clinic_requires_more(page, settings):
    desk = FrontDeskFactory(full_name="Maria Santos")
    type_password(page, desk)
    expect(page.get_by_test_id("whoami")).to_contain_text("Maria Santos")


# --- the Content-Security-Policy on every role's pages -----------------------------------------------------
@pytest.mark.parametrize("role", Role.values)
def test_no_page_of_any_role_logs_a_csp_violation(page, log_in, csp_violations, role):
    ConsentFormFactory()
    patient = PatientFactory()
    give_consent(patient)
    factories = {
        Role.PHYSIO: PhysioFactory,
        Role.FRONT_DESK: FrontDeskFactory,
        Role.MANAGER: ManagerFactory,
        Role.ADMIN: AdminFactory,
    }
    user = factories[role]()
    session = NeedlingSessionFactory(
        patient=patient, clinician=user if role == Role.PHYSIO else PhysioFactory()
    )
    log_in(user)
    urls = ["/", reverse("security"), reverse("recovery_codes")] + [
        entry["url"] for entry in entries_for(user)
    ]
    if role in (Role.PHYSIO, Role.ADMIN, Role.FRONT_DESK):
        urls.append(reverse("patients:chart", args=[patient.pk]))
    if role in (Role.PHYSIO, Role.ADMIN):
        urls.append(reverse("treatments:session", args=[session.pk]))
    if role == Role.PHYSIO:
        urls.append(reverse("consent:obtain", args=[patient.pk]))
    if role == Role.ADMIN:
        urls += ["/admin/", "/admin/accounts/user/", f"/admin/accounts/user/{user.pk}/change/"]
    for url in urls:
        response = page.goto(url)
        assert response.status < 400, url
        page.wait_for_load_state("networkidle")
        assert csp_violations() == [], url
        assert "no-store" in response.headers.get("cache-control", ""), url
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert (
            "unsafe-inline"
            not in response.headers["content-security-policy"].split("script-src")[1].split(";")[0]
        )


def test_an_inline_script_would_be_caught(page, log_in, csp_violations, live_server):
    """The check above can fail: a page carrying an inline script logs a violation."""
    log_in(FrontDeskFactory())
    page.goto("/")
    page.evaluate(
        "var s = document.createElement('script'); s.textContent = 'window.ran = 1';"
        " document.body.appendChild(s)"
    )
    page.wait_for_timeout(200)
    assert any("script" in violation for violation in csp_violations())
    assert page.evaluate("window.ran") is None


# --- a timed-out session keeps what was typed ------------------------------------------------------------
def expire_session_of(user, idle_minutes):
    """As if the person had left the page alone for longer than the idle limit."""
    for row in StaffSession.objects.filter(user=user):
        store = sessions.SessionStore(session_key=row.session_key)
        store[sessions.LAST_SEEN] = int(time.time() - (idle_minutes + 1) * 60)
        store.save()
    assert issubclass(sessions.SessionStore, SessionBase)


def test_a_draft_typed_before_the_session_timed_out_is_back_after_logging_in(page, log_in, settings):
    settings.SESSION_IDLE_MINUTES = 30
    physio = PhysioFactory()
    give_authenticator(physio)
    draft = NeedlingSessionFactory(clinician=physio)
    log_in(physio)
    page.goto(reverse("treatments:session", args=[draft.pk]))
    complaint = page.get_by_label("Presenting complaint")
    complaint.fill("Left shoulder pain since March, worse at night")

    expire_session_of(physio, 30)
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_test_id("session-ended")).to_contain_text("idle for more than 30 minutes")
    assert NeedlingSession.objects.get(pk=draft.pk).presenting_complaint == ""

    page.get_by_label("E-mail").fill(physio.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("Code").fill(totp_code(give_authenticator(physio)))
    page.get_by_role("button", name="Verify").click()

    expect(page.get_by_test_id("draft-restored")).to_be_visible()
    expect(page.get_by_label("Presenting complaint")).to_have_value(
        "Left shoulder pain since March, worse at night"
    )
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_load_state("networkidle")
    assert NeedlingSession.objects.get(pk=draft.pk).presenting_complaint.startswith("Left shoulder pain")
    # Saved: the kept copy is gone, nothing is restored again.
    page.goto(reverse("treatments:session", args=[draft.pk]))
    expect(page.get_by_test_id("draft-restored")).to_have_count(0)


def test_a_timed_out_htmx_request_takes_the_whole_page_to_the_login(page, log_in, settings):
    settings.SESSION_IDLE_MINUTES = 30
    ConsentFormFactory()
    physio = PhysioFactory()
    draft = NeedlingSessionFactory(clinician=physio)
    give_consent(draft.patient)
    log_in(physio)
    page.goto(reverse("treatments:session", args=[draft.pk]))
    expire_session_of(physio, 30)
    page.get_by_label("Muscle").select_option(index=1)
    page.locator("#point-form").get_by_role("button", name="Add point").click()
    page.wait_for_url(f"**/login/?next=/sessions/{draft.pk}/&ended=idle")
    expect(page.get_by_test_id("session-ended")).to_be_visible()


# --- passkeys, with Chromium's virtual authenticator -------------------------------------------------------
def test_a_passkey_is_added_from_the_security_page_and_then_passes_the_second_factor(page, log_in):
    from django_otp_webauthn.models import WebAuthnCredential

    from audit.models import Action, AuditEvent

    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    physio = PhysioFactory(full_name="Priya Natarajan")
    log_in(physio)
    page.goto(reverse("security"))
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.locator("#passkey-register-status-message")).not_to_be_empty(timeout=30000)
    for _ in range(100):
        if WebAuthnCredential.objects.filter(user=physio).exists():
            break
        page.wait_for_timeout(100)
    assert WebAuthnCredential.objects.filter(user=physio).count() == 1
    assert AuditEvent.objects.filter(
        action=Action.MFA_ENROL, actor=physio, detail="passkey registered"
    ).exists()

    page.get_by_role("button", name="Log out").click()
    type_password(page, physio)
    page.get_by_role("button", name="Use a passkey instead").click()
    # The ceremony is two requests and the authenticator's signature: slower than a page on a busy machine.
    expect(page.get_by_test_id("whoami")).to_contain_text("Priya Natarajan", timeout=30000)
    assert AuditEvent.objects.filter(action=Action.MFA_VERIFY, actor=physio, detail="passkey").exists()
