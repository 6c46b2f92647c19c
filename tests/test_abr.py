"""The sans-IO ABR controller on fake feedback: no clocks, no I/O."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from abr_fake import TICK, FakePath, first_time, probe_starts, run

from rtc_interact.errors import ConfigurationError
from rtc_interact.transport import abr
from rtc_interact.transport.abr import (
    AbrConfig,
    AbrController,
    Feedback,
)
from rtc_interact.transport.estimator import KneeMemory, LossDelayEstimator
from rtc_interact.transport.quality import Quality, grade

RATES = (1200.0, 530.0, 190.0, 80.0)


def test_starts_on_the_middle_rung() -> None:
    assert AbrController(RATES).rung == 1
    assert AbrController(RATES[1:]).rung == 1
    assert AbrController(RATES[:2]).rung == 0
    assert AbrController(RATES, AbrConfig(start_rung=0)).rung == 0


def test_a_clean_wide_path_climbs_to_the_top() -> None:
    controller, path = AbrController(RATES), FakePath(capacity=5000)
    run(controller, path, 0.0, 60)
    assert controller.rung == 0


def test_a_thin_path_settles_on_a_rung_that_fits_and_stays() -> None:
    controller, path = AbrController(RATES), FakePath(capacity=300)
    run(controller, path, 0.0, 90)
    late = [d.rung for t, d in path.trace if t >= 30]
    assert set(late) == {2}  # 190 kbps: the best rung under 300 kbps
    assert sum(1 for d in (d for _, d in path.trace) if d.reason == "up") <= 1


def test_data_traffic_on_the_path_leaves_less_room_for_video() -> None:
    """190 kbps of video fits 300 kbps alone, but not beside 150 kbps of taps and acks."""
    def late_rungs(report_other: bool) -> list[int]:
        controller = AbrController(RATES)
        path = FakePath(capacity=300, other_kbps=150, report_other=report_other)
        run(controller, path, 0.0, 90)
        return [d.rung for t, d in path.trace if t >= 30]

    counted, blind = late_rungs(True), late_rungs(False)
    assert set(counted) == {3}  # 80 kbps, and no probe fills the queue the taps need
    assert blind.count(2) >= 0.85 * len(blind)  # 190 + 150 > 300: the taps wait in a queue


def test_a_wide_path_climbs_while_taps_flow_and_a_storm_only_pauses_the_climb() -> None:
    controller, path = AbrController(RATES), FakePath(capacity=5000, other_kbps=150)
    run(controller, path, 0.0, 60)
    assert controller.rung == 0  # 150 kbps of taps is a small share of a wide path
    controller, path = AbrController(RATES), FakePath(capacity=5000, other_kbps=600)
    decision = run(controller, path, 0.0, 30)
    assert controller.rung == 2  # a heavy storm: the viewer stays where it is meanwhile
    path.other_kbps = 0.0
    run(controller, path, 30.0, 30, decision)
    assert controller.rung == 0


def test_step_down_fits_within_two_seconds() -> None:
    controller, path = AbrController(RATES, AbrConfig(start_rung=0)), FakePath(capacity=4000)
    decision = run(controller, path, 0.0, 20)
    assert controller.rung == 0
    path.capacity = 400
    run(controller, path, 20.0, 20, decision)
    took = first_time(path, 20.0, lambda rate: rate * 1.1 <= 400)
    assert took is not None and took <= 2.0


def test_step_up_reaches_the_best_rung_within_ten_seconds() -> None:
    controller, path = AbrController(RATES), FakePath(capacity=700)
    decision = run(controller, path, 0.0, 40)
    assert controller.rung == 1  # 530 fits 700
    path.capacity = 2500
    run(controller, path, 40.0, 20, decision)
    took = first_time(path, 40.0, lambda rate: rate == 1200)
    assert took is not None and took <= 10.0


def test_a_failed_probe_backs_off() -> None:
    controller, path = AbrController(RATES), FakePath(capacity=450)
    run(controller, path, 0.0, 120)
    probes = probe_starts(path)
    gaps = [b - a for a, b in itertools.pairwise(probes)]
    assert len(probes) >= 3 and min(gaps) >= AbrConfig().backoff_s  # backed off each time
    assert all(d.rung >= 2 for t, d in path.trace if t > 10)  # 530 never fits 450


@pytest.mark.parametrize(("config", "probes_at_most", "probes_at_least"), [
    (AbrConfig(), 5, 0),
    (AbrConfig(knee_memory_max_s=AbrConfig().knee_memory_s), None, 7),  # no doubling
    (AbrConfig(probe_knee_factor=float("inf")), None, 10),  # no knee rule
])
def test_no_probe_for_a_rung_far_above_the_rate_that_last_built_a_queue(
        config: AbrConfig, probes_at_most: int | None, probes_at_least: int) -> None:
    """abr-300-loss3: the 190 kbps rung and its copies fill a 300 kbps link, and a probe for
    the 530 kbps rung only fills its queue. Each that fails keeps the next away twice as long;
    a step up is still found, within about the longest of those waits and a slow ramp."""
    controller = AbrController(RATES, config)
    path = FakePath(capacity=300, pings=True, random_loss=0.03)
    decision = run(controller, path, 0.0, 150)
    probes = probe_starts(path)
    assert all(d.rung >= 2 for t, d in path.trace if t > 10)
    assert len(probes) >= probes_at_least
    if probes_at_most is not None:
        gaps = [b - a for a, b in itertools.pairwise(probes)]
        assert len(probes) <= probes_at_most and max(gaps) >= 2 * config.knee_memory_s
    path.capacity = 2500
    run(controller, path, 150.0, 80, decision)
    took = first_time(path, 150.0, lambda rate: rate >= 530)
    assert took is not None and took <= config.knee_memory_max_s + 20.0  # and the slow ramp


@pytest.mark.parametrize(("capacity", "cap"), [(300, True), (300, False), (900, True)])
def test_on_a_thin_path_the_copies_stay_under_the_rate_that_last_built_a_queue(
        capacity: float, cap: bool) -> None:
    """abr-300-loss3: copies that follow the estimate fill the 300 kbps link every few
    seconds; under the knee (``knee_cap``) they leave it a margin. Where the next rung is in
    reach (here: none above), they fill the room as before."""
    controller = AbrController(RATES[1:], AbrConfig(knee_cap=cap))  # 530, 190, 80
    path = FakePath(capacity=capacity, pings=True, random_loss=0.03)
    queued = 0.0
    decision = run(controller, path, 0.0, 20)
    for i in range(int(70 / TICK)):
        decision = controller.update(path.feedback(20 + i * TICK, decision))
        path.trace.append((20 + i * TICK, decision))
        queued += TICK * (path.queue_ms > 30)
    late = [d for t, d in path.trace if t >= 20 and d.copy_kbps > 0]
    assert late  # the 3% of loss keeps the copies on
    if cap and capacity == 300:
        kneed = [d for d in late if d.knee_kbps is not None]
        assert queued < 3 and len(kneed) > 0.8 * len(late)
        assert all(d.target_kbps + d.copy_kbps <= AbrConfig().copy_fill * d.knee_kbps + 1e-6
                   for d in kneed if d.knee_kbps is not None)
    else:
        assert queued > 4 and all(d.knee_kbps is None for d in late)


def _probing(ping_ms: float | None) -> tuple[AbrController, float, int]:
    """A controller on the 190 kbps rung, probing (with pings of ``ping_ms`` if given); the
    time and the bytes of one sample."""
    controller = AbrController(RATES, AbrConfig(start_rung=2, copies=False))
    now, decision = 0.0, controller.update(Feedback(now=0.0, sent_bytes=0))
    while decision.padding_kbps == 0 and now < 10:
        now += TICK
        sent = int((decision.target_kbps + decision.padding_kbps) * TICK * 125)
        decision = controller.update(Feedback(now=now, sent_bytes=sent, loss=0.0, lost=0,
                                              rtt_ms=150, rtt_raw_ms=150, remb_kbps=400.0,
                                              ping_rtt_ms=ping_ms))
    assert decision.reason == "probe" and decision.padding_kbps > 0
    return controller, now + TICK, sent


@pytest.mark.parametrize(("lost", "ends"), [(1, False), (2, True)])
def test_a_probe_ends_on_loss_in_two_packets_not_in_one(lost: int, ends: bool) -> None:
    """A Chromium viewer's report spans ~16 packets at 190 kbps: one lost says 6%."""
    controller, now, sent = _probing(None)
    decision = controller.update(Feedback(now=now, sent_bytes=sent, loss=lost / 16,
                                          lost=lost, rtt_ms=150))
    assert (decision.padding_kbps == 0) == ends


