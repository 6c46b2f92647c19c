"""Whether a path is long (``transport.path_length``): its threshold, its memory, its start."""

from __future__ import annotations

from rtc_interact.transport.path_length import LONG_EXIT_MS, START_LONG_FACTOR, PathLength
from rtc_interact.transport.pings import Floor


def test_long_from_the_smallest_of_reports_and_ice_checks_then_until_well_under() -> None:
    reports, pings = Floor(), Floor()
    path = PathLength(190.0, reports, pings)
    assert not path.long and path.ice_ms == float("inf")  # nothing known yet
    path.note(200.0)
    assert path.long and path.ice_ms == 200.0
    pings.excess(150.0)  # the pings count only once the path has been long...
    reports.excess(185.0)
    path.note(None)
    assert not path.long  # ...which it was: now the pings' 150 ms make it short


def test_a_path_once_long_stays_long_down_to_the_exit_margin() -> None:
    reports, pings = Floor(), Floor()
    path = PathLength(190.0, reports, pings)
    reports.excess(195.0)
    path.note(None)
    assert path.long
    reports.excess(190.0 - LONG_EXIT_MS)
    pings.excess(190.0 - LONG_EXIT_MS)
    path.note(None)
    assert path.long  # at the margin: still long
    pings.excess(190.0 - LONG_EXIT_MS - 1)
    assert not path.long


def test_a_path_short_at_first_never_turns_long_and_the_start_needs_the_factor() -> None:
    reports, pings = Floor(), Floor()
    path = PathLength(190.0, reports, pings)
    reports.excess(185.0)
    path.note(300.0)
    assert not path.long  # the reports' 185 ms: short, and the smallest never rises
    assert path.long_at_start  # the ICE checks alone, 300 ms: over 1.2 x 190
    start = PathLength(190.0, Floor(), Floor())
    start.note(START_LONG_FACTOR * 190.0 - 1)
    assert start.long and not start.long_at_start
