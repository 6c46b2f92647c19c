"""What the ICE pings say about a queue (``transport.pings``): sign, calm, lag."""

from __future__ import annotations

from rtc_interact.transport.estimator import PING_STALE_S, PING_WINDOW_S
from rtc_interact.transport.pings import PingWatch, Thinning


def test_a_sign_at_two_thirds_calm_below_it_and_a_lag_of_a_window_and_a_round_trip() -> None:
    pings = PingWatch(queue_ms=60)
    assert not pings.calm(0.0)  # no ping yet: nothing known
    assert not pings.sign(150.0, 0.0) and pings.calm(0.1) and pings.excess == 0
    assert not pings.sign(189.0, 0.25) and pings.calm(0.3)  # up by 39: still calm
    assert pings.sign(191.0, 0.5) and not pings.calm(0.6)  # up by 41: a sign
    assert not pings.sign(None, 0.75) and not pings.calm(0.8)  # no ping: nothing changes
    assert not pings.sign(160.0, 1.0) and pings.calm(1.0 + PING_STALE_S - 0.01)
    assert not pings.calm(1.0 + PING_STALE_S)  # stale: pings no longer stand for the queue
    assert pings.lag_s() == PING_WINDOW_S + 0.15


def test_fresh_and_filling_as_the_estimator_reads_them() -> None:
    pings = PingWatch(queue_ms=60)
    assert not pings.fresh(0.0) and not pings.filling(0.0)
    pings.sign(150.0, 0.0)
    pings.sign(195.0, 0.25)  # up by 45: a queue beginning
    assert pings.fresh(0.25 + PING_STALE_S) and pings.filling(0.25 + PING_STALE_S)
    assert not pings.fresh(0.26 + PING_STALE_S) and not pings.filling(0.26 + PING_STALE_S)
    pings.sign(160.0, 3.0)
    assert pings.fresh(3.0) and not pings.filling(3.0)


def test_a_streak_counts_signs_in_a_row_and_ends_on_a_sample_without_one() -> None:
    pings = PingWatch(queue_ms=60)
    pings.sign(150.0, 0.0)
    streaks = []
    for i, ping in enumerate([195.0, 200.0, None, 210.0, 160.0, 195.0]):
        pings.sign(ping, 0.25 * (i + 1))
        streaks.append(pings.streak)
    assert streaks == [1, 2, 2, 3, 0, 1]  # a sample with no ping changes nothing


def test_thinning_depth_hold_and_the_rung_it_began_on() -> None:
    thin = Thinning(limit_ms=120, hold_s=1.0)
    assert [thin.depth_of(e) for e in (120.0, 121.0, 240.0, 241.0)] == [0, 1, 1, 2]
    assert thin.depth(None) == 0 and thin.depth(0.0) == 0
    thin.note(300.0, now=10.0, rung=0)
    assert thin.depth(10.5) == 2 and thin.depth(11.0) == 0  # held for hold_s
    thin.note(150.0, now=10.5, rung=1)  # another rung: not renewed there
    assert thin.depth(10.9) == 2 and thin.depth(11.0) == 0
    thin.note(150.0, now=10.75, rung=0)  # the copies' depth renewed, the frames' not
    assert thin.depth(10.9) == 2 and thin.depth(11.2) == 1 and thin.depth(11.75) == 0
    thin.note(150.0, now=12.0, rung=1)  # a new thinning, on the rung it begins on
    assert thin.depth(12.5) == 1
    off = Thinning(limit_ms=0, hold_s=1.0)
    off.note(900.0, now=0.0, rung=0)
    assert off.depth_of(900.0) == 0 and off.depth(0.5) == 0


def test_cleared_thinning_ends_now_and_takes_no_sign_until_told() -> None:
    thin = Thinning(limit_ms=120, hold_s=1.0)
    thin.note(300, now=10.0, rung=0)
    assert thin.depth(10.5) == 2
    thin.clear(until=12.0)
    assert thin.depth(10.5) == 0
    thin.note(300, now=11.9, rung=1)
    assert thin.depth(11.95) == 0
    thin.note(300, now=12.0, rung=1)
    assert thin.depth(12.5) == 2
