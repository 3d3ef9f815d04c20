import pytest
from django.core.exceptions import ValidationError

from treatments.services import ConflictError, save_draft

pytestmark = pytest.mark.django_db


def test_saving_a_draft_bumps_its_version(draft, clinician):
    saved = save_draft(draft, {"presenting_complaint": "Neck pain"}, expected_version=1, by=clinician)
    assert saved.version == 2 and saved.presenting_complaint == "Neck pain"


def test_the_later_of_two_saves_gets_a_conflict_and_nothing_is_overwritten(draft, clinician):
    # The clinician has the draft open twice (the treatment room's computer and a tablet).
    opened = draft.version
    save_draft(draft, {"impression": "Upper trapezius trigger points"}, expected_version=opened, by=clinician)
    with pytest.raises(ConflictError) as conflict:
        save_draft(draft, {"impression": "Cervical facet irritation"}, expected_version=opened, by=clinician)
    assert "Priya Natarajan saved this session" in conflict.value.messages[0]
    assert "nothing was overwritten" in conflict.value.messages[0]
    draft.refresh_from_db()
    assert draft.impression == "Upper trapezius trigger points" and draft.version == opened + 1


@pytest.mark.parametrize("pain", [-1, 11, 100])
def test_pain_outside_0_to_10_is_refused_and_nothing_saved(draft, clinician, pain):
    with pytest.raises(ValidationError) as refused:
        save_draft(draft, {"pain_before": pain, "plan": "x"}, expected_version=1, by=clinician)
    assert "Pain is scored 0 to 10" in " ".join(refused.value.messages)
    draft.refresh_from_db()
    assert draft.pain_before is None and draft.plan == "" and draft.version == 1


def test_the_database_refuses_pain_outside_0_to_10(draft):
    from django.db import IntegrityError, transaction

    from treatments.models import NeedlingSession

    with pytest.raises(IntegrityError), transaction.atomic():
        NeedlingSession.objects.filter(pk=draft.pk).update(pain_after=11)
