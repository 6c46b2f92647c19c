"""The video must-show measures on hand-made per-second data."""

from __future__ import annotations

from typing import Any

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


def _entry(widths: list[int | None], fps: int,
           host_link: dict[str, object] | None) -> dict[str, Any]:
    from rtc_interact.bench.metrics import VideoSummary
    from rtc_interact.bench.report import video_entry
    from rtc_interact.bench.suites import VideoRun
    from rtc_interact.linkemu import get_profile

    seconds = len(widths)
    summary = VideoSummary(fps=[fps] * seconds, freezes=1, freeze_s=0.4, g2g_ms=None,
                           g2g_per_s=[None] * seconds, corrupt_frames=0, frames=fps * seconds,
                           width_per_s=widths)
    capacity: list[float | None] = [4000.0] * 20 + [1200.0] * 20 + [600.0] * 20
    run = VideoRun(summary=summary, kbps=[500.0] * seconds, capacity_kbps=capacity,
                   survived=True, keyframes=3, host_link=host_link)
    return video_entry(run, get_profile("congested-evening"))


def test_the_goals_table_reads_each_target_for_both_implementations() -> None:
    from rtc_interact.bench.report import goals_markdown

    link = {"target_kbps": 530.0, "switches": 2, "nacks": 5, "rtx_sent": 4, "rtx_skipped": 1,
            "padding_kbit": 12.0, "quality": "good", "received_kbps": 612.4}
    ours = _entry([640] * 40 + [320] * 20, 30, link)
    stock = _entry([640] * 60, 12, None)
    assert ours["fit_down_max_s"] == 0.0 and stock["fit_down_max_s"] == -1.0
    assert ours["g2g_target_ms"] == 385.0 and ours["freezes_per_min"] == 1.0
    text = goals_markdown([{"profile": "congested-evening", "rtt_ms": 170,
                            "video": {"ours": ours, "aiortc": stock}}])
    assert "| 1 s windows >= 20 fps (target >= 95%) | 100.0% (met) | 0.0% (**missed**) |" in text
    assert "| worst time to fit a step down, s (target <= 2) | 0 (met) | never (**missed**) |" \
        in text
    assert "retransmitted 4, skipped 1" in text and "received 612 kbps" in text
