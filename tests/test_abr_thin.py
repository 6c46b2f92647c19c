"""Thinning (``AbrConfig.thin_ping_ms``) in the sans-IO ABR controller: the newest pings far
up stop the copies and padding, and further up the droppable frames; and the viewer's reports
of a deep or fast-growing queue (``AbrConfig.queue_down_ms``, ``abr.STEP_RISE_MS``), which
switch it down at once, its copies on."""

from __future__ import annotations

from dataclasses import replace

import pytest
from abr_fake import TICK

from rtc_interact.transport import abr
from rtc_interact.transport.abr import AbrConfig, AbrController, Feedback
from rtc_interact.transport.estimator import LossDelayEstimator

RATES = (530.0, 190.0, 80.0)


def _thin_run(config: AbrConfig, pings: list[float | None]) -> list[abr.Decision]:
    """10 s on the 530 kbps rung (the top) at 650 kbps with 2% loss, room for copies, and
    calm pings (150 ms), then ``pings`` as the newest."""
    controller = AbrController(RATES, replace(config, start_rung=0))
    calm: list[float | None] = [150.0] * 40
    return [controller.update(Feedback(
        now=i * TICK, sent_bytes=int(650 * TICK * 125), loss=0.02 if i % 4 == 0 else None,
        remb_kbps=3000.0, ping_rtt_ms=150.0, ping_new_ms=ping))
        for i, ping in enumerate(calm + pings)]


@pytest.mark.parametrize(("excess", "copies", "frames"),
                         [(100.0, True, False), (140.0, False, False), (260.0, False, True)])
def test_the_newest_pings_far_up_stop_the_copies_and_further_up_thin_the_frames(
        excess: float, copies: bool, frames: bool) -> None:
    """``thin_ping_ms``: the window's lowest ping (``ping_rtt_ms``) still says 150 ms, but the
    newest came back 140 ms later: the copies and padding stop at once; 260 ms later (over
    ``THIN_FRAMES_FACTOR`` x 120), the droppable frames go too."""
    decisions = _thin_run(AbrConfig(), [150.0 + excess] + [None] * 3)
    before, after = decisions[39], decisions[40]
    assert not before.thin and before.rung == 0 and before.copy_kbps > 0
    assert (after.copy_kbps > 0) is copies and after.thin is frames
    assert after.padding_kbps == 0 and after.rung == 0
    assert all(d.thin is frames for d in decisions[40:])


def test_thinning_ends_thin_s_after_the_last_sign_and_is_off_at_zero() -> None:
    pings: list[float | None] = [400.0, None, 400.0] + [None] * 8
    decisions = _thin_run(AbrConfig(), pings)
    thin = [d.thin for d in decisions[40:]]
    assert thin == [True] * 6 + [False] * 5  # the last sign at 10.5 s, thin_s = 1.0
    assert all(d.copy_kbps == 0 for d in decisions[40:46])
    assert not any(d.thin for d in _thin_run(AbrConfig(thin_ping_ms=0), pings))


def test_no_thinning_where_the_copies_cover_the_path() -> None:
    """On a long path a packet without its copy freezes the picture: there no sign stops the
    copies or thins the frames (on mobile-3g-weak that froze 3 times a minute, not 0.3)."""
    controller = AbrController(RATES, AbrConfig(start_rung=0))
    decisions = [controller.update(Feedback(
        now=i * TICK, sent_bytes=int(650 * TICK * 125), loss=0.02 if i % 4 == 0 else None,
        remb_kbps=3000.0, rtt_ms=340.0, path_rtt_ms=340.0, ping_rtt_ms=340.0,
        ping_new_ms=340.0 if i < 40 else 700.0)) for i in range(44)]
    assert decisions[39].copy_kbps > 0
    assert not any(d.thin for d in decisions) and decisions[43].copy_kbps > 0