@pytest.mark.parametrize("sign", [
    Feedback(now=0.0, sent_bytes=0, loss=2 / 16, lost=2, rtt_ms=150.0),
    Feedback(now=0.0, sent_bytes=0, remb_kbps=200.0, rtt_ms=150.0),
    Feedback(now=0.0, sent_bytes=0, rtt_ms=215.0),  # up by half of queue_ms
], ids=["loss", "remb", "rtt"])
@pytest.mark.parametrize(("ping_ms", "ends"), [(None, True), (150.0, False), (185.0, False),
                                              (195.0, True)])
def test_loss_a_falling_remb_or_the_round_trip_end_no_probe_while_pings_are_calm(
        sign: Feedback, ping_ms: float | None, ends: bool) -> None:
    """Calm pings: up by at most two thirds of ``ping_queue_ms`` (40 ms) over the smallest (150
    ms here); above, the pings themselves end the probe."""
    controller, now, sent = _probing(None if ping_ms is None else 150.0)
    decision = controller.update(replace(sign, now=now, sent_bytes=sent, ping_rtt_ms=ping_ms))
    assert (decision.padding_kbps == 0) == ends


def test_down_switch_is_immediate_when_the_rung_exceeds_the_estimate() -> None:
    controller = AbrController(RATES, AbrConfig(start_rung=0))
    controller.update(Feedback(now=0.0, sent_bytes=0))
    decision = controller.update(Feedback(now=1.0, sent_bytes=150_000, loss=0.9, rtt_ms=150))
    assert decision.reason == "down" and decision.target_kbps <= decision.estimate_kbps


