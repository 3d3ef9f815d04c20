"""Issue 14 part 5: every main page of every role passes axe-core with no serious or critical violation.

axe-core runs in the page itself (axe-playwright-python ships axe.min.js in its wheel: nothing is fetched).
Each page is one test, named after the role and the page, so a failure says where. The people are logged
in by their session cookie (password and second factor passed, as tests/conftest.py's Client does), which
is quicker than typing the form for each page; the login and second-factor pages are checked as pages.
"""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.utils import timezone

from consent.models import ConsentRecord
from tests.conftest import Client
from tests.factories import (
    AdminFactory,
    AppointmentFactory,
    AppointmentTypeFactory,
    FrontDeskFactory,
    LocationFactory,
    ManagerFactory,
    NeedlingSessionFactory,
    PatientFactory,
    PhysioFactory,
    ScreeningFactory,
    WorkingHoursFactory,
    complete_session,
    give_consent,
    muscle,
    needle,
)

pytestmark = pytest.mark.django_db(transaction=True)

BLOCKING = ("serious", "critical")
AXE = Axe()


@dataclass
class Clinic:
    physio: object
    front_desk: object
    manager: object
    administrator: object
    patient: object
    consent: object
    draft: object
    signed: object
    appointment: object


def build_clinic():
    """One of everything the main pages show: a consented patient with a draft session holding points, a
    signed session, and an appointment tomorrow."""
    from treatments.services import add_point, sign_session

    physio = PhysioFactory(full_name="Priya Natarajan")
    location = LocationFactory()
    AppointmentTypeFactory(name="IMS follow-up", default_minutes=30)
    for weekday in range(7):
        WorkingHoursFactory(therapist=physio, weekday=weekday, location=location)
    patient = PatientFactory(given_name="Zoë", family_name="Côté", email="pat@example.test")
    ScreeningFactory(patient=patient)
    give_consent(patient, by=physio)
    point = {
        "muscle": muscle("Gluteus medius"),
        "side": "R",
        "needle_size": needle("0.30", 60),
        "depth_mm": 40,
        "insertions": 3,
        "twitch_response": "single",
        "patient_response": "familiar",
    }
    signed = NeedlingSessionFactory(patient=patient, clinician=physio)
    add_point(signed, by=physio, **point)
    sign_session(complete_session(signed), by=physio)
    draft = NeedlingSessionFactory(patient=patient, clinician=physio)
    add_point(draft, by=physio, **point)
    appointment = AppointmentFactory(
        patient=patient,
        therapist=physio,
        location=location,
        start=timezone.localtime().replace(second=0, microsecond=0) + timedelta(days=1),
    )
    return Clinic(
        physio=physio,
        front_desk=FrontDeskFactory(full_name="Fran Desk"),
        manager=ManagerFactory(full_name="Mona Manager"),
        administrator=AdminFactory(full_name="Ada Admin"),
        patient=patient,
        consent=ConsentRecord.objects.get(patient=patient),
        draft=draft,
        signed=signed,
        appointment=appointment,
    )


def date_range():
    """The report filters' query for the last four weeks and the next one: the clinic's sessions, its
    appointment tomorrow."""
    today = timezone.localdate()
    return f"start={today - timedelta(days=28):%Y-%m-%d}&end={today + timedelta(days=7):%Y-%m-%d}"


def online_booking_page(clinic):
    """The public booking page with its free times shown: the follow-up made bookable online."""
    from appointments.models import AppointmentType

    AppointmentType.objects.filter(name="IMS follow-up").update(bookable_online=True)
    kind = AppointmentType.objects.get(name="IMS follow-up")
    return f"/book/{clinic.appointment.location_id}/?type={kind.pk}&therapist="


def patient_link(clinic, *, days):
    """The patient's own page for their appointment, `days` after the clinic's (tomorrow's): open to
    changes a week ahead, past the cut-off tomorrow."""
    from appointments.services.online_links import manage_path

    appointment = clinic.appointment
    if days:
        appointment = AppointmentFactory(
            patient=clinic.patient,
            therapist=clinic.physio,
            location=clinic.appointment.location,
            start=clinic.appointment.start + timedelta(days=days),
        )
    return manage_path(appointment)


def waitlist_offer_link(clinic):
    """The link of an offer of the clinic's appointment's time to someone on the waitlist."""
    from appointments.models import WaitlistEntry, WaitlistOffer
    from appointments.services.waitlist import offer_path

    appointment = clinic.appointment
    entry = WaitlistEntry.objects.create(
        given_name="Ana", family_name="Silva", email="ana@example.test", type=appointment.type,
        location=appointment.location,
    )  # fmt: skip
    offer = WaitlistOffer.objects.create(
        entry=entry, freed_by=appointment, therapist=appointment.therapist, location=appointment.location,
        start=appointment.start, end=appointment.end,
    )  # fmt: skip
    return offer_path(offer)


