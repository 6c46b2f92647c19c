"""Tests for rtc_interact/linkemu/model.py: sans-IO, fixed seeds, time passed in by hand."""

from __future__ import annotations

import itertools
import statistics

import pytest

from rtc_interact.linkemu import (
    IP_UDP_OVERHEAD_BYTES,
    DirectionParams,
    LinkDirection,
    LossModel,
    get_profile,
)
from rtc_interact.linkemu.model import gilbert_transitions


def _losses(params: DirectionParams, n: int, seed: int = 7, spacing: float = 0.001) -> list[bool]:
    link = LinkDirection(params, seed)
    return [link.submit(100, i * spacing) is None for i in range(n)]


def _bursts(lost: list[bool]) -> list[int]:
    bursts, run = [], 0
    for x in lost:
        if x:
            run += 1
        elif run:
            bursts.append(run)
            run = 0
    return bursts


def test_base_delay_without_impairments() -> None:
    link = LinkDirection(DirectionParams(delay_ms=75), seed=1)
    assert link.submit(1200, 10.0) == pytest.approx(10.075)
    assert link.submit(1200, 10.5) == pytest.approx(10.575)
    assert link.counters.delivered == 2 and link.counters.dropped_loss == 0


def test_bernoulli_loss_rate_converges() -> None:
    lost = _losses(DirectionParams(loss=LossModel("bernoulli", 5)), 100_000)
    assert sum(lost) / len(lost) == pytest.approx(0.05, abs=0.003)
    # Independent loss: mean burst ~ 1 / (1 - 0.05).
    assert statistics.fmean(_bursts(lost)) == pytest.approx(1 / 0.95, rel=0.05)


@pytest.mark.parametrize(("pct", "burst"), [(5.0, 4.0), (2.0, 2.0), (1.0, 1.0)])
def test_gilbert_loss_rate_and_mean_burst(pct: float, burst: float) -> None:
    lost = _losses(DirectionParams(loss=LossModel("gilbert", pct, burst)), 300_000)
    assert 100 * sum(lost) / len(lost) == pytest.approx(pct, rel=0.08)
    assert statistics.fmean(_bursts(lost)) == pytest.approx(burst, rel=0.08)


def test_gilbert_transitions_match_parameters() -> None:
    p, r = gilbert_transitions(LossModel("gilbert", 5, 4))
    assert 1 / r == pytest.approx(4)
    assert p / (p + r) == pytest.approx(0.05)
    assert gilbert_transitions(LossModel("gilbert", 100, 3)) == (1.0, 0.0)
    assert not any(_losses(DirectionParams(loss=LossModel("gilbert", 0, 3)), 1000))
    assert all(_losses(DirectionParams(loss=LossModel("gilbert", 100, 3)), 1000))


def test_rate_cap_limits_throughput_and_queue_drops() -> None:
    params = DirectionParams(delay_ms=20, rate_kbps=1000, queue_ms=100)
    link = LinkDirection(params, seed=3)
    size = 1000 - IP_UDP_OVERHEAD_BYTES  # 1000 bytes on the wire: 8 ms at 1 Mbit/s
    sent_at = [i * 0.004 for i in range(1500)]  # 2 Mbit/s offered for 6 s
    deliveries = [(t, link.submit(size, t)) for t in sent_at]
    delivered = [(t, d) for t, d in deliveries if d is not None]
    counters = link.counters
    assert counters.dropped_queue > 600 and counters.dropped_loss == 0
    assert counters.delivered + counters.dropped_queue == 1500
    for t, d in delivered:  # queueing never exceeds queue_ms (+ one serialization)
        assert d - t <= 0.020 + 0.100 + 0.008 + 1e-9
    gaps = [b - a for (_, a), (_, b) in itertools.pairwise(delivered)]
    assert min(gaps) >= 0.008 - 1e-9  # never faster than the bottleneck
    seconds = link.seconds(now_s=10.0)
    for s in seconds[1:6]:
        assert s.delivered_kbps == pytest.approx(1000, abs=10)
        assert s.dropped_queue > 0
        assert 92 <= s.queue_ms_max <= 108


def test_unbounded_queue_drops_nothing() -> None:
    link = LinkDirection(DirectionParams(rate_kbps=500), seed=1)
    for i in range(200):
        assert link.submit(972, i * 0.001) is not None
    assert link.backlog_s(0.2) > 2.0


