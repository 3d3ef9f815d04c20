"""The chart's latest sessions are read with one fixed SQL statement as plain values
(treatments.selectors.latest_sessions_of, issue 17). It must show what the ORM query it replaced showed:
the same sessions in the same order, each with its clinician as written, its follow-up, the body regions of
its needled points (not a point removed as entered in error), its side effects in the order recorded, and
how many sessions the patient has in all."""

from datetime import timedelta

import pytest
from django.db.models import Exists, OuterRef
from django.utils import timezone

from tests.factories import (
    NeedlingSessionFactory,
    PatientFactory,
    PhysioFactory,
    give_consent,
    muscle,
    needle,
)
from treatments.chart import follow_up_badge
from treatments.models import FollowUp, NeedlingSession, PointRemoval, SideEffect
from treatments.selectors import latest_sessions_of
from treatments.services import add_point, remove_point

pytestmark = pytest.mark.django_db


def orm_latest_sessions(patient, limit):
    """The ORM reading latest_sessions_of() replaced, each session as the chart shows it."""
    sessions = (
        NeedlingSession.objects.filter(patient=patient)
        .select_related("clinician", "follow_up")
        .order_by("-started_at", "-id")[:limit]
    )
    total = NeedlingSession.objects.filter(patient=patient).count()
    shown = []
    for session in sessions:
        removed = PointRemoval.objects.filter(point=OuterRef("pk"))
        regions = list(
            session.points.filter(~Exists(removed))
            .order_by("muscle__body_region")
            .values_list("muscle__body_region", flat=True)
        )
        effects = list(session.side_effects.order_by("recorded_at", "id").values_list("type", "severity"))
        follow_up = getattr(session, "follow_up", None)
        shown.append(
            (
                session.pk,
                session.started_at,
                session.pain_before,
                session.pain_after,
                session.signed_at,
                session.review_on,
                str(session.clinician),
                follow_up_badge(follow_up),
                follow_up.warning_signs if follow_up else None,
                regions,
                len(regions),
                [kind for kind, _severity in effects],
                [severity for _kind, severity in effects],
                total,
            )
        )
    return shown


def values(patient, limit):
    return [
        (
            s.pk,
            s.started_at,
            s.pain_before,
            s.pain_after,
            s.signed_at,
            s.review_on,
            s.clinician,
            follow_up_badge(s.follow_up),
            s.follow_up.warning_signs if s.follow_up else None,
            s.point_regions,
            s.point_count,
            s.effect_types,
            s.effect_severities,
            s.patient_sessions,
        )
        for s in latest_sessions_of(patient.pk, limit=limit)
    ]


@pytest.fixture
def history(clinician, patient):
    """A patient's varied sessions: points in several regions (one removed as entered in error), side
    effects recorded out of id order, follow-ups answered (with warning signs) and not, a clinician with no
    full name, two sessions started at the same time, pain and review dates set or not; and another
    patient's session. The patient was screened today, so points may be added."""
    give_consent(patient, by=clinician)
    nameless = PhysioFactory(full_name="")
    now = timezone.now().replace(microsecond=0)
    made = [
        NeedlingSessionFactory(
            patient=patient,
            clinician=nameless if n % 3 == 1 else clinician,
            started_at=now - timedelta(days=n // 2 * 3),  # pairs started at the same time
            pain_before=None if n == 2 else n % 11,
            pain_after=None if n % 4 == 0 else (n + 3) % 11,
            review_on=(now + timedelta(days=n)).date() if n % 5 == 0 else None,
        )
        for n in range(7)
    ]
    size = needle("0.30", 50)
    for session, names in (
        (made[0], ["Soleus", "Upper trapezius", "Gluteus medius"]),
        (made[3], ["Upper trapezius"]),
        (made[5], ["Soleus", "Soleus"]),
    ):
        by = session.clinician
        for name in names:
            add_point(session, by=by, muscle=muscle(name), side="R", needle_size=size, depth_mm=15)
    remove_point(made[5].points.first(), by=made[5].clinician, reason="Entered in error")
    later = SideEffect.objects.create(session=made[0], type="bruising", severity="mild")
    SideEffect.objects.create(session=made[0], type="pain_after", severity="significant")
    SideEffect.objects.filter(pk=later.pk).update(recorded_at=now + timedelta(hours=1))
    SideEffect.objects.create(session=made[4], type="fainting", severity="serious")
    FollowUp.objects.create(session=made[0], sent_at=now)
    FollowUp.objects.create(
        session=made[1], sent_at=now, answered_at=now, soreness=5, bruising=True, chest_pain=True
    )
    FollowUp.objects.create(
        session=made[2], sent_at=now, answered_at=now, soreness=0, bruising=False, short_of_breath=True
    )
    NeedlingSessionFactory(patient=PatientFactory(), clinician=clinician, started_at=now)  # another's
    return patient


@pytest.mark.parametrize("limit", [1, 2, 5, 25])
def test_the_latest_sessions_read_as_values_are_the_orm_query_they_replaced(history, limit):
    read = values(history, limit)
    assert read == orm_latest_sessions(history, limit)
    assert len(read) == min(limit, 7)


def test_the_varied_history_shows_what_it_was_made_to_show(history):
    """The fixture holds what the comparison is meant to cover (so the comparison cannot pass on nothing)."""
    read = {s.pk: s for s in latest_sessions_of(history.pk, limit=25)}
    assert sorted(len(s.point_regions) for s in read.values()) == [0, 0, 0, 0, 1, 1, 3]
    assert sum(1 for s in read.values() if s.clinician.endswith("@clinic.test")) == 2
    assert any(s.follow_up and s.follow_up.warning_signs == ["chest pain"] for s in read.values())
    assert any(s.effect_types == ["pain_after", "bruising"] for s in read.values())
    assert {s.patient_sessions for s in read.values()} == {7}


def test_a_patient_without_sessions_has_none():
    assert latest_sessions_of(PatientFactory().pk, limit=25) == []