# (role, page name, path from the clinic). Role None: nobody logged in.
PAGES = [
    (None, "login", lambda c: "/login/"),
    (None, "online booking locations", lambda c: "/book/"),
    (None, "online booking page", online_booking_page),
    (None, "password reset", lambda c: "/password/reset/"),
    (None, "404", lambda c: "/no-such-page/"),
    (None, "patient's appointment link", lambda c: patient_link(c, days=6)),
    (None, "patient's appointment link past the cut-off", lambda c: patient_link(c, days=0)),
    (None, "patient's link that does not open", lambda c: "/p/appointment/not-a-token/"),
    (None, "waitlist join", lambda c: "/p/waitlist/join/"),
    (None, "waitlist offer", lambda c: waitlist_offer_link(c)),
    ("physio", "home", lambda c: "/"),
    ("physio", "my day", lambda c: "/sessions/my-day/"),
    ("physio", "patient search", lambda c: "/patients/?q=cote"),
    ("physio", "chart", lambda c: f"/patients/{c.patient.pk}/"),
    ("physio", "screening", lambda c: f"/patients/{c.patient.pk}/screening/"),
    ("physio", "draft session", lambda c: f"/sessions/{c.draft.pk}/"),
    ("physio", "signed session", lambda c: f"/sessions/{c.signed.pk}/"),
    ("physio", "consent obtain", lambda c: f"/consent/patient/{c.patient.pk}/new/"),
    ("physio", "consent record", lambda c: f"/consent/{c.consent.pk}/"),
    ("physio", "day view", lambda c: "/appointments/"),
    ("physio", "security", lambda c: "/account/security/"),
    ("physio", "password change", lambda c: "/password/change/"),
    ("physio", "PSFS scoring", lambda c: f"/sessions/patient/{c.patient.pk}/psfs/"),
    ("front_desk", "home", lambda c: "/"),
    ("front_desk", "patient search", lambda c: "/patients/?q=cote"),
    ("front_desk", "register patient", lambda c: "/patients/register/"),
    ("front_desk", "day view", lambda c: f"/appointments/?date={c.appointment.start.date():%Y-%m-%d}"),
    ("front_desk", "week view", lambda c: f"/appointments/week/{c.physio.pk}/"),
    ("front_desk", "location week", lambda c: "/appointments/week/"),
    ("front_desk", "booking form", lambda c: "/appointments/book/"),
    ("front_desk", "appointment detail", lambda c: f"/appointments/{c.appointment.pk}/"),
    ("front_desk", "reschedule", lambda c: f"/appointments/{c.appointment.pk}/reschedule/"),
    ("front_desk", "waitlist", lambda c: f"/appointments/waitlist/?{waitlist_offer_link(c) and ''}"),
    ("front_desk", "add to waitlist", lambda c: f"/appointments/waitlist/add/?patient={c.patient.pk}"),
    ("front_desk", "edit patient", lambda c: f"/patients/{c.patient.pk}/edit/"),
    ("front_desk", "403", lambda c: "/audit/"),
    ("front_desk", "booked online to verify", lambda c: "/appointments/online/"),
    (
        "front_desk",
        "merge an online booking's record",
        lambda c: f"/appointments/online/{c.patient.pk}/merge/?q=cote",
    ),
    ("manager", "home", lambda c: "/"),
    ("manager", "reports dashboard", lambda c: "/reports/"),
    ("manager", "reports dashboard with figures", lambda c: f"/reports/?{date_range()}"),
    ("manager", "safety report", lambda c: f"/reports/safety/?{date_range()}"),
    ("manager", "exports", lambda c: "/reports/exports/"),
    ("manager", "exports with links", lambda c: f"/reports/exports/?{date_range()}"),
    ("manager", "schedules", lambda c: "/appointments/schedules/"),
    ("manager", "therapist schedule", lambda c: f"/appointments/schedules/{c.physio.pk}/"),
    ("administrator", "home", lambda c: "/"),
    ("administrator", "audit trail", lambda c: "/audit/"),
    ("administrator", "admin index", lambda c: "/admin/"),
    ("administrator", "admin staff list", lambda c: "/admin/accounts/user/"),
    ("administrator", "admin staff change", lambda c: f"/admin/accounts/user/{c.physio.pk}/change/"),
    ("administrator", "admin consent forms", lambda c: "/admin/consent/consentform/"),
    ("administrator", "consent versions", lambda c: "/consent/versions/"),
    ("administrator", "consent version", lambda c: f"/consent/versions/{c.consent.form_id}/"),
    ("administrator", "consent version preview", lambda c: f"/consent/versions/{c.consent.form_id}/preview/"),
    ("administrator", "e-mail outbox", lambda c: "/outbox/"),
    ("administrator", "import", lambda c: "/interop/import/"),
    ("administrator", "FHIR export", lambda c: "/interop/fhir/"),
    (
        "administrator",
        "FHIR export with background exports",
        lambda c: with_exports(c.administrator, "/interop/fhir/"),
    ),
    ("manager", "my exports", lambda c: with_exports(c.manager, "/outbox/exports/")),
    ("administrator", "break-the-glass list", lambda c: "/patients/break-the-glass/"),
    ("administrator", "access report", lambda c: f"/patients/{c.patient.pk}/access/"),
]


