"""Issue 14 part 5: each role's main flow done with the keyboard alone: Tab / Shift+Tab to reach a control,
Enter, Space and the arrow keys to use it, typed text; no click, no fill, no select_option. The one
exception is the patient's signature on the consent pad: it is the patient's own hand on the screen, not
something the staff member does. A control that Tab never reaches fails the test that needs it."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from appointments.models import Appointment
from consent.models import ConsentRecord, Region
from patients.models import Patient
from tests.browser.test_consent_physio import draw_signature
from tests.factories import (
    TEST_PASSWORD,
    AppointmentFactory,
    AppointmentTypeFactory,
    ConsentFormFactory,
    FrontDeskFactory,
    LocationFactory,
    ManagerFactory,
    PatientFactory,
    PhysioFactory,
    ScreeningFactory,
    WorkingHoursFactory,
    give_authenticator,
    muscle,
    totp_code,
)
from treatments.models import NeedlingSession

pytestmark = pytest.mark.django_db(transaction=True)
FOCUSED = "el => el === document.activeElement"
# The target comes before the focused element in the page.
BEFORE_FOCUS = (
    "el => document.activeElement !== document.body && "
    "!!(el.compareDocumentPosition(document.activeElement) & Node.DOCUMENT_POSITION_FOLLOWING)"
)
OUTLINE = "el => [getComputedStyle(el).outlineStyle, getComputedStyle(el).outlineWidth]"


def tab_to(page, target, *, backwards=None, limit=250):
    """Press Tab until `target` has the focus, or Shift+Tab when it comes before the focus in the page (or
    when told); fail when it never gets it."""
    target.wait_for(state="attached")
    if backwards is None:
        backwards = target.evaluate(BEFORE_FOCUS)
    for _ in range(limit):
        if target.evaluate(FOCUSED):
            return target
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"{'Shift+Tab' if backwards else 'Tab'} never reaches {target}")


def type_into(page, target, text):
    tab_to(page, target)
    page.keyboard.type(text)


def choose(page, select, label):
    """Pick the option whose text starts with `label` in a closed <select> with the arrow keys."""
    tab_to(page, select)
    texts, current = select.evaluate("el => [Array.from(el.options, o => o.text), el.selectedIndex]")
    wanted = next((index for index, text in enumerate(texts) if text.startswith(label)), None)
    assert wanted is not None, f"no option {label!r} in {select}: {texts}"
    for _ in range(abs(wanted - current)):
        page.keyboard.press("ArrowDown" if wanted > current else "ArrowUp")
    assert select.evaluate("el => el.options[el.selectedIndex].text").startswith(label)


def press_on(page, target, key="Enter"):
    tab_to(page, target)
    page.keyboard.press(key)


def log_in(page, user):
    """The login form and the second factor, typed."""
    device = give_authenticator(user)
    page.goto("/login/")
    type_into(page, page.get_by_label("E-mail"), user.email)
    type_into(page, page.get_by_label("Password"), TEST_PASSWORD)
    page.keyboard.press("Enter")
    type_into(page, page.get_by_label("Code"), totp_code(device))
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=whoami]")


@pytest.fixture
def page(browser, live_server):
    """The shared page fixture's, in the en-US locale the typed dates are written for."""
    context = browser.new_context(base_url=live_server.url, accept_downloads=True, locale="en-US")
    context.set_default_timeout(15000)
    yield context.new_page()
    context.close()


@pytest.fixture(autouse=True)
def catalogue():
    from treatments.catalogue import ensure_catalogue

    ensure_catalogue()


def test_every_page_starts_with_a_skip_link_to_the_main_content_and_shows_the_focus(page):
    # The login page puts the cursor in E-mail; the skip link is one Shift+Tab before it.
    page.goto("/login/")
    skip = page.get_by_test_id("skip-link")
    tab_to(page, skip, backwards=True, limit=3)
    log_in(page, ManagerFactory())

    page.goto("/")
    page.keyboard.press("Tab")
    assert skip.evaluate(FOCUSED) and skip.is_visible() and skip.inner_text() == "Skip to main content"
    # The focus is drawn: an outline a sighted keyboard user sees (clinic.css, :focus-visible).
    style, width = skip.evaluate(OUTLINE)
    assert style != "none" and width != "0px"
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")
    # The next Tab goes into the page's content, past the navigation bar.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")
    assert page.evaluate(f"({OUTLINE})(document.activeElement)")[0] != "none"


def test_front_desk_registers_and_books_a_patient_with_the_keyboard(page):
    AppointmentTypeFactory(name="IMS follow-up", default_minutes=30)
    location = LocationFactory()
    dana = PhysioFactory(full_name="Dana Physio")
    for weekday in range(7):
        WorkingHoursFactory(therapist=dana, weekday=weekday, location=location)
    log_in(page, FrontDeskFactory())

    press_on(page, page.get_by_role("link", name="Register a patient").first)
    page.wait_for_url("**/patients/register/")
    type_into(page, page.get_by_label("Given name"), "Zoë")
    type_into(page, page.get_by_label("Family name"), "Côté")
    type_into(page, page.get_by_label("Date of birth"), "1985-04-12")  # the one format (README)
    type_into(page, page.get_by_label("Phone", exact=True), "604 555 0123")
    press_on(page, page.get_by_role("button", name="Register"))
    page.wait_for_selector("[data-testid=chart-number]")
    patient = Patient.objects.get(family_name="Côté")
    assert str(patient.date_of_birth) == "1985-04-12"

    press_on(page, page.get_by_role("navigation").get_by_role("link", name="Book", exact=True))
    page.wait_for_url("**/appointments/book/")
    type_into(page, page.get_by_label("Find the patient"), "cote")
    radio = page.get_by_label(re.compile("Côté, Zo"))
    press_on(page, radio, "Space")
    assert radio.is_checked()
    choose(page, page.get_by_label("Appointment type"), "IMS follow-up")
    choose(page, page.get_by_label("Physiotherapist"), "Dana Physio")
    press_on(page, page.get_by_role("button", name="Find next available"))
    slot = page.get_by_test_id("slot").first
    press_on(page, slot)
    page.wait_for_url("**/appointments/book/?*")
    press_on(page, page.get_by_role("button", name="Book", exact=True))
    page.wait_for_selector("[data-testid=day-title]")
    appointment = Appointment.objects.get()
    assert (appointment.patient, appointment.therapist) == (patient, dana)


