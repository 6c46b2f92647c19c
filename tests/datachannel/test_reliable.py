"""The fast path over a deterministic fake link (seeded loss, bursts, reordering, duplicates)."""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from rtc_interact.datachannel import messages as m
from rtc_interact.datachannel.codec import decode_downstream, encode
from rtc_interact.datachannel.hostcore import HostSessionCore, Limits, Sequencer
from rtc_interact.datachannel.ratelimit import RateLimit
from rtc_interact.datachannel.reliable import (
    AnswerLog,
    ReliableSender,
    RetransmitPolicy,
    RttEstimator,
)
from rtc_interact.errors import ConfigurationError
from rtc_interact.events import TapReceived

Lose = Callable[[random.Random], bool]


def bernoulli(pct: float) -> Lose:
    return lambda rng: rng.random() < pct / 100


def bursty(pct: float, burst: float) -> Lose:
    """Gilbert loss: leave the bad state with probability 1/burst."""
    r = 1 / burst
    p = r * pct / (100 - pct)
    state = {"bad": False}

    def lose(rng: random.Random) -> bool:
        state["bad"] = rng.random() >= r if state["bad"] else rng.random() < p
        return state["bad"]

    return lose


@dataclass
class FakeLink:
    """One direction: delay, optional jitter that reorders, loss and duplication."""

    delay_s: float
    lose: Lose
    rng: random.Random
    jitter_s: float = 0.0
    duplicate_pct: float = 0.0
    queue: list[tuple[float, int, bytes]] = field(default_factory=list)
    seq: int = 0

    def send(self, data: bytes, now: float) -> None:
        copies = 2 if self.rng.random() < self.duplicate_pct / 100 else 1
        for _ in range(copies):
            if self.lose(self.rng):
                continue
            self.seq += 1
            arrival = now + self.delay_s + self.rng.random() * self.jitter_s
            heapq.heappush(self.queue, (arrival, self.seq, data))

    def due(self, now: float) -> list[bytes]:
        out = []
        while self.queue and self.queue[0][0] <= now:
            out.append(heapq.heappop(self.queue)[2])
        return out


@dataclass
class Result:
    rtts: dict[int, float]
    recorded: list[int]
    transmissions: int
    expired: list[int]


def simulate(up: FakeLink, down: FakeLink, taps: int, policy: RetransmitPolicy,
             interval_s: float = 0.05, host_copies: int = 2, end_s: float = 60.0) -> Result:
    """Viewer taps every ``interval_s``; the host core answers; 1 ms time steps."""
    sender = ReliableSender(policy)
    core = HostSessionCore("v", "id", Limits(taps=RateLimit(1000, 1000)), Sequencer(), 0.0)
    rtts: dict[int, float] = {}
    recorded: list[int] = []
    expired: list[int] = []
    host_out: list[tuple[float, bytes]] = []
    for step in range(int(end_s * 1000)):
        now = step / 1000
        if step % round(interval_s * 1000) == 0 and now / interval_s < taps:
            tap_id = round(now / interval_s)
            for data in sender.send(tap_id, encode(m.Tap(id=tap_id)), now):
                up.send(data, now)
        poll = sender.poll(now)
        expired += poll.expired
        for data in poll.send:
            up.send(data, now)
        for data in up.due(now):
            outcome = core.receive(data, now, 0)
            recorded += [e.tap_id for e in outcome.events if isinstance(e, TapReceived)]
            for reply in outcome.replies:
                offsets = policy.copy_offsets_s[:host_copies]
                host_out += [(now + offset, encode(reply)) for offset in offsets]
        for _, data in [h for h in host_out if h[0] <= now]:
            down.send(data, now)
        host_out = [h for h in host_out if h[0] > now]
        for data in down.due(now):
            ack = decode_downstream(data)
            assert isinstance(ack, m.Ack)
            rtt = sender.acknowledge(ack.id, now)
            if rtt is not None:
                rtts[ack.id] = rtt
        if len(rtts) + len(expired) == taps and not host_out and step > taps * interval_s * 1000:
            break
    return Result(rtts, recorded, sender.transmissions, expired)


def _links(seed: int, delay_s: float, lose_up: Lose, lose_down: Lose,
           **kwargs: float) -> tuple[FakeLink, FakeLink]:
    rng = random.Random(seed)
    return FakeLink(delay_s, lose_up, rng, **kwargs), FakeLink(delay_s, lose_down, rng, **kwargs)


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_tap_is_acknowledged_and_recorded_exactly_once_under_loss(seed: int) -> None:
    up, down = _links(seed, 0.075, bernoulli(2), bernoulli(2))
    result = simulate(up, down, 1000, RetransmitPolicy())
    assert sorted(result.rtts) == list(range(1000))
    assert sorted(result.recorded) == list(range(1000))  # exactly once
    assert result.expired == []
    # two copies each way: a round trip fails only when both copies of one leg are lost
    assert _p(list(result.rtts.values()), 0.99) <= 0.150 * 1.5 + 0.030