def with_exports(user, path):
    """`path`, once `user` has a background export ready, one failed and one queued (outbox/exports.py)."""
    from outbox.models import BackgroundExport

    now = timezone.now()
    common = {"requested_by": user, "kind": "interop.fhir_bulk", "function": "x.y", "roles": [user.role]}
    common |= {
        "filename": "fhir-bulk.zip",
        "content_type": "application/zip",
        "description": "FHIR Bulk Data",
    }
    BackgroundExport.objects.create(
        **common,
        status="done",
        size=2048,
        sha256="a" * 64,
        finished_at=now,
        expires_at=now + timedelta(days=7),
    )
    BackgroundExport.objects.create(**common, status="failed", error="RuntimeError: out of disk")
    BackgroundExport.objects.create(**common)
    return path


def log_in_by_cookie(context, user, base_url):
    """Give the browser the session cookie of a login that passed the password and the second factor."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base_url}])


def blocking_violations(page):
    """axe's serious and critical violations on the page, one line each: rule, targets, help."""
    results = AXE.run(page)
    lines = []
    for violation in results.response["violations"]:
        if violation["impact"] in BLOCKING:
            targets = "; ".join(" ".join(node["target"]) for node in violation["nodes"][:8])
            why = " ".join(violation["nodes"][0].get("failureSummary", "").split())[:300]
            rule = f"{violation['id']} ({violation['impact']})"
            lines.append(f"{rule} at {targets}: {violation['help']} ({why})")
    return lines


def _note_elsewhere(page, request, base_url):
    if not request.url.startswith((base_url, "data:", "blob:")):
        page.elsewhere.append(request.url)


@pytest.fixture
def visit(browser, live_server):
    """visit(role, path_of) builds the clinic, logs the role in and opens the page; returns the page. Every
    request the page makes to another host is refused and listed in page.elsewhere: axe-core comes from
    the wheel, and nothing is fetched from outside."""
    contexts = []

    def visit(role, path_of):
        clinic = build_clinic()
        context = browser.new_context(base_url=live_server.url)
        context.set_default_timeout(15000)
        contexts.append(context)
        if role:
            log_in_by_cookie(context, getattr(clinic, role), live_server.url)
        page = context.new_page()
        page.elsewhere = []
        page.on("request", lambda request: _note_elsewhere(page, request, live_server.url))
        page.goto(path_of(clinic))
        return page

    yield visit
    for context in contexts:
        context.close()


@pytest.mark.parametrize(
    "role,name,path_of",
    PAGES,
    ids=[f"{role or 'anonymous'}-{name}".replace(" ", "_") for role, name, _ in PAGES],
)
def test_page_has_no_serious_accessibility_violation(visit, role, name, path_of):
    page = visit(role, path_of)
    violations = blocking_violations(page)
    assert page.elsewhere == []
    assert not violations, f"{name} ({role or 'nobody logged in'}) at {page.url}:\n" + "\n".join(violations)
    # And nothing runs off the side of a 1280 px screen (the administrator's long menu once did).
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), (
        f"{name} scrolls sideways"
    )


def test_second_factor_pages_have_no_serious_accessibility_violation(browser, live_server):
    """The code page after the password, and the enrolment page of someone with no authenticator yet."""
    from tests.factories import TEST_PASSWORD, give_authenticator

    build_clinic()
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(15000)
    page = context.new_page()
    found = {}
    for user, waits_for in ((PhysioFactory(), "login/code"), (ManagerFactory(), "second-factor")):
        if waits_for == "login/code":
            give_authenticator(user)
        page.goto("/login/")
        page.get_by_label("E-mail").fill(user.email)
        page.get_by_label("Password").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"**/{waits_for}/**")
        found[page.url] = blocking_violations(page)
        context.clear_cookies()
    context.close()
    assert len(found) == 2
    assert not any(found.values()), "\n".join(f"{url}: {lines}" for url, lines in found.items() if lines)
