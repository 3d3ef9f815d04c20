import pytest

from consent.models import Region
from tests.factories import ConsentFormFactory


@pytest.fixture
def consent_form(db):
    """The current published version: general, neck and mid-back risks."""
    return ConsentFormFactory()


@pytest.fixture
def risk_of(consent_form):
    """risk_of(Region.NECK) -> the form's risk item for that region."""

    def find(region, form=None):
        return (form or consent_form).risks.get(region=region)

    return find


@pytest.fixture
def all_regions():
    return (Region.GENERAL, Region.NECK, Region.MID_BACK)