@pytest.mark.parametrize(("loss", "ping_ms", "grows"), [
    (0.05, None, False), (0.05, 150.0, True), (0.05, 195.0, False), (0.08, 150.0, False),
    (0.03, None, True)],
    ids=["no-pings", "calm-pings", "a-ping-sign", "above-loss-calm", "below-loss-low"])
def test_moderate_loss_holds_the_estimate_unless_calm_pings_show_no_queue(
        loss: float, ping_ms: float | None, grows: bool) -> None:
    """Loss between ``loss_low`` and ``loss_high`` holds the estimate, unless pings come and
    show no queue (up by at most 40 ms over the smallest, 150 ms here): then only loss above
    ``loss_calm`` holds it."""
    estimator = LossDelayEstimator(AbrConfig(loss_weight=1.0), 500)
    estimator.update(Feedback(now=0.0, sent_bytes=0, ping_rtt_ms=ping_ms and 150.0))
    for i in range(1, 10):
        kbps = estimator.update(Feedback(now=float(i), sent_bytes=62_500, loss=loss,
                                         rtt_ms=150, ping_rtt_ms=ping_ms))
    assert (kbps > 500) == grows


def test_queueing_delay_backs_off() -> None:
    estimator = LossDelayEstimator(AbrConfig(), 1000)
    estimator.update(Feedback(now=0.0, sent_bytes=0, rtt_ms=150))
    kbps = estimator.update(Feedback(now=1.0, sent_bytes=125_000, rtt_ms=400))
    assert kbps < 1000


def test_a_queue_in_the_raw_round_trip_backs_off_before_the_smoothed_one_shows_it() -> None:
    """aiortc smooths its round trip by 0.85 a report: a 400 ms queue showed there ~8 s late."""
    estimator = LossDelayEstimator(AbrConfig(), 500)
    estimator.update(Feedback(now=0.0, sent_bytes=0, rtt_ms=160, rtt_raw_ms=175))
    kbps = estimator.update(Feedback(now=1.0, sent_bytes=37_500, rtt_ms=175, rtt_raw_ms=290))
    assert kbps == 500  # 115 ms over the smallest: not yet a queue
    kbps = estimator.update(Feedback(now=2.0, sent_bytes=37_500, rtt_ms=190, rtt_raw_ms=323))
    assert kbps < 300  # 148 ms over: a queue, although the smoothed round trip is up by 30


@pytest.mark.parametrize("memory_s", [15.0, 0.0])
def test_above_the_rate_that_built_the_last_queue_the_estimate_grows_additively(
        memory_s: float) -> None:
    estimator = LossDelayEstimator(AbrConfig(knee_memory_s=memory_s), 500)
    for i in range(5):  # 300 kbps sent, clean
        estimator.update(Feedback(now=float(i), sent_bytes=37_500, rtt_ms=150, rtt_raw_ms=160))
    queued = estimator.update(Feedback(now=5.0, sent_bytes=37_500, rtt_ms=160, rtt_raw_ms=300))
    assert queued == pytest.approx(0.85 * 300, rel=0.02)
    for i in range(6, 12):
        kbps = estimator.update(Feedback(now=float(i), sent_bytes=37_500, rtt_ms=150,
                                         rtt_raw_ms=160))
    if memory_s:  # back above 300 within a second or two, then 3% of 300 a second
        assert 300 < kbps < 300 + 6 * 0.03 * 300 + 40
    else:  # 15% a second all the way, to the ceiling of 1.5 x what is sent
        assert kbps > 440


