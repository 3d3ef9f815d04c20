import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports.stats import wilson


def test_it_matches_a_published_wilson_interval():
    # Brown, Cai & DasGupta (2001) style check: 1 event in 10 trials -> (0.0179, 0.4042).
    rate = wilson(1, 10)
    assert rate.low == pytest.approx(0.0179, abs=1e-4)
    assert rate.high == pytest.approx(0.4042, abs=1e-4)


def test_zero_events_still_have_an_upper_bound():
    # Brady 2014: 0 significant events in 7,629 treatments; the rule of three gives about 0.04%.
    rate = wilson(0, 7629)
    assert rate.low == 0.0
    assert 0.0004 < rate.high < 0.0006


def test_no_trials_means_nothing_is_known():
    rate = wilson(0, 0)
    assert rate.proportion is None
    assert rate.per_100() is None


def test_impossible_counts_are_refused():
    with pytest.raises(ValueError, match="more events than trials"):
        wilson(5, 4)
    with pytest.raises(ValueError, match="negative"):
        wilson(-1, 4)


@given(st.integers(min_value=1, max_value=10**7), st.data())
def test_the_interval_always_contains_the_observed_rate(trials, data):
    events = data.draw(st.integers(min_value=0, max_value=trials))
    rate = wilson(events, trials)
    assert 0.0 <= rate.low <= rate.proportion <= rate.high <= 1.0
