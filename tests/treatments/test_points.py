from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consent.errors import NeedlingNotAllowed
from consent.models import Region
from consent.services.obtaining import withdraw_consent
from tests.factories import give_consent, muscle, needle
from treatments.models import NeedlePoint
from treatments.services import add_point, last_needle_size, update_point

pytestmark = pytest.mark.django_db


def test_a_point_is_added_in_order(draft, clinician, point_fields):
    first = add_point(draft, by=clinician, **point_fields)
    second = add_point(draft, by=clinician, **{**point_fields, "side": "L"})
    assert (first.order, second.order) == (1, 2)
    assert list(draft.points.values_list("side", flat=True)) == ["R", "L"]


def test_a_neck_point_without_consent_is_refused_with_the_consent_message(
    unconsented_draft, clinician, point_fields
):
    with pytest.raises(NeedlingNotAllowed, match="No consent for needling is on file"):
        add_point(
            unconsented_draft,
            by=clinician,
            **{**point_fields, "muscle": muscle("Upper trapezius"), "depth_mm": 15},
        )
    assert not NeedlePoint.objects.exists()


def test_a_neck_point_with_only_the_general_risks_accepted_is_refused_naming_the_neck(
    draft, clinician, point_fields
):
    with pytest.raises(NeedlingNotAllowed, match="neck.*declined the neck risk"):
        add_point(
            draft, by=clinician, **{**point_fields, "muscle": muscle("Upper trapezius"), "depth_mm": 15}
        )
    assert not NeedlePoint.objects.exists()


def test_a_neck_point_after_the_patient_declined_the_neck_risk_is_refused(draft, clinician, point_fields):
    give_consent(draft.patient, accepted=(Region.GENERAL, Region.MID_BACK), declined=(Region.NECK,))
    with pytest.raises(NeedlingNotAllowed, match="(?i)declined"):
        add_point(
            draft, by=clinician, **{**point_fields, "muscle": muscle("Upper trapezius"), "depth_mm": 15}
        )
    assert not NeedlePoint.objects.exists()


def test_a_mid_back_point_is_allowed_once_the_mid_back_risk_is_accepted(draft, clinician, point_fields):
    give_consent(draft.patient, accepted=(Region.GENERAL, Region.MID_BACK), declined=(Region.NECK,))
    point = add_point(
        draft,
        by=clinician,
        **{**point_fields, "muscle": muscle("Multifidus (thoracic)"), "segment": "T4", "depth_mm": 20},
    )
    assert point.segment == "T4"


def test_withdrawn_consent_stops_further_risk_points(draft, clinician, point_fields):
    record = give_consent(draft.patient)
    add_point(draft, by=clinician, **{**point_fields, "muscle": muscle("Upper trapezius"), "depth_mm": 15})
    withdraw_consent(record, by=clinician, reason="Changed her mind")
    with pytest.raises(NeedlingNotAllowed, match="(?i)withdrawn"):
        add_point(
            draft, by=clinician, **{**point_fields, "muscle": muscle("Levator scapulae"), "depth_mm": 15}
        )
    assert draft.points.count() == 1


def test_a_point_without_risk_needs_only_the_general_risks_accepted(draft, clinician, point_fields):
    assert add_point(draft, by=clinician, **point_fields).pk


def test_a_depth_beyond_the_needle_length_is_refused(draft, clinician, point_fields):
    with pytest.raises(ValidationError) as refused:
        add_point(draft, by=clinician, **{**point_fields, "needle_size": needle("0.25", 40), "depth_mm": 45})
    assert "beyond the needle's length (0.25 x 40 mm)" in refused.value.message_dict["depth_mm"][0]
    assert not NeedlePoint.objects.exists()


def test_a_depth_beyond_the_advisory_maximum_needs_confirmation(consented_draft, clinician, point_fields):
    rhomboid = {
        **point_fields,
        "muscle": muscle("Rhomboid major"),
        "needle_size": needle("0.25", 30),
        "depth_mm": 22,
    }
    with pytest.raises(ValidationError) as refused:
        add_point(consented_draft, by=clinician, **rhomboid)
    assert "advisory maximum of 19 mm for Rhomboid major" in refused.value.message_dict["depth_confirmed"][0]
    assert not NeedlePoint.objects.exists()
    point = add_point(consented_draft, by=clinician, **rhomboid, depth_confirmed=True)
    assert point.depth_mm == Decimal("22.0") and point.depth_confirmed


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"depth_mm": 0}, "depth_mm", "more than 0 mm"),
        ({"depth_mm": -5}, "depth_mm", "more than 0 mm"),
        ({"insertions": 0}, "insertions", "at least one insertion"),
        ({"segment": "C9"}, "segment", "not a valid choice"),
        ({"segment": "T13"}, "segment", "not a valid choice"),
        ({"side": "X"}, "side", "not a valid choice"),
        ({"twitch_response": "lots"}, "twitch_response", "not a valid choice"),
    ],
)
def test_bad_point_input_is_refused_with_a_message_and_nothing_saved(
    draft, clinician, point_fields, change, field, message
):
    with pytest.raises(ValidationError) as refused:
        add_point(draft, by=clinician, **{**point_fields, **change})
    assert any(message in text for text in refused.value.message_dict[field])
    assert not NeedlePoint.objects.exists()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(depth=st.decimals(min_value=-1000, max_value=1000, places=1, allow_nan=False, allow_infinity=False))
def test_any_depth_is_either_saved_within_the_needle_or_refused_with_a_message(
    draft, clinician, point_fields, depth
):
    before = NeedlePoint.objects.count()
    try:
        point = add_point(draft, by=clinician, **{**point_fields, "depth_mm": depth})
    except ValidationError as refused:
        assert refused.message_dict["depth_mm"]
        assert NeedlePoint.objects.count() == before
    else:
        assert 0 < point.depth_mm <= 60


def test_update_point_obeys_the_same_rules(draft, clinician, point_fields):
    point = add_point(draft, by=clinician, **point_fields)
    with pytest.raises(NeedlingNotAllowed, match="declined the neck risk"):
        update_point(point, by=clinician, muscle=muscle("Upper trapezius"))
    with pytest.raises(ValidationError):
        update_point(point, by=clinician, depth_mm=61)
    point.refresh_from_db()
    assert point.muscle.name == "Gluteus medius" and point.depth_mm == 40
    update_point(point, by=clinician, twitch_response="multiple")
    point.refresh_from_db()
    assert point.twitch_response == "multiple"


def test_the_last_needle_size_used_is_the_default(draft, clinician, point_fields):
    assert last_needle_size(clinician) is None
    add_point(draft, by=clinician, **{**point_fields, "needle_size": needle("0.25", 50)})
    assert str(last_needle_size(clinician)) == "0.25 x 50 mm"
