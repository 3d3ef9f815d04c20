"""A patient's screenings are read with fixed SQL that builds the Screening objects
(patients.selectors.screenings_of, issue 17): the chart's screening panel and flags, and latest_screening()
(the session screen, the point rules). They must be the objects the ORM query they replaced gave: every
answer, who answered it, in the same order (newest answered first, then the latest id), the same cut-off
at `at`, never another patient's."""

from datetime import timedelta

import pytest
from django.utils import timezone

from patients.models import Screening
from patients.selectors import screenings_of
from patients.services import latest_screening
from tests.factories import PatientFactory, PhysioFactory, ScreeningFactory

pytestmark = pytest.mark.django_db


def fields(obj):
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def as_read(screenings):
    return [(fields(s), fields(s.answered_by), str(s.answered_by), s.flags) for s in screenings]


def orm_screenings(patient, at, limit):
    """The ORM query screenings_of() replaced."""
    found = Screening.objects.filter(patient=patient).select_related("answered_by")
    if at is not None:
        found = found.filter(answered_at__lte=at)
    return list(found[:limit])


@pytest.fixture
def answered(patient):
    """Screenings of the patient answered over a year by two physiotherapists (one with no full name),
    with different items answered yes, two at the same moment; and another patient's newer one."""
    now = timezone.now().replace(microsecond=0)
    nameless, other = PhysioFactory(full_name=""), PhysioFactory()
    for days, by, answers in (
        (400, other, {"diabetes": True}),
        (200, nameless, {"pregnancy": True, "pregnancy_note": "20 weeks <b>"}),
        (30, other, {}),
        (30, nameless, {"bleeding_risk": True}),
        (1, other, {"chronic_lung_disease": None}),
    ):
        ScreeningFactory(patient=patient, answered_by=by, answered_at=now - timedelta(days=days), **answers)
    ScreeningFactory(answered_at=now)  # another patient's
    return now


@pytest.mark.parametrize("days_ago", [None, 0, 1, 30, 31, 200, 500])
@pytest.mark.parametrize("limit", [1, 2, 10])
def test_the_screenings_are_the_objects_the_orm_query_gave(patient, answered, days_ago, limit):
    at = None if days_ago is None else answered - timedelta(days=days_ago)
    assert as_read(screenings_of(patient, at=at, limit=limit)) == as_read(orm_screenings(patient, at, limit))


def test_the_varied_screenings_are_all_read(patient, answered, django_assert_num_queries):
    with django_assert_num_queries(1):
        read = screenings_of(patient.pk, limit=10)
        names = [str(s.answered_by) for s in read]  # attached: no query of its own
    assert len(read) == 6  # the fixture's five and the patient's own from today
    assert sum(name.endswith("@clinic.test") for name in names) == 2
    same_moment = [s for s in read if s.answered_at == answered - timedelta(days=30)]
    assert [s.pk for s in same_moment] == sorted((s.pk for s in same_moment), reverse=True)


def test_the_latest_screening_is_the_first_or_none(patient, answered):
    assert latest_screening(patient) == orm_screenings(patient, None, 1)[0]
    cut = answered - timedelta(days=300)
    assert latest_screening(patient.pk, at=cut).answered_at == answered - timedelta(days=400)
    assert latest_screening(patient, at=answered - timedelta(days=401)) is None
    assert latest_screening(PatientFactory()) is None
