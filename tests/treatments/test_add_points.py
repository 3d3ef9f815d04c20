"""add_points: the one door of every needle point (add_point, the htmx row and repeat last session go
through it). A batch is judged point by point against what is read once (the session locked once, the
catalogue rows, the consent of every region the points fall in, the screening), inserted in one statement
and described in one audit event: 40 points cost the queries of one (issue 17). By default one refused
point refuses the batch; skip_refused saves the allowed ones and returns the refused ones with reasons."""

import pytest
from django.core.exceptions import ValidationError

from accounts.access import Refused
from audit.models import Action, AuditEvent
from consent.errors import NeedlingNotAllowed
from consent.models import Region
from tests.factories import PhysioFactory, give_consent, muscle
from treatments.models import NeedlePoint
from treatments.services import add_point, add_points

pytestmark = pytest.mark.django_db


def batch(point_fields, count, **override):
    return [{**point_fields, "side": "LR"[index % 2], **override} for index in range(count)]


def neck(point_fields):
    return {**point_fields, "muscle": muscle("Upper trapezius"), "depth_mm": 15}


def mid_back(point_fields):
    return {**point_fields, "muscle": muscle("Multifidus (thoracic)"), "segment": "T4", "depth_mm": 20}


def test_forty_points_are_added_in_order_with_one_audit_event_naming_them(draft, clinician, point_fields):
    add_point(draft, by=clinician, **point_fields)
    outcome = add_points(draft, batch(point_fields, 40), by=clinician)
    assert [p.order for p in outcome.added] == list(range(2, 42)) and outcome.refused == []
    assert list(draft.points.order_by("order").values_list("order", flat=True)) == list(range(1, 42))
    events = AuditEvent.objects.filter(object_id=str(draft.pk), detail__startswith="needle point")
    assert events.count() == 2  # the single point's, and the batch's one
    assert events.filter(detail__startswith="needle points 2 to 41 added: 2 Gluteus medius L;").exists()
    assert all(p.consent_id and p.recorded_at for p in draft.points.all())


def test_adding_forty_points_costs_the_queries_of_one(
    consented_draft, clinician, point_fields, django_assert_num_queries
):
    """The count is pinned by the first call (one point) and must hold for 40 points across all three
    regions: consent is asked once for every region, the catalogue once, the lock and audit once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    one_neck = [neck(point_fields)]
    mixed = batch(point_fields, 14) + batch(neck(point_fields), 13) + batch(mid_back(point_fields), 13)
    add_point(consented_draft, by=clinician, **one_neck[0])  # warm: the user's profile
    with CaptureQueriesContext(connection) as one:
        add_points(consented_draft, one_neck, by=clinician)
    with django_assert_num_queries(len(one.captured_queries)):
        outcome = add_points(consented_draft, mixed, by=clinician)
    assert len(outcome.added) == 40
    assert len(one.captured_queries) <= 12  # 16 per point before issue 17


def test_one_refused_point_refuses_the_batch_and_nothing_is_saved(draft, clinician, point_fields):
    """The draft's patient declined the neck: the neck point in the middle refuses the whole batch, with
    the message add_point gives, and the refusal is audited."""
    points = batch(point_fields, 3) + [neck(point_fields)] + batch(point_fields, 3)
    with pytest.raises(NeedlingNotAllowed, match="declined the neck risk"):
        add_points(draft, points, by=clinician)
    assert not NeedlePoint.objects.exists()
    denied = AuditEvent.objects.filter(action=Action.PERMISSION_DENIED, object_id=str(draft.pk))
    assert denied.count() == 1 and "declined the neck risk" in denied.get().detail


def test_a_bad_depth_in_a_batch_is_refused_by_field_and_nothing_is_saved(draft, clinician, point_fields):
    points = batch(point_fields, 3) + [{**point_fields, "depth_mm": 90}]
    with pytest.raises(ValidationError) as refused:
        add_points(draft, points, by=clinician)
    assert "beyond the needle's length" in refused.value.message_dict["depth_mm"][0]
    assert not NeedlePoint.objects.exists()


def test_skip_refused_saves_the_allowed_points_and_lists_the_refused_with_reasons(
    draft, clinician, point_fields
):
    points = [point_fields, neck(point_fields), {**point_fields, "depth_mm": 0}, point_fields]
    outcome = add_points(draft, points, by=clinician, skip_refused=True)
    assert [p.order for p in outcome.added] == [1, 2]
    assert [(index, reason.split(":")[0]) for index, _fields, reason in outcome.refused] == [
        (1, "Needling in the neck (cervical) region is not allowed"),
        (2, "The depth must be more than 0 mm."),
    ]
    assert draft.points.count() == 2
    denied = AuditEvent.objects.filter(action=Action.PERMISSION_DENIED, object_id=str(draft.pk))
    assert denied.count() == 2  # each refused point, as add_point audits its refusal


def test_a_region_refused_in_a_batch_is_said_for_each_of_its_points(draft, clinician, point_fields):
    give_consent(draft.patient, accepted=(Region.GENERAL, Region.NECK), declined=(Region.MID_BACK,))
    points = [neck(point_fields), mid_back(point_fields), mid_back(point_fields)]
    outcome = add_points(draft, points, by=clinician, skip_refused=True)
    assert [p.muscle.name for p in outcome.added] == ["Upper trapezius"]
    assert [index for index, _fields, _reason in outcome.refused] == [1, 2]
    assert all("declined the mid back risk" in reason for _i, _f, reason in outcome.refused)


def test_only_the_drafts_clinician_adds_points_in_bulk(draft, point_fields):
    with pytest.raises(Refused):
        add_points(draft, batch(point_fields, 2), by=PhysioFactory())
    assert not NeedlePoint.objects.exists()


def test_an_empty_batch_adds_nothing(draft, clinician):
    outcome = add_points(draft, [], by=clinician)
    assert outcome.added == [] and outcome.refused == []
    assert not AuditEvent.objects.filter(object_id=str(draft.pk), detail__startswith="needle point").exists()


def test_points_naming_their_catalogue_rows_by_id_are_judged_as_rows(draft, clinician, point_fields):
    """Ids (an import, a script) are read in one query per catalogue; an unknown id is clean_fields' own
    message, and nothing is saved."""
    by_id = {
        **point_fields,
        "muscle_id": point_fields["muscle"].pk,
        "needle_size_id": point_fields["needle_size"].pk,
    }
    del by_id["muscle"], by_id["needle_size"]
    outcome = add_points(draft, [by_id, by_id], by=clinician)
    assert [p.muscle.name for p in outcome.added] == ["Gluteus medius"] * 2
    with pytest.raises(ValidationError) as refused:
        add_points(draft, [by_id, {**by_id, "muscle_id": 999999}], by=clinician)
    assert "muscle" in refused.value.message_dict
    assert draft.points.count() == 2
