"""Confidence intervals for the safety dashboard."""

import math
from dataclasses import dataclass

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Rate:
    """events out of trials, as a proportion with its 95% Wilson score interval."""

    events: int
    trials: int
    low: float
    high: float

    @property
    def proportion(self):
        return self.events / self.trials if self.trials else None

    def per_100(self):
        if not self.trials:
            return None
        return (100 * self.proportion, 100 * self.low, 100 * self.high)


def wilson(events, trials, z=Z95):
    """The Wilson score interval: well-behaved for rare events and small samples, unlike the normal
    approximation, which gives negative lower bounds for the few-in-thousands rates we report.

    Refuses negative counts and more events than trials.
    """
    if events < 0 or trials < 0:
        raise ValueError("Counts cannot be negative.")
    if events > trials:
        raise ValueError("There cannot be more events than trials.")
    if trials == 0:
        return Rate(0, 0, 0.0, 1.0)
    p = events / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    margin = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    # Exact at the edges and never excluding the observed rate, whatever floating point rounding does.
    low = 0.0 if events == 0 else min(p, max(0.0, centre - margin))
    high = 1.0 if events == trials else max(p, min(1.0, centre + margin))
    return Rate(events, trials, low, high)