def test_physio_obtains_consent_adds_a_point_and_signs_with_the_keyboard(page):
    ConsentFormFactory()
    physio = PhysioFactory(full_name="Priya Natarajan")
    patient = PatientFactory(given_name="Liam", family_name="MacDonald")
    ScreeningFactory(patient=patient)
    start = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0)  # today, as test_my_day
    AppointmentFactory(patient=patient, therapist=physio, start=start)
    log_in(page, physio)

    # My day (the physiotherapist's home page): start the session from the appointment.
    press_on(page, page.get_by_role("navigation").get_by_role("link", name="My day"))
    press_on(page, page.get_by_role("button", name="Start session"))
    page.wait_for_selector("[data-testid=points-section]")
    session = NeedlingSession.objects.get()

    # Consent, from the chart: the decisions by keyboard (Space on each radio), then the patient signs.
    press_on(page, page.get_by_role("heading", level=1).get_by_role("link"))
    press_on(page, page.get_by_role("link", name="Obtain consent"))
    for region in (Region.GENERAL, Region.NECK, Region.MID_BACK):
        choice = page.locator(f"[data-testid=risk][data-region={region}]").get_by_label("Accept")
        press_on(page, choice, "Space")
        assert choice.is_checked()
    draw_signature(page)  # the patient's hand on the pad
    press_on(page, page.get_by_role("button", name="Save signed consent"))
    page.wait_for_selector("[data-testid=decisions]")
    assert ConsentRecord.objects.filter(patient=patient).count() == 1

    # Back to the session through My day.
    press_on(page, page.get_by_role("navigation").get_by_role("link", name="My day"))
    press_on(page, page.get_by_role("link", name="Continue session"))
    page.wait_for_selector("[data-testid=points-section]")

    # A point: the body chart's region by Tab and Enter loads the form there; the selects by arrow keys.
    gluteus = muscle("Gluteus medius")
    zone = page.locator(f"a.chart-zone[data-region={gluteus.body_region}][data-side=R]")
    press_on(page, zone)
    page.locator(f"#point-form input[name=region][value={gluteus.body_region}]").wait_for(state="attached")
    form = page.locator("#point-form")
    expect(form.get_by_label("Muscle")).to_be_focused()
    choose(page, form.get_by_label("Muscle"), "Gluteus medius")
    choose(page, form.get_by_label("Side"), "Right")
    choose(page, form.get_by_label("Needle size"), "0.30 x 60 mm")
    type_into(page, form.locator("#id_depth_mm"), "40")
    choose(page, form.get_by_label("Twitch response"), "Single")
    choose(page, form.get_by_label("Patient response"), "Referred pain")
    press_on(page, form.get_by_role("button", name="Add point"))
    page.get_by_test_id("point-row").first.wait_for()
    assert session.points.count() == 1

    # The assessment, typed; the boxes ticked with Space; saved, then signed, with Enter.
    for label, text in (
        ("Presenting complaint", "Right buttock pain for 3 months"),
        ("Pain before (NRS 0-10)", "6"),
        ("Impression", "Myofascial pain, gluteus medius"),
        ("Plan", "IMS weekly x4"),
        ("Pain after (NRS 0-10)", "3"),
        ("Immediate response", "Hip flexion eased"),
        ("Needles in", "1"),
        ("Needles out", "1"),
    ):
        type_into(page, page.get_by_label(label), text)
    for label in (
        "Screening reviewed with the patient",
        re.compile("heat and hydration"),
        re.compile("warning signs"),
        "Sharps disposed",
    ):
        box = page.get_by_label(label)
        press_on(page, box, "Space")
        assert box.is_checked()
    press_on(page, page.get_by_role("button", name="Save draft"))
    page.get_by_text("Session saved.").wait_for()
    press_on(page, page.get_by_role("button", name="Sign session"))
    page.get_by_text("Session signed.").wait_for()
    session.refresh_from_db()
    assert session.signed_at is not None and session.signed_by == physio


def test_manager_downloads_an_export_with_the_keyboard(page):
    log_in(page, ManagerFactory())
    press_on(page, page.get_by_role("navigation").get_by_role("link", name="Exports", exact=True))
    page.wait_for_url("**/reports/exports/")
    today = timezone.localdate()
    # The dates typed as the browser's en-US date field takes them: month, day, year.
    type_into(page, page.locator("#id_start"), f"{today.replace(day=1):%m%d%Y}")
    type_into(page, page.locator("#id_end"), f"{today:%m%d%Y}")
    press_on(page, page.get_by_role("button", name="Apply"))
    page.wait_for_url("**/reports/exports/?*")
    csv = page.get_by_test_id("export-links").get_by_role("link", name="CSV").first
    tab_to(page, csv)
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert download.value.suggested_filename.endswith(".csv")
    # Shift+Tab walks back to the filters.
    tab_to(page, page.get_by_role("button", name="Apply"), backwards=True)
