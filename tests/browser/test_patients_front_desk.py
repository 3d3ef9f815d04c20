import re

import pytest
from playwright.sync_api import expect

from patients.models import Patient
from tests.factories import FrontDeskFactory, PatientFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_front_desk_registers_a_patient_and_finds_them_by_name_fragment_and_phone(page, log_in):
    PatientFactory(given_name="Liam", family_name="MacDonald", phone="+12505554321")
    log_in(FrontDeskFactory())

    page.get_by_role("link", name="Register a patient").first.click()
    page.get_by_label("Given name").fill("Zoë")
    page.get_by_label("Family name").fill("Côté")
    page.get_by_label("Date of birth").fill("1985-04-12")
    page.get_by_label("Phone", exact=True).fill("604 555 0123")
    page.get_by_label("E-mail").fill("zoe.cote@example.ca")
    page.get_by_label("BC Personal Health Number").fill("9698 658 215")
    page.get_by_role("button", name="Register").click()

    page.wait_for_selector("[data-testid=chart-number]")
    chart_number = Patient.objects.get(family_name="Côté").chart_number
    assert page.get_by_test_id("chart-number").inner_text() == chart_number
    assert "registered as chart" in page.content()

    # The front desk's home page: the results follow the typing, without pressing Search.
    page.goto("/")
    search = page.get_by_label("Find a patient")
    search.press_sequentially("cot", delay=40)
    results = page.get_by_test_id("patient-results")
    results.get_by_role("link", name=re.compile("Côté")).wait_for()
    assert "MacDonald" not in results.inner_text()

    search.fill("")
    search.press_sequentially("0123", delay=40)
    # A locator wait, not wait_for_function: the page's Content-Security-Policy forbids the eval() it uses.
    expect(page.get_by_test_id("patient-results")).to_contain_text(chart_number)
    assert "MacDonald" not in page.get_by_test_id("patient-results").inner_text()

    page.get_by_test_id("patient-results").get_by_role("link", name=re.compile("Côté")).click()
    page.wait_for_selector("[data-testid=chart-number]")
    assert "(604) 555-0123" in page.content()


def test_a_bad_phn_shows_the_message_and_saves_nothing(page, log_in):
    log_in(FrontDeskFactory())
    page.goto("/patients/register/")
    page.get_by_label("Given name").fill("Amélie")
    page.get_by_label("Family name").fill("Bélanger")
    page.get_by_label("Date of birth").fill("1990-02-03")
    page.get_by_label("BC Personal Health Number").fill("9698658216")
    page.get_by_role("button", name="Register").click()
    assert page.get_by_text("the check digit does not match").is_visible()
    assert not Patient.objects.exists()


def test_a_possible_duplicate_is_shown_and_needs_register_anyway(page, log_in):
    existing = PatientFactory(given_name="José", family_name="Nguyễn", date_of_birth="1990-07-03")
    log_in(FrontDeskFactory())
    page.goto("/patients/register/")
    page.get_by_label("Given name").fill("jose")
    page.get_by_label("Family name").fill("NGUYEN")
    page.get_by_label("Date of birth").fill("1990-07-03")
    page.get_by_role("button", name="Register").click()
    warning = page.get_by_test_id("duplicate-warning")
    assert existing.chart_number in warning.inner_text()
    assert Patient.objects.count() == 1

    page.get_by_label("Register anyway").check()
    page.get_by_role("button", name="Register").click()
    page.wait_for_selector("[data-testid=chart-number]")
    assert Patient.objects.count() == 2