def test_bursty_loss_reordering_and_duplicates_still_exactly_once() -> None:
    up, down = _links(7, 0.160, bursty(5, 4), bursty(5, 4), jitter_s=0.05, duplicate_pct=3)
    result = simulate(up, down, 500, RetransmitPolicy(copy_offsets_s=(0.0, 0.002, 0.027)))
    assert sorted(result.recorded) == list(range(500))
    assert sorted(result.rtts) == list(range(500))


def test_without_redundancy_a_lost_tap_waits_for_the_rto_not_a_second() -> None:
    up, down = _links(3, 0.075, bernoulli(10), bernoulli(0))
    result = simulate(up, down, 300, RetransmitPolicy(copy_offsets_s=(0.0,)), host_copies=1)
    slow = [r for r in result.rtts.values() if r > 0.16]
    assert slow, "10% loss must cost some taps a retransmission"
    assert _p(slow, 0.5) < 0.35  # one RTO (~RTT) late; stock SCTP waits at least 1 s
    assert max(slow) < 1.0
    assert sorted(result.recorded) == list(range(300))


def test_a_dead_link_gives_up_after_the_policy_deadline() -> None:
    up, down = _links(1, 0.05, bernoulli(100), bernoulli(0))
    policy = RetransmitPolicy(copy_offsets_s=(0.0,), give_up_s=3.0)
    result = simulate(up, down, 1, policy, end_s=5.0)
    assert result.expired == [0] and result.rtts == {}
    assert 3 <= result.transmissions <= 8  # exponential back-off, not a flood


def test_rtt_estimator_follows_rfc6298_and_karn() -> None:
    policy = RetransmitPolicy()
    rtt = RttEstimator()
    assert rtt.rto(policy) == policy.initial_rto_s
    rtt.update(0.1)
    assert (rtt.srtt, rtt.rttvar) == (0.1, 0.05)
    assert rtt.rto(policy) == pytest.approx(0.3)
    sender = ReliableSender(RetransmitPolicy(copy_offsets_s=(0.0,), initial_rto_s=0.2,
                                               min_rto_s=0.01), rtt)
    sender.send(1, b"x", now=0.0)
    assert sender.poll(0.31).send == [b"x"]  # retransmitted once the RTO passed
    assert sender.acknowledge(1, now=0.4) == pytest.approx(0.4)
    assert rtt.latest == 0.1  # ambiguous sample ignored


def test_copies_leave_on_their_offsets_then_retransmissions_back_off() -> None:
    sender = ReliableSender(RetransmitPolicy(copy_offsets_s=(0.0, 0.01, 0.02), initial_rto_s=0.1))
    assert sender.send(5, b"t", 0.0) == [b"t"]
    assert sender.next_wakeup() == pytest.approx(0.01)
    assert sender.poll(0.01).send == [b"t"]
    assert sender.poll(0.02).send == [b"t"]
    lag = sender.policy.coalesce_s  # a retransmission is woken for a little late
    assert sender.next_wakeup() == pytest.approx(0.12 + lag)
    assert sender.poll(0.1199).send == []  # never before the RTO
    assert sender.poll(0.1201).send == [b"t"]
    assert sender.next_wakeup() == pytest.approx(0.3201 + lag)


def test_copies_falling_due_close_together_leave_in_one_poll() -> None:
    """A burst's first sends spread over ~2 ms; their copies then go out as one bundle."""
    sender: ReliableSender[int] = ReliableSender(RetransmitPolicy(copy_offsets_s=(0.0, 0.03)))
    for i in range(20):
        assert sender.send(i, i, now=i * 0.0001) == [i]
    assert sender.next_wakeup() == pytest.approx(0.03)
    assert sender.poll(0.03).send == list(range(20))
    strict = ReliableSender(RetransmitPolicy(copy_offsets_s=(0.0, 0.03), coalesce_s=0.0))
    for i in range(20):
        strict.send(i, i, now=i * 0.0001)
    assert strict.poll(0.03).send == [0]
    retried = ReliableSender(RetransmitPolicy(copy_offsets_s=(0.0,), initial_rto_s=0.1))
    for i in range(20):
        retried.send(i, i, now=i * 0.0001)
    assert retried.next_wakeup() == pytest.approx(0.1 + 0.005)  # retransmissions: late, together
    assert retried.poll(0.105).send == list(range(20))


def test_policy_validation() -> None:
    with pytest.raises(ConfigurationError):
        RetransmitPolicy(copy_offsets_s=())
    with pytest.raises(ConfigurationError):
        RetransmitPolicy(copy_offsets_s=(0.01, 0.02))  # the first copy is the message itself
    with pytest.raises(ConfigurationError):
        RetransmitPolicy(copy_offsets_s=(0.0, 0.02, 0.01))
    with pytest.raises(ConfigurationError):
        RetransmitPolicy(min_rto_s=1.0, initial_rto_s=0.5)
    with pytest.raises(ConfigurationError):
        RetransmitPolicy(coalesce_s=0.05, min_rto_s=0.04)


