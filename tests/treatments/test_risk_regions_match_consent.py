"""A muscle's risk region (treatments.RiskRegion) names a consent region (consent.Region): the two lists
must not drift apart, or a neck point would ask for a consent region that does not exist."""

from consent.models import RISK_REGIONS
from treatments.models import RiskRegion


def test_every_risk_region_is_a_consent_risk_region_with_the_same_label():
    risk_regions = [(region.value, region.label) for region in RiskRegion if region != RiskRegion.NONE]
    assert risk_regions == [(region.value, region.label) for region in RISK_REGIONS]


def test_no_risk_region_is_spelled_like_the_general_consent_region():
    assert "general" not in RiskRegion.values
