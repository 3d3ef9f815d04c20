"""Published adverse-event rates of dry needling (../shared/DOMAIN.md), the clinic's yardstick.

Rates are per treatment (session). Keys of `by_type` are side effect types as the needling records
name them (treatments.models.SideEffectType values).
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Baseline:
    key: str
    citation: str
    country: str
    design: str
    treatments: int
    mild_percent: float
    significant_events: int
    significant_note: str
    by_type: dict = field(default_factory=dict)  # side effect type -> percent of treatments


BRADY_2014 = Baseline(
    key="brady2014",
    citation="Brady et al. 2014",
    country="Ireland",
    design="prospective",
    treatments=7629,
    mild_percent=19.18,
    significant_events=0,
    significant_note="0 significant (upper 95% bound 0.04%)",
    by_type={
        "bruising": 7.55,
        "bleeding": 4.65,
        "pain_during": 3.01,
        "pain_after": 2.19,
        "aggravation": 0.88,
        "drowsiness": 0.26,
        "headache": 0.14,
        "nausea": 0.13,
        "fatigue": 0.04,
    },
)

BOYCE_2020 = Baseline(
    key="boyce2020",
    citation="Boyce et al. 2020",
    country="United States",
    design="prospective",
    treatments=20464,
    mild_percent=36.7,
    significant_events=20,
    significant_note="20 major (about 1 in 1,024): pneumothorax, excessive bleeding, prolonged aggravation",
    by_type={"bleeding": 16.0, "bruising": 7.7, "pain_during": 5.9},
)

BASELINES = (BRADY_2014, BOYCE_2020)
