"""The session screen reads its session, and (with the visit summary) a session's points and side effects,
with fixed SQL that builds the model objects (treatments.selectors.screen_session, session_points,
session_side_effects; issue 17). They must be the objects the ORM queries they replaced gave: every field
of the session, its patient, clinician and signer; of each point, its muscle, needle size, removal and who
removed it; of each side effect and the incident it opened; in the same order, with nothing left to ask
the database for."""

import pytest
from django.urls import reverse

from accounts.models import Role
from patients.models import Patient
from tests.factories import complete_session, muscle, needle
from treatments.models import NeedlePoint, NeedlingSession, SideEffect
from treatments.selectors import screen_session, session_points, session_side_effects
from treatments.services import add_point, add_side_effect, remove_point, sign_session

pytestmark = pytest.mark.django_db


def fields(obj):
    """Every stored field of a model object, with its model."""
    if obj is None:
        return None
    return (type(obj), {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields})


def point_as_read(point):
    removal = getattr(point, "removal", None)
    return (
        fields(point),
        fields(point.muscle),
        fields(point.needle_size),
        fields(removal),
        fields(removal.removed_by) if removal else None,
        removal.point is point if removal else None,
    )


def effect_as_read(effect):
    incident = getattr(effect, "incident", None)
    return fields(effect), fields(incident), incident.side_effect is effect if incident else None


@pytest.fixture
def varied(consented_draft, clinician):
    """Points in several regions with different needles and sides (two removed as entered in error, the
    second point added is first in order after a removal), and side effects recorded out of id order, one
    significant (which opens an incident)."""
    session = consented_draft
    for name, side, size in (
        ("Soleus", "R", needle("0.30", 50)),
        ("Upper trapezius", "L", needle("0.25", 30)),
        ("Gluteus medius", "R", needle("0.30", 50)),
        ("Soleus", "L", needle("0.30", 60)),
    ):
        add_point(session, by=clinician, muscle=muscle(name), side=side, needle_size=size, depth_mm=18)
    points = list(session.points.order_by("order"))
    remove_point(points[1], by=clinician, reason="Entered on the wrong side")
    remove_point(points[3], by=clinician, reason="Duplicate")
    add_side_effect(session, by=clinician, type="bruising", severity="mild")
    add_side_effect(session, by=clinician, type="fainting", severity="significant", onset="during")
    first = SideEffect.objects.filter(session=session).order_by("id").first()
    SideEffect.objects.filter(pk=first.pk).update(recorded_at=first.recorded_at.replace(year=2099))
    return session


def test_the_points_are_the_objects_the_orm_query_gave(varied, django_assert_num_queries):
    orm = list(
        varied.points.select_related("muscle", "needle_size", "removal", "removal__removed_by").order_by(
            "order"
        )
    )
    with django_assert_num_queries(1):
        read = session_points(varied.pk)
        # Everything the screen and the summary read of them is attached: no further query.
        as_read = [point_as_read(point) for point in read]
    assert as_read == [point_as_read(point) for point in orm]
    assert [getattr(point, "removal", None) is not None for point in orm] == [False, True, False, True]
    assert len({point.needle_size_id for point in read}) == 3


def test_the_side_effects_are_the_objects_the_orm_query_gave(varied, django_assert_num_queries):
    orm = list(varied.side_effects.select_related("incident"))
    with django_assert_num_queries(1):
        read = session_side_effects(varied.pk)
        as_read = [effect_as_read(effect) for effect in read]
    assert as_read == [effect_as_read(effect) for effect in orm]
    assert [effect.type for effect in read] == ["fainting", "bruising"]  # as recorded, not by id
    assert [getattr(effect, "incident", None) is not None for effect in read] == [True, False]


def test_a_session_without_points_or_side_effects_reads_none(draft):
    assert session_points(draft.pk) == [] and session_side_effects(draft.pk) == []
    assert not NeedlePoint.objects.filter(session=draft).exists()


def session_as_read(session):
    # As read (before first use): the phone numbers' text, converted by their field as the ORM converts it.
    stored = type(session.patient.__dict__["phone_alternate"]).__name__
    return (
        stored,
        fields(session),
        fields(session.patient),
        str(session.patient.phone),
        fields(session.clinician),
        fields(session.signed_by),
    )


def orm_session(pk):
    """The ORM query screen_session() replaced."""
    return NeedlingSession.objects.select_related("patient", "clinician", "signed_by").get(pk=pk)


def test_the_screen_session_is_the_object_the_orm_query_gave(varied, clinician, django_assert_num_queries):
    """A draft (no signer) and the same session signed, with a patient whose phone numbers (converted by
    their field when read) are set."""
    Patient.objects.filter(pk=varied.patient_id).update(phone_alternate="+16045550199")
    with django_assert_num_queries(1):
        draft = session_as_read(screen_session(varied.pk))
    assert draft == session_as_read(orm_session(varied.pk))
    assert draft[0] == "StoredPhone" and draft[5] is None and draft[3].startswith("+1604")
    complete_session(varied)
    sign_session(NeedlingSession.objects.get(pk=varied.pk), by=clinician)
    with django_assert_num_queries(1):
        signed = session_as_read(screen_session(varied.pk))
    assert signed == session_as_read(orm_session(varied.pk))
    assert signed[5] == fields(clinician) and signed[1] != draft[1]


def test_no_such_session_is_none_and_its_screen_a_404(client_for):
    missing = (NeedlingSession.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    assert screen_session(missing) is None
    assert client_for(Role.PHYSIO).get(reverse("treatments:session", args=[missing])).status_code == 404
