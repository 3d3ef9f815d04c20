"""My day reads its sessions as plain values with fixed SQL (treatments.selectors): the drafts waiting for
the clinician's signature and the session of each appointment must be the very ones the ORM queries they
replaced found, with the same fields, on varied sessions (drafts and signed, the clinician's and a
colleague's, preferred names or none), and the page shows them as before."""

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    AppointmentFactory,
    NeedlingSessionFactory,
    PatientFactory,
    PhysioFactory,
    ScreeningFactory,
    complete_session,
    give_consent,
    muscle,
    needle,
)
from treatments.models import NeedlingSession
from treatments.selectors import drafts_of, sessions_of_appointments
from treatments.services import add_point, sign_session

pytestmark = [pytest.mark.django_db, pytest.mark.clock]


def signed_session(clinician, **fields):
    session = NeedlingSessionFactory(clinician=clinician, **fields)
    ScreeningFactory(patient=session.patient)
    give_consent(session.patient)
    add_point(
        session, by=clinician, muscle=muscle("Gluteus medius"), side="R", needle_size=needle("0.30", 60),
        depth_mm=40,
    )  # fmt: skip
    return sign_session(complete_session(session), by=clinician)


@pytest.fixture
def sessions(clinician):
    """The clinician's 23 drafts over the last days (more than My day lists), two of them started at the
    same moment, one signed session; a colleague's draft; names with a preferred name or none."""
    now = timezone.now()
    for index in range(23):
        NeedlingSessionFactory(
            clinician=clinician,
            started_at=now - timedelta(hours=index // 2 * 7),  # pairs started together
            patient=PatientFactory(
                family_name=f"<b>O'Draft</b> {index}", preferred_name="Peg & Co" if index % 3 else ""
            ),
        )
    signed = signed_session(clinician)
    NeedlingSessionFactory(clinician=PhysioFactory(), started_at=now + timedelta(minutes=10))
    return signed


def as_the_orm_read_the_drafts(clinician, limit):
    return [
        (s.pk, s.started_at, s.patient.family_name, s.patient.display_given_name)
        for s in NeedlingSession.objects.filter(clinician=clinician, signed_at__isnull=True)
        .select_related("patient")
        .order_by("-started_at", "-id")[:limit]
    ]


@pytest.mark.parametrize("limit", [20, 1, 50])
def test_the_drafts_are_the_ones_the_orm_finds_newest_first(sessions, clinician, limit):
    drafts = [
        (d.pk, d.started_at, d.patient.family_name, d.patient.display_given_name)
        for d in drafts_of(clinician, limit=limit)
    ]
    assert drafts == as_the_orm_read_the_drafts(clinician, limit)
    assert len(drafts) == min(limit, 23)
    assert sessions.pk not in {d[0] for d in drafts}  # signed: not a draft


def test_a_clinician_without_drafts_has_none(sessions):
    assert drafts_of(PhysioFactory()) == []


def test_the_drafts_have_a_partial_index_of_their_own():
    """session_draft_idx (migration 0015) holds the drafts alone, by clinician and newest first: the very
    predicate and order of drafts_of(), so the planner can read a clinician's drafts without their signed
    sessions (which plan it picks depends on the table's statistics, so the definition is what is held)."""
    from treatments.selectors import DRAFTS_OF

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'session_draft_idx'")
        (definition,) = cursor.fetchone()
    assert "(clinician_id, started_at DESC)" in definition and definition.endswith(
        "WHERE (signed_at IS NULL)"
    )
    assert (
        "s.clinician_id = %s AND s.signed_at IS NULL" in DRAFTS_OF
        and "ORDER BY s.started_at DESC" in DRAFTS_OF
    )


def test_each_appointment_has_its_own_session_or_none(sessions, clinician):
    tomorrow = timezone.now() + timedelta(days=1)
    with_draft = AppointmentFactory(therapist=clinician, start=tomorrow)
    draft = NeedlingSessionFactory(clinician=clinician, patient=with_draft.patient, appointment=with_draft)
    with_signed = AppointmentFactory(therapist=clinician, start=tomorrow + timedelta(hours=2))
    signed = signed_session(clinician, patient=with_signed.patient, appointment=with_signed)
    without = AppointmentFactory(therapist=clinician, start=tomorrow + timedelta(hours=4))
    ids = [with_draft.pk, with_signed.pk, without.pk]
    found = sessions_of_appointments(ids)
    orm = {
        s.appointment_id: (s.pk, s.appointment_id, s.signed_at)
        for s in NeedlingSession.objects.filter(appointment__in=ids)
    }
    assert {k: (v.pk, v.appointment_id, v.signed_at) for k, v in found.items()} == orm
    assert found[with_draft.pk].pk == draft.pk and found[with_draft.pk].signed_at is None
    assert found[with_signed.pk].pk == signed.pk and found[with_signed.pk].signed_at == signed.signed_at
    assert without.pk not in found


def test_no_appointments_ask_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert sessions_of_appointments([]) == {}


def test_my_day_lists_the_drafts_newest_first_with_the_shown_name_escaped(client, sessions, clinician):
    client.force_login(clinician)
    page = client.get(reverse("treatments:my_day")).content.decode()
    drafts = page[page.index('data-testid="draft-sessions"') :]
    expected = as_the_orm_read_the_drafts(clinician, 20)
    positions = [drafts.index(f'href="{reverse("treatments:session", args=[pk])}"') for pk, *_ in expected]
    assert positions == sorted(positions) and len(positions) == 20
    assert "&lt;b&gt;O&#x27;Draft&lt;/b&gt; 0," in drafts
    assert "Peg &amp; Co" in drafts and "<b>O'Draft</b>" not in page
    assert reverse("treatments:session", args=[sessions.pk]) not in drafts