def test_while_thinned_a_rung_is_kept_only_with_a_climbs_margin() -> None:
    """On congested-evening's step to 600 kbps the estimate's cut (to 564) still held the
    530 kbps rung, which did not fit on the wire, and a queue came back when the thinning ended
    (``RESULTS.md`` §36). Thinned, the rung needs its rate x (1 + ``up_margin``) of room."""
    config = AbrConfig(copies=False, start_rung=0)
    controller = AbrController(RATES, config)
    sent = int(650 * TICK * 125)
    for i in range(40):
        controller.update(Feedback(now=i * TICK, sent_bytes=sent, remb_kbps=3000.0,
                                   ping_rtt_ms=150.0, ping_new_ms=150.0))
    assert controller.rung == 0 and controller.estimate > 530 * (1 + config.up_margin)
    estimator = controller.estimator
    assert isinstance(estimator, LossDelayEstimator)
    controller.estimate = estimator.kbps = 560.0  # a cut that still holds 530
    plain = controller.update(Feedback(now=10.0, sent_bytes=sent, remb_kbps=3000.0,
                                       ping_rtt_ms=150.0, ping_new_ms=150.0))
    assert plain.rung == 0 and plain.reason == "hold"
    thinned = controller.update(Feedback(now=10.25, sent_bytes=sent, remb_kbps=3000.0,
                                         ping_rtt_ms=150.0, ping_new_ms=300.0))
    assert thinned.rung == 1 and thinned.reason == "down"



def _top_rung(config: AbrConfig | None = None, sent_kbps: float = 650.0, loss: float = 0.02,
              **sample: float | None) -> tuple[AbrController, abr.Decision]:
    """10 s on the top rung sending ``sent_kbps``, a loss report of ``loss`` every second, and
    calm pings (150 ms) unless ``sample`` gives other fields; the controller and its last
    decision."""
    controller = AbrController(RATES, replace(config or AbrConfig(), start_rung=0))
    fields: dict[str, float | None] = {"remb_kbps": 3000.0, "ping_rtt_ms": 150.0,
                                       "ping_new_ms": 150.0, **sample}
    for i in range(40):
        decision = controller.update(Feedback(
            now=i * TICK, sent_bytes=int(sent_kbps * TICK * 125),
            loss=loss if i % 4 == 0 else None, **fields))
    return controller, decision


def _controller_with_copies(config: AbrConfig | None = None) -> AbrController:
    """10 s of ``_thin_run``'s calm: on the top rung, copies flowing."""
    return _top_rung(config)[0]


def test_a_deep_queue_in_the_viewers_report_switches_down_at_once_copies_on() -> None:
    """``queue_down_ms`` (160 ms): between two controller runs, one rung down, with the lower
    rung's copies, and no ping thins for two ``thin_s`` (the queue drains on the lower rung,
    whose copies cover the step's loss). A shallower report changes nothing, and no report
    switches onto the bottom rung."""
    controller = _controller_with_copies()
    sent = int(650 * TICK * 125)
    assert controller.on_queue(150.0, 10.05) is None
    assert controller.on_queue(185.0, 10.1) is None  # one deep report alone: not yet
    down = controller.on_queue(200.0, 10.15)
    assert down is not None and down.rung == 1 and down.reason == "down"
    assert not down.thin and down.copy_kbps == 190.0  # the 190 kbps rung's cap on a short path
    assert controller.switches == 1
    later = [controller.update(Feedback(now=10.0 + k * TICK, sent_bytes=sent, remb_kbps=3000.0,
                                        ping_rtt_ms=150.0, ping_new_ms=450.0))
             for k in range(1, 12)]
    assert all(d.rung == 1 for d in later)  # no climb back while the estimate stands
    assert [d.thin for d in later] == [False] * 8 + [True] * 3  # pings thin from 12.1 s
    assert controller.on_queue(300.0, 12.9) is None  # not onto the bottom rung
    assert controller.on_queue(300.0, 12.95) is None
    assert controller.rung == 1