@pytest.mark.parametrize(("rtt_ms", "cover"), [(150.0, 1.0), (340.0, AbrConfig().copy_cover)])
def test_after_loss_copies_fill_the_spare_room_and_stop_once_the_path_is_clean(
        rtt_ms: float, cover: float) -> None:
    controller, path = AbrController(RATES), FakePath(capacity=5000, base_rtt_ms=rtt_ms)
    hold = controller.config.copy_hold_s
    run(controller, path, 0.0, 40)
    assert controller.rung == 0 and all(d.copy_kbps == 0 for t, d in path.trace if t >= hold)
    path.random_loss = 0.02
    decision = run(controller, path, 40.0, 20)
    assert decision is not None and decision.rung == 0
    # every packet (the room holds twice the rung); on a long path the rung's overshoot too
    assert decision.copy_kbps == pytest.approx(RATES[0] * cover)
    path.random_loss = 0.0
    decision = run(controller, path, 60.0, hold - 1, decision)
    assert decision is not None and decision.copy_kbps > 0
    decision = run(controller, path, 59.0 + hold, 2, decision)
    assert decision is not None and decision.copy_kbps == 0


@pytest.mark.parametrize(("ping_ms", "halved"), [(None, True), (150.0, False)])
def test_a_reports_own_round_trip_up_halves_the_copies_before_the_smoothed_one_moves(
        ping_ms: float | None, halved: bool) -> None:
    """... unless pings come and show no queue: then they alone tell one."""
    controller = AbrController(RATES, AbrConfig(start_rung=0))
    decision = None
    for i in range(40):  # 10 s at 1200 kbps with 2% loss and 150 ms, room for copies
        decision = controller.update(Feedback(
            now=i * TICK, sent_bytes=75_000, loss=0.02 if i % 4 == 0 else None,
            rtt_ms=150.0 if i % 4 == 0 else None, rtt_raw_ms=150.0 if i % 4 == 0 else None,
            remb_kbps=3000.0, ping_rtt_ms=ping_ms))
    assert decision is not None and decision.copy_kbps > 300
    queued = controller.update(Feedback(now=10.0, sent_bytes=75_000, loss=0.02, rtt_ms=165.0,
                                        rtt_raw_ms=250.0, remb_kbps=3000.0, ping_rtt_ms=ping_ms))
    expected = decision.copy_kbps / 2 if halved else decision.copy_kbps
    assert queued.copy_kbps == pytest.approx(expected, rel=0.05)
    assert queued.rung == 0 and queued.estimate_kbps >= decision.estimate_kbps


@pytest.mark.parametrize(("signs", "halved"), [(3, False), (4, True), (8, True)])
def test_a_second_of_ping_signs_in_a_row_halves_the_copies(signs: int, halved: bool) -> None:
    """One ping sign can be jitter and is no sign for the copies; four in a row (a second) are
    a queue that the copies keep standing (mobile-3g-weak, ``RESULTS.md`` §31.3 and §32)."""
    controller = AbrController(RATES, AbrConfig(start_rung=0))
    decision = after = None
    for i in range(40):  # 10 s at 1200 kbps with 2% loss and 150 ms, room for copies
        decision = controller.update(Feedback(
            now=i * TICK, sent_bytes=75_000, loss=0.02 if i % 4 == 0 else None,
            remb_kbps=3000.0, ping_rtt_ms=150.0))
    assert decision is not None and decision.copy_kbps > 300
    for i in range(signs):  # up by 45 ms: a sign, short of a queue that lowers the estimate
        after = controller.update(Feedback(now=10.0 + i * TICK, sent_bytes=75_000,
                                           remb_kbps=3000.0, ping_rtt_ms=195.0))
    assert after is not None and after.estimate_kbps == decision.estimate_kbps
    share = after.copy_kbps / decision.copy_kbps
    if signs == 8:  # halved again, less what they grew back in between
        assert share < 0.45
    else:
        assert share == pytest.approx(0.5 if halved else 1.0, rel=0.05)


@pytest.mark.parametrize(("at_start", "rtt_ms", "copied"),
                         [(True, 340.0, True), (False, 340.0, False), (True, 150.0, False)])
def test_copies_flow_from_the_start_of_a_long_path_before_any_loss_is_reported(
        at_start: bool, rtt_ms: float, copied: bool) -> None:
    # no loss report yet; the receiver's REMB leaves room beside the rung
    controller = AbrController(RATES, AbrConfig(start_rung=1, copy_at_start=at_start))
    hold, decisions = controller.config.copy_hold_s, []
    for i in range(int(2 * hold / TICK)):
        decisions.append(controller.update(Feedback(
            now=i * TICK, sent_bytes=int(600 * TICK * 125), remb_kbps=3000.0,
            rtt_ms=rtt_ms if i % 4 == 3 else None)))
    early = [d.copy_kbps for d in decisions[:int(hold / TICK)]]
    assert (max(early) > RATES[1] / 2) is copied
    assert all(d.copy_kbps == 0 for d in decisions[int(hold / TICK):])  # clean since


