"""The desk at check-out, in a real browser (issue 15 part 4b): a mistyped amount is refused with its
message, the visit is marked paid at the type's fee, and the receipt PDF downloads with what the
patient's insurer asks for."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from appointments.models import AppointmentType, Payment
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    FrontDeskFactory,
    PatientFactory,
    PhysioFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_desk_marks_a_visit_paid_and_downloads_the_receipt(page, log_in):
    kind = AppointmentTypeFactory(name="IMS follow-up", default_minutes=30)
    AppointmentType.objects.filter(pk=kind.pk).update(fee=Decimal("95.00"))
    therapist = PhysioFactory(full_name="Priya Natarajan", clinician_profile__registration_number="PT-777")
    visit = AppointmentFactory(
        patient=PatientFactory(given_name="Jane", family_name="Doe"),
        therapist=therapist,
        type=AppointmentType.objects.get(pk=kind.pk),
        status="arrived",
    )
    log_in(FrontDeskFactory())
    page.goto(f"/appointments/{visit.pk}/")
    amount = page.get_by_label("Amount ($)")
    expect(amount).to_have_value("95.00")

    amount.fill("95.001")
    page.get_by_label("Method").select_option(label="Debit")
    page.get_by_role("button", name="Mark paid").click()
    expect(page.get_by_test_id("pay-form")).to_contain_text("at most two decimals")
    assert not Payment.objects.exists()

    page.get_by_label("Amount ($)").fill("95.00")
    page.get_by_label("Method").select_option(label="Debit")
    page.get_by_role("button", name="Mark paid").click()
    paid = Payment.objects.get()
    expect(page.get_by_test_id("payment")).to_contain_text(f"Receipt {paid.receipt_number}")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Receipt PDF").click()
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(download_info.value.path()).pages)
    for expected in (
        "Jane Doe",
        "Priya Natarajan",
        "registration number PT-777",
        "IMS follow-up",
        "$95.00 CAD",
    ):
        assert expected in text, expected
    assert f"Receipt {paid.receipt_number}" in text
