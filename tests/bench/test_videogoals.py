"""The video must-show measures on hand-made per-second data."""

from __future__ import annotations

from rtc_interact.bench.videogoals import rung_rates, steady_ratios, steps, windows_pct

RATES = (530.0, 190.0, 80.0)


def test_time_to_fit_a_step_down_and_a_step_up() -> None:
    capacity: list[float | None] = [4000.0] * 10 + [300.0] * 10 + [2500.0] * 10
    rung: list[float | None] = [530.0] * 11 + [190.0] * 12 + [530.0] * 7
    down, up = steps(capacity, rung, RATES)
    assert (down.at_s, down.down, down.fit_s) == (10, True, 1)
    assert (up.at_s, up.down, up.fit_s) == (20, False, 3)


def test_a_step_never_fitted_has_no_time() -> None:
    capacity: list[float | None] = [4000.0] * 5 + [300.0] * 5
    (step,) = steps(capacity, [530.0] * 10, RATES)
    assert step.fit_s is None
    (stock,) = steps(capacity, [None] * 10, RATES)
    assert stock.fit_s is None


def test_steady_ratio_leaves_out_the_settling_seconds() -> None:
    capacity: list[float | None] = [1000.0] * 10 + [500.0] * 10
    kbps = [0.0] * 5 + [800.0] * 5 + [0.0] * 5 + [400.0] * 5
    assert steady_ratios(kbps, capacity) == [0.8, 0.8]


def test_rung_rates_from_frame_widths_and_fps_windows() -> None:
    assert rung_rates([640, None, 176, 999], {640: 530.0, 176: 80.0}) == [530.0, None, 80.0, None]
    assert windows_pct([30, 20, 19, 0], 20) == 50.0