def test_copies_use_only_the_room_the_rung_leaves_and_never_push_it_down() -> None:
    rungs = {}
    for copies in (False, True):
        controller = AbrController(RATES, AbrConfig(copies=copies))
        path = FakePath(capacity=1000, random_loss=0.02)
        run(controller, path, 0.0, 60)
        late = [d for t, d in path.trace if t >= 30]
        rungs[copies] = {d.rung for d in late}
        for d in late:
            assert d.copy_kbps == 0 or \
                d.target_kbps + d.copy_kbps <= AbrConfig().copy_fill * d.estimate_kbps + 1e-6
            assert d.copy_kbps <= d.target_kbps  # a 150 ms path: within the rung's rate
            assert copies or d.copy_kbps == 0
        if copies:
            assert sum(d.copy_kbps for d in late) / len(late) > 0.3 * RATES[1]
    assert rungs[True] == rungs[False] == {1}  # 530 kbps under 1000, copies or not


@pytest.mark.parametrize(("path_rtt_ms", "first_long", "rung"),
                         [(340.0, True, 2), (340.0, False, None), (150.0, True, None),
                          (220.0, True, None), (None, True, None)])
def test_a_path_the_ice_checks_show_long_starts_copied_on_a_rung_that_fits_its_copies(
        path_rtt_ms: float | None, first_long: bool, rung: int | None) -> None:
    controller = AbrController(RATES, AbrConfig(copy_first_long=first_long))
    decision = controller.start(0.0, path_rtt_ms)  # before any receiver report
    if rung is None:  # nothing known, a path where a retransmission lands in time, or one
        assert decision is None and controller.rung == 1  # a check's jitter may have made long
        return
    # the estimate starts at 530 x 1.15: 530 kbps with its copies would not fit, 190 does
    assert decision is not None and decision.rung == rung
    assert decision.copy_kbps == pytest.approx(RATES[rung] * AbrConfig().copy_cover)
    assert decision.base_copies == 2  # the base layer twice, droppable frames what is left
    once = AbrController(RATES, AbrConfig(copy_base_twice=False)).start(0.0, path_rtt_ms)
    assert once is not None and once.base_copies == 1


@pytest.mark.parametrize("first_long", [True, False])
def test_a_long_path_climbs_with_its_copies_and_keeps_them_across_the_switch(
        first_long: bool) -> None:
    controller = AbrController(RATES, AbrConfig(copy_first_long=first_long))
    path = FakePath(capacity=4000, base_rtt_ms=340, path_rtt_ms=340, random_loss=0.02)
    cover = controller.config.copy_cover
    decision = controller.start(0.0, path.path_rtt_ms)
    decision = run(controller, path, 0.25, 60, decision)
    assert decision is not None and decision.rung == 0  # the top rung with its copies fits
    short = [t for t, d in path.trace if d.copy_kbps < 0.9 * cover * d.target_kbps]
    if first_long:  # every rung the viewer was on had all its packets copied
        assert short == []
    else:  # the copies wait for room after the start and after each up-switch
        assert len(short) * TICK > 5
    assert {d.base_copies for _, d in path.trace} == {2}  # on any path


@pytest.mark.parametrize(("first_rtt_ms", "later_rtt_ms", "ping_ms", "covered"), [
    (230.0, 185.0, 184.0, True), (230.0, 175.0, 184.0, False), (230.0, 185.0, 175.0, False),
    (185.0, 185.0, None, False), (185.0, 230.0, None, False)],
    ids=["long-then-jitter-under", "long-then-short", "pings-short", "never-long", "short-first"])
def test_a_path_taken_for_long_stays_long_until_its_round_trip_is_well_under_the_threshold(
        first_rtt_ms: float, later_rtt_ms: float, ping_ms: float | None, covered: bool) -> None:
    """mobile-3g-weak (180 ms, 20 ms of jitter each way) is long only through its jitter: its
    smallest round trip creeps under ``copy_long_rtt_ms`` (190 ms) mid-session, and the viewer
    lost its copies' cover there (``path_length.LONG_EXIT_MS``, ``benchmarks/RESULTS.md``
    §46). A path long at first stays so while its reports, ICE checks and pings stay within
    12 ms under the threshold; the smallest never rises, so a path short at first stays short."""
    controller = AbrController(RATES, AbrConfig(start_rung=1))
    decisions = []
    for i in range(40):  # 10 s, a receiver report each second, 2% of loss; pings after 2 s
        rtt = (first_rtt_ms if i < 8 else later_rtt_ms) if i % 4 == 0 else None
        decisions.append(controller.update(Feedback(
            now=i * TICK, sent_bytes=int(400 * TICK * 125), loss=0.02 if rtt else None,
            rtt_ms=rtt, remb_kbps=3000.0, path_rtt_ms=first_rtt_ms,
            ping_rtt_ms=ping_ms if i >= 8 else None)))
    cover = controller.config.copy_cover  # a covered path's copies keep their full share
    full = [d.copy_kbps >= 0.99 * cover * d.target_kbps for d in decisions]
    assert all(full[:8]) == (first_rtt_ms > 190) and any(full[:8]) == (first_rtt_ms > 190)
    assert full[-1] == covered