def test_a_deep_report_switches_down_where_copies_cover_the_path_too() -> None:
    """On a long path the rung with its copies fills the link (congested-evening's 1200 kbps
    phase, when the ICE checks made it long): a report switches one rung down there too, and the
    lower rung keeps its full copies (``copy_cover`` x 190 kbps, its base layer twice)."""
    long_path, decision = _top_rung(sent_kbps=1200.0, rtt_ms=340.0, path_rtt_ms=340.0,
                                    ping_rtt_ms=340.0, ping_new_ms=None)
    assert decision.rung == 0  # covered: its copies at their full share
    assert decision.copy_kbps == pytest.approx(530.0 * AbrConfig().copy_cover)
    assert long_path.on_queue(300.0, 10.05) is None
    down = long_path.on_queue(300.0, 10.1)
    assert down is not None and down.rung == 1 and down.reason == "down"
    assert down.copy_kbps == pytest.approx(190.0 * AbrConfig().copy_cover)
    later = [long_path.update(Feedback(now=10.0 + k * TICK, sent_bytes=int(650 * TICK * 125),
                                       remb_kbps=3000.0, rtt_ms=340.0, ping_rtt_ms=340.0))
             for k in range(1, 12)]
    assert all(d.rung == 1 for d in later)  # no climb back before backoff_s


@pytest.mark.parametrize(("reports", "switches"), [
    ([(300.0, 10.1), (310.0, 10.25)], True), ([(300.0, 10.1), (310.0, 10.35)], False),
    ([(382.0, 10.1), (83.0, 10.15), (300.0, 10.2)], False), ([(300.0, 10.1)], False)],
    ids=["two-close", "two-apart", "one-between-shallow", "one"])
def test_a_switch_down_takes_two_deep_reports_close_together(
        reports: list[tuple[float, float]], switches: bool) -> None:
    """A capacity step's queue is reported every ~50 ms as it grows; one deep report alone
    (cn-brazil: 382 ms between reports of 60-90 ms, the path's queue never over 104 ms that
    second) switches nothing."""
    controller = _controller_with_copies()
    decisions = [controller.on_queue(queue_ms, now) for queue_ms, now in reports]
    assert all(d is None for d in decisions[:-1])
    assert (decisions[-1] is not None and decisions[-1].rung == 1) is switches
    assert controller.switches == int(switches)


def test_queue_reports_switch_nothing_before_a_sample_or_when_off() -> None:
    empty = AbrController(RATES, AbrConfig())
    assert empty.on_queue(300.0, 0.0) is None and empty.on_queue(300.0, 0.05) is None
    off = _controller_with_copies(AbrConfig(queue_down_ms=0))
    assert off.on_queue(900.0, 10.1) is None and off.on_queue(900.0, 10.15) is None


def _probing(config: AbrConfig) -> AbrController:
    """3 s on the 190 kbps rung with calm pings: a probe for the 530 kbps rung pads."""
    controller = AbrController(RATES, replace(config, start_rung=1, copies=False))
    decisions = [controller.update(Feedback(now=i * TICK, sent_bytes=int(250 * TICK * 125),
                                            remb_kbps=3000.0, ping_rtt_ms=150.0,
                                            ping_new_ms=150.0)) for i in range(12)]
    assert decisions[-1].padding_kbps > 0 and decisions[-1].reason in ("probe", "wait-up")
    return controller


@pytest.mark.parametrize(("queue_ms", "config", "ends"), [
    (120.0, AbrConfig(), True), (300.0, AbrConfig(), True), (90.0, AbrConfig(), False),
    (300.0, AbrConfig(queue_probe_ms=0), False)], ids=["deep", "deeper", "shallow", "off"])
def test_a_queue_in_the_viewers_report_ends_a_probe_at_once(
        queue_ms: float, config: AbrConfig, ends: bool) -> None:
    """``queue_probe_ms`` (100 ms): the probe's padding stops between two controller runs, the
    rung stays (a probe's queue is the probe's own), and the next climb waits ``backoff_s``.
    The pings would tell it a window and a round trip later."""
    controller = _probing(config)
    decision = controller.on_queue(queue_ms, 3.1)
    if not ends:
        assert decision is None and controller.update(Feedback(
            now=3.25, sent_bytes=int(250 * TICK * 125), remb_kbps=3000.0, ping_rtt_ms=150.0,
            ping_new_ms=150.0)).padding_kbps > 0
        return
    assert decision is not None and decision.reason == "hold" and decision.rung == 1
    assert decision.padding_kbps == 0 and controller.switches == 0
    waits, ended = [], 3.1
    for k in range(1, 100):  # a second probe ended so waits twice as long (a failed probe)
        now = 3.1 + k * TICK
        if controller.update(Feedback(now=now, sent_bytes=int(190 * TICK * 125),
                                      remb_kbps=3000.0, ping_rtt_ms=150.0,
                                      ping_new_ms=150.0)).padding_kbps > 0:
            waits.append(now - ended)
            if len(waits) == 2:
                break
            ended = now
            assert controller.on_queue(queue_ms, now) is not None
    assert controller.rung == 1 and len(waits) == 2
    assert waits[0] == pytest.approx(config.backoff_s, abs=TICK)
    assert waits[1] == pytest.approx(2 * config.backoff_s, abs=TICK)


