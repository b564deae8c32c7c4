"""The statistics on numbers whose answers are known or can be worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from execrl.sweep.stats import (
    bootstrap_ci,
    describe,
    median_samples,
    moving_average,
    paired_test,
    samples_to_reach,
    sign_flip_p,
)


def test_describe_and_bootstrap_interval() -> None:
    values = [0.2, 0.5, 0.4, 0.9, 0.6]
    d = describe(values)
    assert d.n == 5 and d.mean == pytest.approx(0.52)
    assert d.std == pytest.approx(np.std(values, ddof=1))
    assert d.ci is not None and d.ci.low < d.mean < d.ci.high
    assert min(values) <= d.ci.low and d.ci.high <= max(values)  # a percentile bootstrap stays in the data
    assert bootstrap_ci(values) == d.ci  # seeded: the same interval every time


def test_one_value_has_no_spread_and_constant_values_a_point_interval() -> None:
    single = describe([0.3])
    assert single.std is None and single.ci is None
    constant = describe([0.7, 0.7, 0.7])
    assert constant.std == pytest.approx(0.0, abs=1e-12)
    assert constant.ci is not None and constant.ci.low == constant.ci.high == 0.7


def test_paired_t_test_finds_a_shift_but_not_noise() -> None:
    rng = np.random.default_rng(1)
    baseline = rng.normal(0, 1, 10)
    shifted = paired_test(baseline + 1.0 + rng.normal(0, 0.05, 10), baseline)
    assert shifted is not None and shifted.t_p is not None and shifted.t_p < 1e-6
    assert shifted.mean_diff == pytest.approx(1.0, abs=0.05)
    assert shifted.diff_ci.low < shifted.mean_diff < shifted.diff_ci.high
    noise = paired_test(baseline + rng.normal(0, 0.05, 10), baseline)
    assert noise is not None and noise.t_p is not None and noise.t_p > 0.05


def test_equal_differences_leave_the_t_test_undefined_and_one_pair_no_test() -> None:
    constant = paired_test([2.0, 3.0, 4.0], [1.0, 2.0, 3.0])
    assert constant is not None and constant.t_p is None and constant.mean_diff == pytest.approx(1.0)
    assert constant.sign_flip_p == pytest.approx(2 / 8)
    assert paired_test([1.0], [0.0]) is None
    with pytest.raises(ValueError, match="differ in length"):
        paired_test([1.0, 2.0], [1.0])


def test_sign_flip_exact_p_value_by_hand() -> None:
    # differences 0.5, -1, 2, 3: sum 4.5. The 16 sign patterns give +-1 +-2 +-3 in {6, 4, 2, 0, 0, -2, -4, -6}
    # plus +-0.5; |sum| >= 4.5 for 6.5, 5.5, 4.5, -4.5, -5.5, -6.5: p = 6/16.
    assert sign_flip_p([0.5, -1.0, 2.0, 3.0]) == (0.375, 16, True)
    # five seeds, all better: only the observed pattern and its mirror count, 2/32
    assert sign_flip_p([0.1, 0.3, 0.2, 0.5, 0.4]) == (2 / 32, 32, True)


def test_sign_flip_samples_patterns_beyond_twenty_pairs() -> None:
    p, patterns, exact = sign_flip_p(np.ones(25))
    assert not exact and patterns == 10_000 and p == pytest.approx(1 / 10_000)


def test_moving_average_is_trailing() -> None:
    assert moving_average([1, 2, 3, 4], 2).tolist() == [1.0, 1.5, 2.5, 3.5]
    assert moving_average([1, 2, 3, 4], 10).tolist() == [1.0, 1.5, 2.0, 2.5]


def test_samples_to_reach_on_a_rising_curve() -> None:
    steps, rewards = [1, 2, 3, 4, 5], [0.0, 0.2, 0.4, 0.6, 0.8]
    assert samples_to_reach(steps, rewards, batch_size=8, target=0.5, window=1) == 32  # step 4
    assert samples_to_reach(steps, rewards, batch_size=8, target=0.5, window=2) == 32  # 0.5 at step 4: reached
    assert samples_to_reach(steps, rewards, batch_size=8, target=0.5, window=3) == 40  # 0.4 at step 4, 0.6 at 5
    assert samples_to_reach(steps, rewards, batch_size=8, target=0.9, window=1) is None
    assert samples_to_reach(steps, rewards, batch_size=8, target=-1.0, window=1) == 8


def test_median_counts_unreached_seeds_as_infinite() -> None:
    assert median_samples([32, None, 40]) == 40
    assert median_samples([None, None, 8]) is None
    assert median_samples([8, 16]) == 12