@pytest.mark.parametrize(("path_rtt_ms", "halved"), [(340.0, False), (None, True)])
def test_a_remb_that_falls_on_jitter_halves_copies_only_where_they_are_not_the_stream(
        path_rtt_ms: float | None, halved: bool) -> None:
    controller = AbrController(RATES, AbrConfig(start_rung=0))
    controller.start(0.0, path_rtt_ms)
    decision = None
    for i in range(40):  # 10 s on a 340 ms path at 1200 kbps with 2% loss and room to spare
        decision = controller.update(Feedback(
            now=i * TICK, sent_bytes=75_000, loss=0.02 if i % 4 == 0 else None,
            rtt_ms=340.0 if i % 4 == 0 else None, remb_kbps=4000.0, path_rtt_ms=path_rtt_ms))
    assert decision is not None and decision.copy_kbps > 0.9 * RATES[0]
    # the receiver's REMB falls by half with no round trip or loss to back it: plain jitter
    after = controller.update(Feedback(now=10.0, sent_bytes=75_000, remb_kbps=2000.0,
                                       path_rtt_ms=path_rtt_ms))
    assert after.rung == 0
    assert (after.copy_kbps < 0.6 * decision.copy_kbps) is halved


@pytest.mark.parametrize(("path_rtt_ms", "top"), [(340.0, True), (None, False)])
def test_random_loss_holds_no_climb_where_every_packet_has_a_copy(
        path_rtt_ms: float | None, top: bool) -> None:
    controller = AbrController(RATES)
    path = FakePath(capacity=4000, base_rtt_ms=340, path_rtt_ms=path_rtt_ms, random_loss=0.06)
    decision = controller.start(0.0, path_rtt_ms)
    run(controller, path, 0.25, 60, decision)
    # 6% of random loss with the round trip level: a viewer loses a packet only with its
    # copy (0.36%), so the climb goes on; without the copies' cover it is real loss
    late = {d.rung for t, d in path.trace if t > 50}
    assert late == {0} if top else 0 not in late


def test_on_a_long_path_only_the_share_copied_squares_the_loss() -> None:
    config = AbrConfig(start_rung=0, loss_weight=1.0, copy_keep=0.0)  # stays on the top rung
    controller = AbrController(RATES, config)
    for i in range(8):  # on the top rung, whose estimate (1200 x 1.15) leaves few copies room
        decision = controller.update(Feedback(
            now=0.25 * (i + 1), sent_bytes=45_000, loss=0.10, rtt_ms=340.0, path_rtt_ms=340.0))
        assert decision.copy_kbps < 0.2 * RATES[0]
    # 10% reported, with ~15% of the packets copied: ~8.6% is lost to the viewer, not 1%
    assert isinstance(controller.estimator, LossDelayEstimator)
    assert controller.estimator.loss > 0.08


def test_config_is_validated() -> None:
    with pytest.raises(ConfigurationError):
        AbrConfig(loss_low=0.2, loss_high=0.1)
    with pytest.raises(ConfigurationError):
        AbrConfig(loss_low=0.05, loss_calm=0.03)
    with pytest.raises(ConfigurationError):
        AbrConfig(knee_memory_s=-1)
    with pytest.raises(ConfigurationError):
        AbrConfig(copy_keep=1.5)
    with pytest.raises(ConfigurationError):
        AbrConfig(probe_knee_factor=0.5)
    with pytest.raises(ConfigurationError):
        AbrConfig(thin_s=-1)
    with pytest.raises(ConfigurationError):
        AbrController((100.0, 200.0))
    with pytest.raises(ConfigurationError):
        AbrController(RATES, AbrConfig(start_rung=9))


@pytest.mark.parametrize(("loss", "rtt", "rung", "age", "expected"), [
    (0.0, 100.0, 0, 1.0, Quality.EXCELLENT),
    (0.03, 100.0, 0, 1.0, Quality.GOOD),
    (0.0, 450.0, 1, 1.0, Quality.GOOD),
    (0.0, 100.0, 2, 1.0, Quality.POOR),
    (0.08, 100.0, 0, 1.0, Quality.POOR),
    (0.0, 100.0, 0, 9.0, Quality.LOST),
])
def test_grade(loss: float, rtt: float, rung: int, age: float, expected: Quality) -> None:
    assert grade(loss, rtt, rung, 3, age) is expected


