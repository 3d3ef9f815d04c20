import pytest
from django.core.exceptions import ValidationError

from treatments.models import SideEffect
from treatments.services import add_side_effect

pytestmark = pytest.mark.django_db


def test_a_mild_side_effect_is_recorded(draft, clinician):
    effect = add_side_effect(
        draft,
        by=clinician,
        type="pain_after",
        severity="mild",
        onset="within_24h",
        duration="1 day",
        action_taken="Heat and hydration advised",
    )
    assert effect.get_type_display() == "Pain after needling (post-needling soreness)"


def test_a_side_effect_without_severity_is_refused(draft, clinician):
    with pytest.raises(ValidationError) as refused:
        add_side_effect(draft, by=clinician, type="bruising", severity="")
    assert "severity" in refused.value.message_dict
    assert not SideEffect.objects.exists()


def test_other_needs_a_description(draft, clinician):
    with pytest.raises(ValidationError, match="Describe the side effect"):
        add_side_effect(draft, by=clinician, type="other", severity="mild")
    assert not SideEffect.objects.exists()
    assert add_side_effect(draft, by=clinician, type="other", severity="mild", description="Itchy skin").pk


def test_an_unknown_type_is_refused(draft, clinician):
    with pytest.raises(ValidationError):
        add_side_effect(draft, by=clinician, type="sneezing", severity="mild")
    assert not SideEffect.objects.exists()
