import pytest

from tests.factories import (
    NeedlingSessionFactory,
    give_consent,
    muscle,
    needle,
)


@pytest.fixture
def unconsented_draft(clinician, patient):
    """A draft for a patient with no consent on file: no point at all may be added."""
    return NeedlingSessionFactory(patient=patient, clinician=clinician)


@pytest.fixture
def draft(unconsented_draft):
    """A draft for a patient who accepted the general risks of needling (every point needs them) and
    declined the neck and mid back risks."""
    from consent.models import Region

    give_consent(unconsented_draft.patient, accepted=(Region.GENERAL,))
    return unconsented_draft


@pytest.fixture
def consented_draft(draft):
    """A draft for a patient who accepted every risk (general, neck, mid back)."""
    give_consent(draft.patient)
    return draft


@pytest.fixture
def point_fields():
    """A valid, non-risk point: right gluteus medius, 0.30 x 60 mm at 40 mm, one twitch."""
    return {
        "muscle": muscle("Gluteus medius"),
        "side": "R",
        "needle_size": needle("0.30", 60),
        "depth_mm": 40,
        "insertions": 3,
        "twitch_response": "single",
        "patient_response": "familiar",
    }