@pytest.mark.parametrize("hold_ms", [0.0, 50.0])
def test_jitter_keeps_order(hold_ms: float) -> None:
    params = DirectionParams(delay_ms=50, jitter_ms=20, jitter_hold_ms=hold_ms)
    link = LinkDirection(params, seed=11)
    times = [link.submit(200, i * 0.002) for i in range(20_000)]
    assert all(t is not None for t in times)
    delivered = [t for t in times if t is not None]
    assert delivered == sorted(delivered)
    extra = [d - i * 0.002 - 0.050 for i, d in enumerate(delivered)]
    assert min(extra) >= 0
    assert statistics.fmean(extra) > 0.010


def test_held_jitter_mean_is_close_to_jitter_ms() -> None:
    link = LinkDirection(DirectionParams(jitter_ms=20), seed=5)
    extra = [link.submit(100, i * 0.004) - i * 0.004 for i in range(200_000)]  # type: ignore[operator]
    assert statistics.fmean(extra) == pytest.approx(0.020, rel=0.2)
    assert sorted(extra)[len(extra) // 100] < 0.002  # the low tail still reaches the base delay


def test_reorder_knob_reorders_and_default_does_not() -> None:
    for pct, expect_reorder in ((0.0, False), (10.0, True)):
        params = DirectionParams(delay_ms=30, reorder_pct=pct, reorder_ms=10)
        link = LinkDirection(params, seed=2)
        times = [link.submit(100, i * 0.001) for i in range(2000)]
        delivered = [t for t in times if t is not None]
        overtaken = sum(b < a for a, b in itertools.pairwise(delivered))
        assert (overtaken > 100) is expect_reorder
        assert (overtaken == 0) is not expect_reorder


def test_schedule_steps_apply_at_the_right_time() -> None:
    link = LinkDirection.from_profile(get_profile("congested-evening"), "a_to_b", 1, start_s=100.0)
    assert link.params.rate_kbps == 4000
    assert link.next_step_s() == pytest.approx(120.0)
    link.submit(100, 119.999)
    assert link.params.rate_kbps == 4000
    link.submit(100, 120.0)
    assert link.params.rate_kbps == 1200
    assert link.params.loss == LossModel("gilbert", 4, 3)
    assert link.advance(165.0) == [40.0, 60.0]
    assert link.params.rate_kbps == 2500
    assert link.advance(170.0) == []
    assert link.advance(1e9) == [80.0] and link.next_step_s() is None
    other = LinkDirection.from_profile(get_profile("congested-evening"), "b_to_a", 1)
    other.advance(50.0)
    assert other.params.rate_kbps == 4000


def test_update_changes_parameters_immediately() -> None:
    link = LinkDirection(DirectionParams(delay_ms=10), seed=1)
    assert link.submit(100, 0.0) == pytest.approx(0.010)
    link.update(DirectionParams(delay_ms=100))
    assert link.submit(100, 1.0) == pytest.approx(1.100)
    link.update(DirectionParams(delay_ms=1))
    assert link.submit(100, 1.001) == pytest.approx(1.100)  # order kept across the step


def _run(seed: int) -> list[float | None]:
    params = DirectionParams(
        delay_ms=40,
        jitter_ms=10,
        loss=LossModel("gilbert", 3, 2),
        rate_kbps=800,
        queue_ms=80,
        reorder_pct=1,
    )
    link = LinkDirection(params, seed)
    return [link.submit(300 + i % 900, i * 0.003) for i in range(5000)]


def test_seed_makes_runs_identical() -> None:
    assert _run(42) == _run(42)
    assert _run(42) != _run(43)


def test_per_second_stats_add_up() -> None:
    link = LinkDirection(DirectionParams(delay_ms=500, loss=LossModel("bernoulli", 10)), 9)
    times = [link.submit(100, i * 0.001) for i in range(3000)]
    assert [s.second for s in link.seconds(now_s=2.5)] == [0, 1]
    everything = link.seconds()
    assert [s.second for s in everything] == [0, 1, 2, 3]  # deliveries land up to 3.5 s
    assert sum(s.submitted for s in everything) == 3000
    assert sum(s.delivered for s in everything) == link.counters.delivered
    assert sum(s.dropped_loss for s in everything) == link.counters.dropped_loss
    early = sum(t is not None for t in times[:500])  # only these arrive before 1.0 s
    assert everything[0].delivered == early and 400 < early < 500
    assert everything[1].payload_kbps == pytest.approx(everything[1].delivered * 0.8)
