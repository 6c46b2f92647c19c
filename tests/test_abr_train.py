"""Packet trains in the sans-IO ABR controller (``transport.train``): asked for while a probe
runs above the knee; two carried in a row refute the knee and switch the viewer up."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from abr_fake import TICK, FakePath, first_time, probe_starts

from rtc_interact.transport.abr import AbrConfig, AbrController, Decision
from rtc_interact.transport.train import TrainReport

RATES = (530.0, 190.0, 80.0)
ANSWER_TICKS = 2
"""A train's report comes back this many controller runs after it (a round trip and more)."""
CLIMBING = ("probe", "wait-up")
"""A probe's reasons (padding, with the room below the target or above it)."""


def _run(controller: AbrController, path: FakePath, start: float, seconds: float,
         decision: Decision | None = None, answer: bool = True) -> tuple[Decision | None, int]:
    """``abr_fake.run``, with each train measured by the fake bottleneck (it arrives at the
    path's capacity, or as sent below it) and, if ``answer``, reported back (the decision a
    report gives goes into the trace); the trains."""
    pending: list[tuple[int, TrainReport]] = []
    trains = 0
    for i in range(int(seconds / TICK)):
        now = start + i * TICK
        for _, report in [p for p in pending if p[0] == i]:
            answer_to = controller.on_train(report, now - TICK / 2)
            if answer_to is not None:  # (a switch up, or the end of the probe)
                decision = answer_to
                path.trace.append((now - TICK / 2, decision))
        decision = controller.update(path.feedback(now, decision))
        path.trace.append((now, decision))
        if decision.train_kbps > 0:
            trains += 1
            sent = decision.target_kbps + decision.padding_kbps + decision.copy_kbps \
                + decision.train_kbps
            if answer:
                pending.append((i + ANSWER_TICKS, TrainReport(sent, min(sent, path.capacity))))
    return decision, trains


def _after_a_knee(config: AbrConfig, capacity: float) -> tuple[AbrController, FakePath,
                                                                Decision | None, float]:
    """A 480 kbps path (a knee near it: congested-evening's 600 kbps phase, its copies aside,
    §43.4) for 20 s and until a probe has ended, then ``capacity`` from the time returned."""
    controller = AbrController(RATES, replace(config, start_rung=1))
    path = FakePath(capacity=480, pings=True, ping_window=4)
    decision, _ = _run(controller, path, 0.0, 20)
    now = 20.0
    while decision is None or decision.reason != "hold" or controller._knee.kbps is None:
        decision, _ = _run(controller, path, now, TICK, decision)
        now += TICK
        assert now < 40
    assert controller._knee.kbps is not None and 400 < controller._knee.kbps < 609.5
    path.capacity = capacity
    return controller, path, decision, now


@pytest.mark.parametrize(("trains", "climb_s_at_most", "climb_s_at_least"),
                         [(True, 1.5, 0.0), (False, None, 5.0)])
def test_two_carried_trains_take_a_probe_past_the_knee_to_the_next_rung_at_once(
        trains: bool, climb_s_at_most: float | None, climb_s_at_least: float) -> None:
    """congested-evening's step up: a knee from before it, and the probe's slow ramp above
    it (``benchmarks/RESULTS.md`` §44.3), against two trains and the switch on the second's
    report."""
    controller, path, decision, step = _after_a_knee(AbrConfig(trains=trains), 2500)
    _, sent = _run(controller, path, step, 40, decision)
    probe = next(t for t in probe_starts(path) if t >= step)
    up = first_time(path, probe, lambda rate: rate >= 530)
    assert up is not None and up >= climb_s_at_least
    assert climb_s_at_most is None or up <= climb_s_at_most
    assert sent == (2 if trains else 0)
    assert max(path.queues[int(step / TICK):]) < 50  # neither queued


@pytest.mark.parametrize("trains", [True, False])
def test_a_train_the_path_does_not_carry_ends_the_probe_and_the_next_comes_soon(
        trains: bool) -> None:
    """congested-evening's 600 kbps phase: the 530 kbps rung's target (609.5 kbps) does not
    fit. Each probe's train is reported at the path's rate: the probe ends before its ramp
    builds a queue, and the next comes ``TRAIN_BACKOFF_S`` later, not a back-off later. (The
    fake path leaves the trains' own bytes out: a train queues ~50 ms there, §44.5.)"""
    controller, path, decision, step = _after_a_knee(AbrConfig(trains=trains), 600)
    decision, sent = _run(controller, path, step, 40, decision)
    climbs = [t for (_, a), (t, b) in itertools.pairwise(path.trace) if t >= step
              and b.reason in CLIMBING and a.reason not in CLIMBING]
    assert all(d.rung >= 1 for t, d in path.trace if t >= step)
    queued = max(path.queues[int(step / TICK):])
    if trains:
        assert len(climbs) >= 10 and sent == len(climbs) and queued < 10
    else:
        assert len(climbs) <= 4 and sent == 0 and queued > 50


def test_a_viewer_that_never_answers_holds_the_probe_to_its_ramp_and_gets_few_trains() -> None:
    """A browser viewer: no reports, so the climb is as without trains, at a train's cost."""
    controller, path, decision, step = _after_a_knee(AbrConfig(), 2500)
    _, sent = _run(controller, path, step, 40, decision, answer=False)
    assert sent == 1
    probe = next(t for t in probe_starts(path) if t >= step)
    up = first_time(path, probe, lambda rate: rate >= 530)
    assert up is not None and up >= 5.0


def test_no_train_without_a_knee_below_the_target_or_a_probe() -> None:
    """A clean path from the bottom rung: the probes have no knee to test; and a report with
    no probe running refutes nothing."""
    controller = AbrController(RATES, AbrConfig(start_rung=2))
    path = FakePath(capacity=2500, pings=True)
    decision, sent = _run(controller, path, 0.0, 30)
    assert decision is not None and decision.rung == 0 and sent == 0
    assert not controller.on_train(TrainReport(900, 900), 30.0)


@pytest.mark.parametrize(("since_train_s", "wait_s"), [(0.3, 2.0), (1.5, 4.0)])
def test_a_queue_report_while_a_trains_report_is_awaited_ends_the_probe_briefly(
        since_train_s: float, wait_s: float) -> None:
    """A probe's first train queues on a path that does not carry it (~50 ms on top of what
    is there): the viewer's report of that queue ends the probe, as the train's own report
    would, and the next probe comes ``TRAIN_BACKOFF_S`` later. After the train's answer time
    a report is the probe's own queue: the usual back-off."""
    controller, path, decision, step = _after_a_knee(AbrConfig(), 600)
    for i in range(200):  # no answers: the first train's report is awaited
        now = step + i * TICK
        decision = controller.update(path.feedback(now, decision))
        if decision.train_kbps > 0:
            break
    assert decision.train_kbps > 0
    now += since_train_s
    assert controller.on_queue(120.0, now) is not None
    assert controller._probe.quiet_until == pytest.approx(now + wait_s)
    blocked = controller._probe.blocked_until[0] - now
    assert blocked == pytest.approx(2.0) if wait_s == 2.0 else blocked >= 4.0


def test_no_train_while_the_pings_show_a_queue() -> None:
    """Pings up by two thirds of ``ping_queue_ms`` or more are not calm: a train then would
    only deepen the queue (``train.QUEUED_S``); probes still start and ramp."""
    controller, path, decision, step = _after_a_knee(AbrConfig(), 2500)
    path.base_rtt_ms += 45
    _, sent = _run(controller, path, step, 20, decision)
    assert any(d.reason in CLIMBING for t, d in path.trace if t >= step) and sent == 0