def test_a_burst_goes_without_redundant_copies() -> None:
    sender = ReliableSender(RetransmitPolicy(copy_offsets_s=(0.0, 0.0, 0.0), redundant_below=2))
    assert len(sender.send(1, b"a", 0.0)) == 3
    assert len(sender.send(2, b"b", 0.0)) == 3
    assert len(sender.send(3, b"c", 0.0)) == 1  # two already unacknowledged
    assert len(sender.send(4, b"d", 0.0, congested=True)) == 1


def test_a_backed_up_channel_holds_copies_and_retransmissions_back() -> None:
    sender: ReliableSender[bytes] = ReliableSender(
        RetransmitPolicy(copy_offsets_s=(0.0, 0.01, 0.02), initial_rto_s=0.1, min_rto_s=0.05))
    assert sender.send(1, b"tap", 0.0) == [b"tap"]
    held = sender.poll(0.01, congested=True)
    assert held.send == [] and sender.next_wakeup() == pytest.approx(0.01 + 0.1 + 0.005)
    assert sender.poll(0.05, congested=False).send == []  # nothing due before the RTO
    assert sender.poll(0.11, congested=False).send == [b"tap"]  # then a retransmission


def test_default_copies_spread_past_a_loss_burst() -> None:
    """Two copies close together, the others tens of ms later, then one RTO after the last."""
    policy = RetransmitPolicy(initial_rto_s=0.3)
    sender: ReliableSender[bytes] = ReliableSender(policy)
    assert sender.send(1, b"t", 0.0) == [b"t"]
    times = []
    while len(times) < 3:
        wake = sender.next_wakeup()
        assert wake is not None
        assert sender.poll(wake).send == [b"t"]
        times.append(wake)
    assert times == pytest.approx(list(policy.copy_offsets_s[1:]))
    assert policy.copy_span_s >= 0.05  # spread over more than a burst of a few packets
    assert sender.next_wakeup() == pytest.approx(policy.copy_span_s + 0.3 + policy.coalesce_s)


def test_copies_beat_a_burst_that_swallows_every_packet_for_40_ms() -> None:
    """A loss burst in time (a fade): close copies die together, spread ones get through."""
    def burst_link(seed: int) -> FakeLink:
        link = FakeLink(0.09, lambda rng: False, random.Random(seed))
        send = link.send
        link.send = lambda data, now: None if (now % 0.5) < 0.04 else send(data, now)  # type: ignore[method-assign]
        return link
    close = simulate(burst_link(1), burst_link(2), 200, RetransmitPolicy(
        copy_offsets_s=(0.0, 0.002, 0.004, 0.006)), host_copies=4)
    spread = simulate(burst_link(1), burst_link(2), 200, RetransmitPolicy(),
                      host_copies=4)
    assert sorted(spread.recorded) == list(range(200))
    assert max(spread.rtts.values()) < 0.18 + 0.08 + 0.01  # never waits for a retransmission
    assert max(close.rtts.values()) > 0.18 + 0.2  # some waited an RTO


def test_after_a_retransmission_new_messages_wait_longer_until_a_clean_sample() -> None:
    """RFC 6298 5.7: a path that got slow is not flooded with retransmissions of every tap."""
    policy = RetransmitPolicy(copy_offsets_s=(0.0,), initial_rto_s=0.1, min_rto_s=0.01)
    sender: ReliableSender[bytes] = ReliableSender(policy)
    sender.send(1, b"a", 0.0)
    assert sender.poll(0.1).send == [b"a"]  # timed out: retransmitted
    sender.acknowledge(1, 0.12)  # ambiguous: no sample, the back-off stays
    sender.send(2, b"b", 0.15)
    lag = policy.coalesce_s
    assert sender.next_wakeup() == pytest.approx(0.15 + 0.2 + lag)  # backed-off RTO, not 0.1
    assert sender.acknowledge(2, 0.3) == pytest.approx(0.15)  # a clean sample
    sender.send(3, b"c", 0.4)
    assert sender.next_wakeup() == pytest.approx(0.4 + sender.rtt.rto(policy) + lag)


def test_an_answer_nobody_waits_for_is_a_duplicate_unless_late_or_stray() -> None:
    log = AnswerLog(kept=2)
    for request_id in (1, 2, 3, 4):
        log.sent(request_id)
    assert not log.is_event(1)  # request 1 was answered: this is its copy's answer
    log.gave_up(2)
    assert log.is_event(2)  # the late answer to a request that timed out, once
    assert not log.is_event(2)  # ... its copies' answers are duplicates
    assert log.is_event(9)  # an id never sent: stray
    for request_id in (3, 4, 1):  # only the newest two given up are remembered
        log.gave_up(request_id)
    assert not log.is_event(3) and log.is_event(4) and log.is_event(1)
    assert log.duplicates == 3