def test_a_switch_down_on_a_report_brings_no_copies_where_nothing_was_lost() -> None:
    controller = _top_rung(loss=0.0, rtt_ms=150.0)[0]
    assert controller.on_queue(300.0, 10.05) is None
    down = controller.on_queue(300.0, 10.1)
    assert down is not None and down.rung == 1 and down.copy_kbps == 0


def test_a_deep_ping_thins_the_top_rung_and_switches_nothing() -> None:
    """A ping 140 ms up stops the 530 kbps rung's copies, and the viewer stays on it. (Switching
    it down instead, §47, also switched it down on the pings' jitter in congested-evening's
    1200 kbps phase: ``benchmarks/RESULTS.md`` §48.)"""
    decisions = _thin_run(AbrConfig(), [290.0] + [None] * 3)
    assert decisions[39].copy_kbps > 0 and decisions[39].rung == 0
    assert decisions[40].copy_kbps == 0 and decisions[40].rung == 0
    assert all(d.rung == 0 for d in decisions) and all(not d.thin for d in decisions)


@pytest.mark.parametrize(("reports", "down"), [
    ([(10.05, 70.0), (10.1, 143.0)], True),  # congested-evening's step, seed 4 (§48)
    ([(10.05, 90.0), (10.15, 130.0)], True),  # 40 ms up within 0.12 s, from 100 ms
    ([(10.05, 100.0), (10.1, 139.0)], False),  # 39 ms up: jitter
    ([(10.05, 60.0), (10.1, 99.0)], False),  # under queue_probe_ms
    ([(10.05, 70.0), (10.2, 150.0)], False),  # 0.15 s apart
    ([(10.05, 83.0), (10.1, 300.0)], False),  # faster than twice the time: an outlier
])
def test_a_report_that_grew_fast_switches_down_at_once(
        reports: list[tuple[float, float]], down: bool) -> None:
    """A report of 100 ms (``queue_probe_ms``) or more, 40 ms up on the previous one within
    0.12 s, and by at most twice the time (``abr.STEP_*``): a queue growing by a third of the
    time or faster, a capacity step. One rung down at once, with the lower rung's copies."""
    controller = _controller_with_copies()
    decisions = [controller.on_queue(queue, now) for now, queue in reports]
    assert decisions[0] is None
    last = decisions[-1]
    assert (last is not None and last.rung == 1 and last.copy_kbps == 190.0) is down
    assert controller.rung == (1 if down else 0)


def test_a_deep_ping_during_a_probe_stops_its_padding_and_keeps_the_rung() -> None:
    """A probe's padding makes its own queue: a deep ping stops the padding at once (the
    thinning), and the viewer stays on its rung, here the second of four."""
    controller = AbrController((1500.0, 530.0, 190.0, 80.0),
                               AbrConfig(start_rung=1, copies=False))
    decisions = [controller.update(Feedback(now=i * TICK, sent_bytes=int(600 * TICK * 125),
                                            remb_kbps=3000.0, ping_rtt_ms=150.0,
                                            ping_new_ms=150.0)) for i in range(12)]
    assert decisions[-1].padding_kbps > 0
    deep = controller.update(Feedback(now=12 * TICK, sent_bytes=int(900 * TICK * 125),
                                      remb_kbps=3000.0, ping_rtt_ms=150.0, ping_new_ms=300.0))
    assert deep.rung == 1 and deep.padding_kbps == 0 and controller.switches == 0
