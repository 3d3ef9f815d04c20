"""The demo clinic `make run` serves, walked by every role: each page a role's navigation offers, and the
pages those link to for real demo rows (charts, consents, appointments, sessions, their PDFs), answer
without a server error, and exactly the roles DESIGN.md allows get them.

The access walker (tests/accounts/test_access_rules.py) proves the rules on made-up ids; this walks real
rows of every kind, so a page that breaks only on real data (a missing related row, a None in a
template) fails here.
"""

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.demo import DEMO_STAFF
from accounts.models import Role, User
from accounts.navigation import entries_for
from appointments.models import Appointment
from consent.models import ConsentRecord
from patients.models import Patient
from treatments.models import NeedlingSession

# Its outcome depends on the clock: `make test-clock` runs it at awkward instants too.
pytestmark = [pytest.mark.django_db, pytest.mark.clock, pytest.mark.usefixtures("quick_hashing")]

CLINICAL = {Role.PHYSIO, Role.ADMIN}
REGISTRY = {Role.PHYSIO, Role.FRONT_DESK, Role.ADMIN}


@pytest.fixture
def clinic():
    call_command("seed_demo", "--size", "12", "--quiet")
    return {
        role: User.objects.filter(email=email).get()
        for email, _n, role, _r in DEMO_STAFF
        if "intern" not in email
    }


def demo_pages():
    """(url, roles allowed) for one real row of every kind the demo holds."""
    patient = Patient.objects.filter(consents__isnull=False).first()
    signed = NeedlingSession.objects.filter(signed_at__isnull=False).first()
    draft = NeedlingSession.objects.filter(signed_at__isnull=True).first()
    consent = ConsentRecord.objects.first()
    appointment = Appointment.objects.first()
    assert all([patient, signed, draft, consent, appointment]), "the demo clinic lacks a kind of row"
    return [
        (reverse("patients:chart", args=[patient.pk]), REGISTRY),
        (reverse("patients:edit", args=[patient.pk]), REGISTRY),
        (reverse("consent:detail", args=[consent.pk]), CLINICAL),
        (reverse("consent:pdf", args=[consent.pk]), CLINICAL),
        (reverse("treatments:session", args=[signed.pk]), CLINICAL),
        (reverse("treatments:pdf", args=[signed.pk]), CLINICAL),
        (reverse("treatments:session", args=[draft.pk]), CLINICAL),
        (reverse("treatments:pdf", args=[draft.pk]), CLINICAL),
        (reverse("appointments:detail", args=[appointment.pk]), None),
        (reverse("appointments:week", args=[appointment.therapist_id]), None),
        (reverse("appointments:reschedule", args=[appointment.pk]), None),
    ]


GARBAGE = {"date": "2026-02-30", "start": "x", "end": "-1", "next": "99999999999999999999", "q": "\x00"}


@pytest.mark.parametrize("role", [Role.PHYSIO, Role.FRONT_DESK, Role.MANAGER, Role.ADMIN])
def test_every_role_walks_its_navigation_and_the_demo_rows_without_a_server_error(client, clinic, role):
    user = clinic[role]
    client.force_login(user)
    home = client.get("/")
    assert home.status_code == 200
    entries = entries_for(user)
    assert entries, f"{role} has no navigation"
    for entry in entries:
        response = client.get(entry["url"])
        assert response.status_code == 200, f"{role}: {entry['url']} answered {response.status_code}"
    for url, allowed in demo_pages():
        response = client.get(url)
        assert response.status_code < 500, f"{role}: {url} answered {response.status_code}"
        assert client.get(url, GARBAGE).status_code < 500, f"{role}: {url} with garbage in the query"
        if allowed is not None:
            expected = 200 if role in allowed else 403
            assert response.status_code == expected, f"{role}: {url} answered {response.status_code}"


def test_the_demo_has_payments_follow_ups_and_psfs_to_show(client, clinic):
    """`make run` shows the desk's receipts, the desk's follow-ups to phone and the chart's PSFS trend on
    demo rows: payments numbered without gaps up to the counter, follow-ups both answered and not (none
    with a warning sign: those open an incident through the service), and PSFS scorings whose score is
    the mean of their activities, as the service computes it."""
    from appointments.models import Payment, ReceiptCounter
    from treatments.models import FollowUp, OutcomeMeasure
    from treatments.outcomes import psfs_score

    numbers = list(Payment.objects.values_list("receipt_number", flat=True))
    assert numbers, "the demo has no payment"
    assert numbers == list(range(1, len(numbers) + 1))
    assert ReceiptCounter.objects.get().last_number == len(numbers)
    payment = Payment.objects.select_related("appointment").first()
    assert payment.amount == payment.appointment.type.fee
    client.force_login(clinic[Role.FRONT_DESK])
    receipt = client.get(reverse("appointments:receipt", args=[payment.appointment_id, payment.pk]))
    assert receipt.status_code == 200
    assert receipt["Content-Type"] == "application/pdf"

    follow_ups = FollowUp.objects.all()
    assert follow_ups.filter(answered_at__isnull=False).exists()
    assert follow_ups.filter(answered_at__isnull=True).exists()
    assert not follow_ups.filter(short_of_breath=True).exists()
    for follow_up in follow_ups.select_related("session"):
        assert follow_up.session.signed_at < follow_up.sent_at
        assert follow_up.answered_at is None or follow_up.sent_at < follow_up.answered_at

    measures = OutcomeMeasure.objects.prefetch_related("items")
    assert measures.count() >= 2
    for measure in measures:
        scores = [item.score for item in measure.items.all()]
        assert 2 <= len(scores) <= 3
        assert measure.score == psfs_score(scores)
    patient_id = measures.first().patient_id
    client.force_login(clinic[Role.PHYSIO])
    chart = client.get(reverse("patients:chart", args=[patient_id]))
    assert chart.status_code == 200
    assert measures.first().items.first().activity in chart.content.decode()
