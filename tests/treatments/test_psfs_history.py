"""psfs_history() reads the scorings with fixed SQL (treatments/outcomes.py PSFS_HISTORY_SQL): it must give
exactly what the ORM's definition gives (this patient's PSFS scorings, newest `limit` by scoring time then
id, shown oldest first, each with its items in the order named), whatever the fixtures, in one query."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Prefetch
from django.utils import timezone

from tests.factories import NeedlingSessionFactory, PatientFactory
from treatments.models import OutcomeItem, OutcomeKind, OutcomeMeasure
from treatments.outcomes import psfs_history

pytestmark = pytest.mark.django_db


def by_the_orm(patient_id, limit=None):
    """The definition, as the ORM wrote it before the fixed SQL: [(id, scored_at, score, session, items)]."""
    measures = OutcomeMeasure.objects.filter(patient_id=patient_id, kind=OutcomeKind.PSFS).order_by(
        "-scored_at", "-id"
    )
    if limit:
        measures = measures[:limit]
    measures = measures.prefetch_related(Prefetch("items", queryset=OutcomeItem.objects.order_by("order")))
    return [
        (m.pk, m.scored_at, m.score, m.session_id, [(i.activity, i.score) for i in m.items.all()])
        for m in reversed(list(measures))
    ]


def as_tuples(scorings):
    return [(s.pk, s.scored_at, s.score, s.session_id, s.items) for s in scorings]


def scoring(patient, by, at, items, session=None):
    """A scoring at `at` with `items` [(order, activity, score)], inserted in the order given."""
    measure = OutcomeMeasure.objects.create(
        patient=patient, session=session, scored_at=at, recorded_by=by, score=Decimal("5.00")
    )
    for order, activity, score in items:
        OutcomeItem.objects.create(measure=measure, order=order, activity=activity, score=score)
    return measure


@pytest.fixture
def history(clinician, patient):
    """Scorings out of time order, two at the very same moment, items inserted out of order, one at a
    session, one with no items; and another patient's scorings, which must never show."""
    now = timezone.now()
    session = NeedlingSessionFactory(patient=patient, clinician=clinician)
    scoring(patient, clinician, now - timedelta(days=3), [(2, "Stairs", 4), (1, "Running", 2)])
    scoring(patient, clinician, now - timedelta(days=10), [(1, "Kneeling", 0)])
    scoring(patient, clinician, now - timedelta(days=1), [(1, "Running", 6)], session=session)
    scoring(
        patient, clinician, now - timedelta(days=1), [(3, "Golf", 9), (1, "Running", 7), (2, "Stairs", 5)]
    )
    scoring(patient, clinician, now - timedelta(days=5), [])
    other = PatientFactory()
    scoring(other, clinician, now, [(1, "Swimming", 3)])
    return patient


@pytest.mark.parametrize("limit", [None, 1, 2, 3, 5, 24])
def test_the_fixed_sql_gives_what_the_orm_gives(history, limit):
    expected = by_the_orm(history.pk, limit)
    assert as_tuples(psfs_history(history.pk, limit=limit)) == expected
    assert len(expected) == min(limit or 5, 5)


def test_a_patient_with_no_scoring_has_none(patient):
    assert psfs_history(patient.pk) == [] == by_the_orm(patient.pk)


def test_it_is_one_query(history, django_assert_num_queries):
    with django_assert_num_queries(1):
        psfs_history(history.pk, limit=24)
