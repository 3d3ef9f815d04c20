"""The chart of a patient with a long history (issue 17): a constant number of queries whatever the history,
each part of the page read once (patients/chart.py on_chart: the screenings, the latest sessions), and
what a page read once must never do: show stale rows after the data changes, or one patient's rows on
another's chart."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from appointments.models import Appointment, Status
from appointments.selectors import patient_appointments
from patients.chart import on_chart
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    NeedlingSessionFactory,
    PatientFactory,
    PhysioFactory,
    ScreeningFactory,
    give_consent,
    muscle,
    needle,
)
from tests.markup import page_text
from treatments.models import SideEffect
from treatments.outcomes import record_psfs
from treatments.services import add_point

pytestmark = pytest.mark.django_db

# A physiotherapist's chart of a patient with history: session, user and second factor (3), the patient,
# the audit chain (2: the lock and its last hash in one round trip, the insert), the screenings, the
# screening rules (a finding is on file), consent status, consent records, appointments, the latest
# sessions (with their points' regions, side effects and the count of all sessions), the PSFS scorings
# with their items (one), recent activity: 14, and the savepoint and its release around the audit event
# inside the test's transaction.
CHART_QUERIES = 16


def chart(client, patient):
    response = client.get(reverse("patients:chart", args=[patient.pk]))
    assert response.status_code == 200
    return response.content.decode()


def add_history(patient, clinician, sessions, *, days_back=0, points=3):
    """`sessions` sessions a week apart (ending `days_back` days ago), the newest `points` with a point
    (needled before any finding is on file), one with a side effect; appointments past and upcoming; two
    PSFS scorings; a consent."""
    give_consent(patient, by=clinician)
    now = timezone.now() - timedelta(days=days_back)
    made = [
        NeedlingSessionFactory(
            patient=patient,
            clinician=clinician,
            started_at=now - timedelta(days=7 * n + 1),
            pain_before=6,
            pain_after=3,
        )
        for n in range(sessions)
    ]
    for session in made[:points]:
        add_point(session, by=clinician, muscle=muscle("Soleus"), side="R", needle_size=needle("0.30", 50),
                  depth_mm=20)  # fmt: skip
    SideEffect.objects.create(session=made[0], type="bruising", severity="mild")
    for day in range(1, sessions + 1):
        AppointmentFactory(patient=patient, therapist=clinician, start=now + timedelta(days=day))
        AppointmentFactory(patient=patient, therapist=clinician, start=now - timedelta(days=day))
    for score in (3, 6):
        record_psfs(patient=patient, by=clinician, activities=[("Running", score), ("Stairs", score)])
    return made


def test_a_long_history_costs_the_same_queries_as_a_short_one(
    client_for, clinician, patient, django_assert_max_num_queries
):
    add_history(patient, clinician, 22)
    ScreeningFactory(patient=patient, bleeding_risk=True, bleeding_risk_note="Takes warfarin")
    client = client_for(clinician)
    chart(client, patient)  # the user's first page
    with django_assert_max_num_queries(CHART_QUERIES):
        page = chart(client, patient)
    assert "Showing the latest 20 of 22." in page_text(page)
    add_history(patient, clinician, 30, days_back=400, points=0)
    with django_assert_max_num_queries(CHART_QUERIES):
        page = chart(client, patient)
    assert "Showing the latest 20 of 52." in page_text(page)


def test_every_panel_and_warning_is_still_on_a_long_chart(client_for, clinician, patient):
    add_history(patient, clinician, 22)
    ScreeningFactory(patient=patient, bleeding_risk=True, bleeding_risk_note="Takes warfarin")
    page = chart(client_for(clinician), patient)
    for panel in (
        "consent-panel",
        "screening-panel",
        "appointments-panel",
        "sessions-panel",
        "course-of-care",
        "table-course-pain",
        "table-course-psfs",
        "recent-activity",
    ):
        assert f'data-testid="{panel}"' in page, panel
    text = page_text(page)
    assert "Bleeding disorder or anticoagulants" in text and "Consent on file" in text
    assert "Bruising (Mild)" in text and "Calf" in text
    # The forms of the panels carry the CSRF token, and the navigation bar is there.
    assert page.count('name="csrfmiddlewaretoken"') >= 2 and "My day" in text


def test_the_chart_shows_what_changed_since_it_was_last_drawn(client_for, clinician, patient):
    client = client_for(clinician)
    add_history(patient, clinician, 2)
    before = page_text(chart(client, patient))
    assert "Bleeding disorder" not in before and "Bruising (Mild)" in before
    ScreeningFactory(patient=patient, bleeding_risk=True, bleeding_risk_note="Takes warfarin")
    newest = NeedlingSessionFactory(patient=patient, clinician=clinician, pain_before=9, pain_after=1)
    SideEffect.objects.create(session=newest, type="fainting", severity="serious")
    after = chart(client, patient)
    assert "Bleeding disorder or anticoagulants" in page_text(after) and "warfarin" in after
    assert reverse("treatments:session", args=[newest.pk]) in after
    assert "pain 9 →" in page_text(after)


def test_no_patient_sees_another_patients_rows(client_for, clinician, patient):
    other = PatientFactory(given_name="Otto", family_name="Other")
    ScreeningFactory(patient=other)
    others = add_history(other, clinician, 3)
    ScreeningFactory(patient=other, bleeding_risk=True, bleeding_risk_note="Otto's warfarin")
    client = client_for(clinician)
    chart(client, other)
    page = chart(client, patient)
    assert "Otto's warfarin" not in page and "Bleeding disorder" not in page
    assert all(reverse("treatments:session", args=[s.pk]) not in page for s in others)


def test_a_memo_is_kept_per_request_and_per_patient():
    calls = []

    def compute(value):
        return lambda: calls.append(value) or value

    request, later = type("Request", (), {})(), type("Request", (), {})()
    assert on_chart(request, 1, "rows", compute("one")) == "one"
    assert on_chart(request, 1, "rows", compute("again")) == "one"
    assert on_chart(request, 2, "rows", compute("two")) == "two"
    assert on_chart(later, 1, "rows", compute("later")) == "later"
    assert on_chart(None, 1, "rows", compute("no request")) == "no request"
    assert calls == ["one", "two", "later", "no request"]


def orm_patient_appointments(patient, limit):
    """The ORM query patient_appointments() replaced (issue 17), each appointment as the chart shows it."""
    now = timezone.now()
    found = Appointment.objects.filter(patient=patient).select_related("therapist", "type")
    upcoming = found.filter(start__gte=now).order_by("start", "id")[:limit]
    past = found.filter(start__lt=now).order_by("-start", "-id")[:limit]
    return [shown(a) for a in upcoming], [shown(a) for a in past]


def shown(appointment):
    """What the chart's appointments panel shows of one (appointments/_chart_rows.html)."""
    return (
        appointment.pk,
        appointment.start,
        appointment.status,
        appointment.get_status_display(),
        appointment.cancel_reason,
        appointment.type.name,
        str(appointment.therapist),
    )