def _queue_and_copies(pings: bool) -> tuple[float, float]:
    """Largest queue after the first 20 s, and mean copies after 30 s, of 90 s on a 300 kbps
    path with 2% of random loss (copies on, following the estimate: no ``knee_cap``)."""
    controller = AbrController(RATES, AbrConfig(knee_cap=False))
    path = FakePath(capacity=300, pings=pings, random_loss=0.02)
    decision, queues = None, []
    for i in range(int(90 / TICK)):
        decision = controller.update(path.feedback(i * TICK, decision))
        path.trace.append((i * TICK, decision))
        queues.append(path.queue_ms if i * TICK >= 20 else 0.0)
    late = [d.copy_kbps for t, d in path.trace if t >= 30]
    return max(queues), sum(late) / len(late)


def test_pings_keep_the_queue_that_copies_and_probes_build_on_a_thin_path_short() -> None:
    """The receiver reports' round trip shows a queue a second or more late; a ping every
    sample shows it within one."""
    reported_queue, reported_copies = _queue_and_copies(pings=False)
    pinged_queue, pinged_copies = _queue_and_copies(pings=True)
    assert reported_queue > 150 and pinged_queue < 100
    assert pinged_copies > 0.7 * reported_copies  # the copies still fill most of the room


def _pinged(estimator: LossDelayEstimator, now: float, ping_ms: float,
            raw_ms: float | None = None) -> float:
    return estimator.update(Feedback(now=now, sent_bytes=9_375, ping_rtt_ms=ping_ms,
                                     rtt_ms=raw_ms, rtt_raw_ms=raw_ms))  # 300 kbps sent


@pytest.mark.parametrize(("knee_ramp", "peak_at_most", "peak_at_least"), [
    (AbrConfig().probe_knee_ramp_per_s, 200, 0), (100.0, None, 250)])
def test_above_the_knee_a_probe_ramps_slowly_and_queues_little(
        knee_ramp: float, peak_at_most: float | None, peak_at_least: float) -> None:
    """abr-300-loss3: the lowest ping of a window shows a growing queue only once its oldest
    ping does, and an exponential ramp has gone well past the 300 kbps link by then. (The slow
    ramp's peak was 160 ms before pings up by 20-40 ms counted as calm, ``RESULTS.md`` §30:
    the probe now ends at 40 ms, not on a loss report once they are up by 20.)"""
    controller = AbrController(RATES[1:], AbrConfig(probe_knee_ramp_per_s=knee_ramp))
    path = FakePath(capacity=300, pings=True, random_loss=0.03, ping_window=4)
    run(controller, path, 0.0, 150)
    probes = probe_starts(path)
    assert len(probes) >= 2
    peaks = [max(path.queues[int(at / TICK):int(at / TICK) + 80]) for at in probes]
    assert max(peaks) >= peak_at_least and (peak_at_most is None or max(peaks) <= peak_at_most)
    path.capacity = 2500
    run(controller, path, 150.0, 80)
    took = first_time(path, 150.0, lambda rate: rate >= 530)
    assert took is not None and took <= AbrConfig().knee_memory_max_s + 10.0


def test_above_the_knee_an_up_switch_waits_until_the_pings_have_seen_the_next_rung() -> None:
    """mobile-3g-weak: a slow ramp creeps to just over the path's capacity, and a queue that
    grows by a few percent a second did not show within ``up_hold_s``; the viewer then sat on
    a rung that left no room for the margin (here 210 kbps for the 190 kbps rung's 218.5)."""
    controller = AbrController(RATES[1:], AbrConfig(start_rung=2))
    path = FakePath(capacity=210, pings=True, ping_window=4)
    run(controller, path, 0.0, 90)
    assert sum(TICK for _, d in path.trace if d.rung == 1) < 5  # without the wait: ~50 s


def test_a_ping_queue_backs_off_once_and_not_again_while_it_drains() -> None:
    estimator = LossDelayEstimator(AbrConfig(), 330)
    for i in range(8):
        kbps = _pinged(estimator, i * TICK, 150.0)
    kbps = _pinged(estimator, 2.0, 200.0)  # 50 ms: a queue beginning, no growth into it
    assert kbps == pytest.approx(estimator.kbps) and estimator.kbps >= 330
    held = estimator.kbps
    assert _pinged(estimator, 2.25, 200.0) == held
    cut = _pinged(estimator, 2.5, 240.0)  # 90 ms over: a queue
    assert cut == pytest.approx(0.85 * estimator.sent_kbps, rel=0.01) and cut < held
    # the pings still in the window were sent before the cut, the reports come later still
    assert _pinged(estimator, 3.0, 250.0) == cut
    assert _pinged(estimator, 3.5, 245.0, raw_ms=400.0) == cut
    assert _pinged(estimator, 4.5, 300.0) < cut  # grown by 30 ms more, after a window: again


