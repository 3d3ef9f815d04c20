"""Issue 14 part 4 in a real browser: the administrator's home page tells the truth (every card's link opens
a real page, nothing "not available yet"), the site has a favicon (linked, and at /favicon.ico), and the
audit trail shows the clinic's time zone and finds a patient's events by chart number or name."""

import re
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from audit.models import Action, AuditEvent
from tests.factories import AdminFactory, ConsentFormFactory, PatientFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_card_on_the_administrators_home_page_opens_a_real_page(page, log_in):
    ConsentFormFactory(version="2026.7")
    log_in(AdminFactory())
    cards = page.get_by_test_id("admin-cards")
    assert "Not available yet" not in cards.inner_text()
    assert "Patients sign version 2026.7" in cards.inner_text()
    links = cards.get_by_role("link")
    targets = [(links.nth(n).inner_text(), links.nth(n).get_attribute("href")) for n in range(links.count())]
    assert [name for name, _ in targets] == [
        "Manage staff",
        "Browse the audit trail",
        "Consent form versions",
        "Muscles",
        "Needle sizes",
    ]
    for name, href in targets:
        response = page.goto(href)
        assert response.status == 200, name
        assert page.locator("h1").count() >= 1, name


def test_the_site_has_a_favicon(page, log_in):
    page.goto("/login/")
    icon = page.locator("link[rel=icon]").get_attribute("href")
    linked = page.request.get(icon)
    assert linked.status == 200 and linked.headers["content-type"].startswith("image/svg+xml")
    asked = page.request.get("/favicon.ico")  # what browsers ask for whatever the page links
    assert asked.status == 200 and asked.body()[:4] == b"\x00\x00\x01\x00"
    assert asked.url.endswith("/static/img/favicon.ico")


def test_the_audit_trail_shows_the_clinics_time_and_finds_a_patient_by_chart_number_or_name(page, log_in):
    admin = AdminFactory()
    seen = PatientFactory(given_name="Mina", family_name="Castellanos")
    other = PatientFactory(given_name="Olu", family_name="Adeyemi")
    log_in(admin)
    page.goto(f"/patients/{seen.pk}/")  # the administrator opens a chart: audited with its patient
    page.goto(f"/patients/{other.pk}/")

    page.get_by_role("navigation").get_by_role("link", name="Audit trail", exact=True).click()
    zone = settings.TIME_ZONE
    assert page.get_by_role("columnheader").first.inner_text() == f"When ({zone})"
    assert "UTC" not in page.locator("thead").inner_text()

    page.get_by_label("Patient", exact=True).fill(seen.chart_number)
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"patient="))
    rows = page.locator("tbody tr")
    assert rows.count() >= 1
    texts = rows.all_inner_texts()
    assert all(f"{seen.chart_number} Castellanos, Mina" in text for text in texts)
    event = AuditEvent.objects.filter(action=Action.VIEW, patient_id=seen.pk).latest("id")
    shown = event.at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")
    assert any(text.startswith(shown) for text in texts), (shown, texts)

    page.get_by_label("Patient", exact=True).fill("adeyemi")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"patient=adeyemi"))
    texts = page.locator("tbody tr").all_inner_texts()
    assert texts and all("Adeyemi, Olu" in text for text in texts)