def test_the_appointments_are_the_ten_soonest_and_the_ten_latest(patient):
    now = timezone.now()
    upcoming = [AppointmentFactory(patient=patient, start=now + timedelta(days=d)) for d in range(12, 0, -1)]
    past = [AppointmentFactory(patient=patient, start=now - timedelta(days=d)) for d in range(1, 13)]
    AppointmentFactory(start=now + timedelta(hours=1))  # someone else's
    soon, before = patient_appointments(patient, limit=10)
    assert [a.pk for a in soon] == [a.pk for a in reversed(upcoming)][:10]
    assert [a.pk for a in before] == [a.pk for a in past][:10]


@pytest.mark.parametrize("limit", [1, 3, 10])
def test_the_appointments_read_as_values_are_the_orm_query_they_replaced(patient, limit):
    """The fixed SQL against the ORM query on varied appointments: statuses with and without a reason,
    a therapist with no full name (shown by e-mail), several types, equal starts (ordered by id),
    another patient's, and none at all on either side."""
    assert patient_appointments(patient, limit=limit) == ([], [])
    now = timezone.now().replace(microsecond=0)
    nameless = PhysioFactory(full_name="")
    other_type = AppointmentTypeFactory(name="IMS initial assessment")
    # A cancelled or missed appointment frees its time: one shares a start with a booked one (by id then).
    AppointmentFactory(patient=patient, start=now + timedelta(days=2), therapist=nameless)
    AppointmentFactory(
        patient=patient,
        start=now + timedelta(days=2),
        type=other_type,
        status=Status.CANCELLED,
        cancel_reason="Ill <b>",
    )
    AppointmentFactory(patient=patient, start=now + timedelta(days=5), status=Status.CONFIRMED)
    AppointmentFactory(patient=patient, start=now - timedelta(days=1), status=Status.NO_SHOW)
    AppointmentFactory(patient=patient, start=now - timedelta(days=9), status=Status.COMPLETED)
    AppointmentFactory(
        patient=patient,
        start=now - timedelta(days=9),
        type=other_type,
        therapist=nameless,
        status=Status.CANCELLED,
        cancel_reason="Rebooked",
    )
    AppointmentFactory(start=now + timedelta(days=1))  # another patient's
    soon, before = patient_appointments(patient, limit=limit)
    values = [shown(a) for a in soon], [shown(a) for a in before]
    assert values == orm_patient_appointments(patient, limit)
    assert len(soon) == min(limit, 3) and len(before) == min(limit, 3)


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.ADMIN])
def test_other_roles_still_get_their_chart(client_for, patient, clinician, role):
    add_history(patient, clinician, 2)
    page = chart(client_for(role), patient)
    assert 'data-testid="appointments-panel"' in page and 'data-testid="consent-panel"' in page
    assert ('data-testid="sessions-panel"' in page) is (role == Role.ADMIN)