def test_without_pings_the_reports_round_trip_still_tells_a_queue() -> None:
    estimator = LossDelayEstimator(AbrConfig(), 330)
    estimator.update(Feedback(now=0.0, sent_bytes=9_375, rtt_ms=150, rtt_raw_ms=150))
    _pinged(estimator, 0.25, 150.0)
    assert _pinged(estimator, 0.5, 150.0, raw_ms=400.0) == estimator.kbps  # pinging: ignored
    kbps = estimator.update(Feedback(now=3.0, sent_bytes=9_375, rtt_raw_ms=400))
    assert kbps < 300  # no ping for 2.5 s: the reports count again


@pytest.mark.parametrize(("keep", "rung"), [(0.5, 2), (0.0, 1)])
def test_a_covered_path_steps_down_to_a_rung_the_room_holds_with_a_share_of_its_copies(
        keep: float, rung: int) -> None:
    """After a capacity step down, the first cut can leave room for a rung but not for its
    copies, which then keep the queue full."""
    controller = AbrController(RATES, AbrConfig(copy_keep=keep))
    path = FakePath(capacity=4000, base_rtt_ms=340, path_rtt_ms=340, pings=True,
                    random_loss=0.02)  # lossy: copies on
    decision = run(controller, path, 0.0, 30, controller.start(0.0, path.path_rtt_ms))
    assert decision is not None and decision.rung == 0
    controller.estimator.kbps = 700.0  # a cut: 530 kbps fits, not with half of 610 of copies
    after = controller.update(Feedback(now=30.0, sent_bytes=0, path_rtt_ms=340))
    assert after.rung == rung
    if keep:
        assert controller.room >= RATES[rung] + keep * RATES[rung] * AbrConfig().copy_cover


def test_the_knee_is_kept_after_the_estimator_forgets_it_and_blocks_longer_per_failed_probe(
) -> None:
    knee = KneeMemory(memory_s=15.0, memory_max_s=60.0)
    assert not knee.blocks(610.0, 1.5, now=0.0)
    knee.note(280.0, now=10.0)
    knee.note(None, now=30.0)  # the estimator's memory ended: the rate stays, its block not
    assert knee.kbps == 280.0 and knee.blocks(610.0, 1.5, now=24.9)
    assert not knee.blocks(610.0, 1.5, now=25.0) and not knee.blocks(400.0, 1.5, now=11.0)
    for at, memory in ((30.0, 30.0), (60.0, 60.0), (120.0, 60.0)):
        knee.failed(610.0, 1.5, now=at)
        assert knee.memory_s == memory and knee.blocks(610.0, 1.5, now=at + memory - 0.1)
        assert not knee.blocks(610.0, 1.5, now=at + memory)
    knee.failed(400.0, 1.5, now=200.0)  # within reach of the knee: no longer wait
    assert knee.memory_s == 60.0 and not knee.blocks(610.0, 1.5, now=201.0)
    knee.switched_up(218.5)  # a rung below the knee: it still holds
    assert knee.kbps == 280.0 and knee.memory_s == 60.0
    knee.switched_up(609.5)
    assert knee.kbps is None and knee.memory_s == 15.0
    knee.note(280.0, now=201.0)  # the estimator still holds the knee the path has since carried
    assert knee.kbps is None
    knee.note(320.0, now=202.0)  # a new queue
    assert knee.kbps == 320.0 and knee.at == 202.0


@pytest.mark.parametrize(("refuted", "climb_s_at_most", "climb_s_at_least"), [
    (abr.KNEE_REFUTED, 10.0, 0.0), (float("inf"), None, 13.0)])
def test_a_probe_that_carries_well_past_the_knee_with_no_queue_forgets_it(
        monkeypatch: pytest.MonkeyPatch, refuted: float, climb_s_at_most: float | None,
        climb_s_at_least: float) -> None:
    """congested-evening: a knee from before a capacity step up slowed every probe after it."""
    monkeypatch.setattr(abr, "KNEE_REFUTED", refuted)
    controller = AbrController(RATES[1:])
    path = FakePath(capacity=300, pings=True, ping_window=4)
    decision = run(controller, path, 0.0, 40)
    assert controller._knee.kbps is not None
    path.capacity = 2500
    run(controller, path, 40.0, 60, decision)
    probe = next(t for t in probe_starts(path) if t >= 40)
    up = first_time(path, probe, lambda rate: rate >= 530)
    assert up is not None and up >= climb_s_at_least
    assert climb_s_at_most is None or up <= climb_s_at_most
    assert max(path.queues[int(40 / TICK):]) < 50  # the climb queued nothing
