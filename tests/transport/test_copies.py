"""The copies' level (``transport.copies``): when they are on, how they grow, halve and stop."""

from __future__ import annotations

from rtc_interact.transport.abr_config import AbrConfig
from rtc_interact.transport.abr_types import Feedback
from rtc_interact.transport.copies import CopyLevel
from rtc_interact.transport.path_length import PathLength
from rtc_interact.transport.pings import Floor

CONFIG = AbrConfig()


def _level(reports: Floor | None = None) -> CopyLevel:
    return CopyLevel(CONFIG, PathLength(CONFIG.copy_long_rtt_ms, reports or Floor(), Floor()))


def test_on_from_the_start_they_ramp_halve_and_stop_at_the_rungs_rate() -> None:
    copies = _level()
    copies.note(Feedback(now=0.0, sent_bytes=0))
    assert copies.on(0.0) and copies.kbps == 0.0
    copies.pace(1.0, 1.0, 200.0, halve=False, full_at_once=False)
    assert copies.kbps == CONFIG.copy_ramp_per_s * 200.0
    copies.pace(2.0, 1.0, 200.0, halve=True, full_at_once=False)
    assert copies.kbps == CONFIG.copy_ramp_per_s * 100.0
    for second in range(3, 10):
        copies.pace(float(second), 1.0, 200.0, halve=False, full_at_once=False)
    assert copies.kbps == 200.0  # a short path: at most the rung's rate
    copies.pace(CONFIG.copy_hold_s, 1.0, 200.0, halve=False, full_at_once=False)
    assert copies.kbps == 0.0  # no loss since the start's: off after copy_hold_s


def test_a_first_round_trip_of_a_short_clean_path_stops_them_and_a_loss_starts_them() -> None:
    reports = Floor()
    copies = _level(reports)
    copies.note(Feedback(now=0.0, sent_bytes=0))
    reports.excess(100.0)  # the controller notes the report's round trip first
    copies.note(Feedback(now=1.0, sent_bytes=0, rtt_ms=100.0))
    assert not copies.on(1.0)
    copies.pace(1.0, 1.0, 200.0, halve=False, full_at_once=True)
    assert copies.kbps == 0.0
    copies.note(Feedback(now=5.0, sent_bytes=0, nacks=1))
    assert copies.on(5.0 + CONFIG.copy_hold_s - 0.01)
    assert not copies.on(5.0 + CONFIG.copy_hold_s)


def test_on_a_long_path_they_start_full_and_reach_past_the_rate() -> None:
    reports = Floor()
    reports.excess(CONFIG.copy_long_rtt_ms + 10)
    copies = _level(reports)
    copies.note(Feedback(now=0.0, sent_bytes=0, loss=0.05))
    copies.pace(0.25, 0.25, 200.0, halve=False, full_at_once=True)
    assert copies.kbps == copies.cap(200.0) == 200.0 * CONFIG.copy_cover
