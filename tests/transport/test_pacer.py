"""The sans-IO pacer and retransmission gate (fake time)."""

from __future__ import annotations

from rtc_interact.transport.pacer import CopyBudget, Pacer, PaddingPackets, RetransmitGate


def test_a_burst_is_spread_at_the_rate() -> None:
    pacer = Pacer(rate_kbps=800, burst_s=0.0)
    waits = [pacer.delay(1000, now=10.0) for _ in range(10)]  # one keyframe: 10 x 1000 bytes
    assert waits[0] == 0.0
    assert abs(waits[-1] - 9 * 0.01) < 1e-9  # 8 kbit at 800 kbps = 10 ms apart


def test_idle_time_gives_only_the_burst_credit() -> None:
    pacer = Pacer(rate_kbps=800, burst_s=0.02)
    pacer.delay(1000, now=0.0)
    assert [pacer.delay(1000, now=5.0) for _ in range(3)] == [0.0, 0.0, 0.0]  # 20 ms credit
    assert pacer.delay(1000, now=5.0) > 0.0


def test_the_gate_resends_a_fresh_packet_once_per_round_trip() -> None:
    gate = RetransmitGate(budget_kbps=1000)
    gate.rtt_s = 0.2
    gate.sent(1, now=0.0, keyframe_start=True)
    assert gate.allow(1, 1200, now=0.15)
    assert not gate.allow(1, 1200, now=0.26)  # repeated within a round trip
    assert gate.counts().repeated == 1


def test_the_gate_skips_late_packets_and_frames_before_the_newest_keyframe() -> None:
    gate = RetransmitGate(budget_kbps=1000)
    gate.rtt_s = 0.2
    gate.sent(1, now=0.0, keyframe_start=True)
    gate.sent(2, now=0.0, keyframe_start=False)
    assert not gate.allow(1, 1200, now=0.55)  # older than two RTTs + 100 ms
    gate.sent(3, now=0.3, keyframe_start=True)
    assert not gate.allow(2, 1200, now=0.31)  # before the newest keyframe
    assert not gate.allow(99, 1200, now=0.31)
    counts = gate.counts()
    assert (counts.late, counts.unknown, counts.sent) == (2, 1, 0)


def _watched_gate() -> tuple[RetransmitGate, list[float]]:
    """A gate (200 ms round trip) that has sent a keyframe's first packet (1) and a base-layer
    packet (2, 30 ms later); the list of its ``on_stuck`` calls."""
    gate = RetransmitGate(budget_kbps=1000)
    gate.rtt_s = 0.2
    stuck: list[float] = []
    gate.on_stuck = stuck.append
    gate.sent(1, now=0.0, keyframe_start=True)
    gate.sent(2, now=0.03, keyframe_start=False)
    return gate, stuck


def test_a_late_nack_for_the_base_layer_since_the_keyframe_says_the_viewer_is_stuck() -> None:
    gate, stuck = _watched_gate()
    gate.sent(3, now=0.06, keyframe_start=False, droppable=True)  # skipped by the viewer
    gate.sent(6, now=0.09, keyframe_start=False)
    assert gate.allow(2, 1200, now=0.3)
    assert not gate.allow(2, 1200, now=0.4)  # repeated
    assert not gate.allow(2, 1200, now=0.6) and not gate.allow(2, 1200, now=0.72)  # once
    assert not any(gate.allow(3, 1200, now=t) for t in (0.6, 0.71, 0.82))
    assert not gate.allow(6, 1200, now=0.6)  # a late second NACK: ours asks for a keyframe
    assert stuck == [0.6]
    gate.sent(4, now=0.7, keyframe_start=True)  # a keyframe since frees the viewer anyway
    gate.sent(5, now=0.73, keyframe_start=False)
    assert not any(gate.allow(1, 1200, now=t) for t in (0.8, 0.91, 1.02))
    assert gate.allow(5, 1200, now=0.9)
    assert stuck == [0.6]
    counts = gate.counts()
    assert (counts.stuck, counts.late, counts.sent) == (1, 9, 2)


def test_an_echo_of_a_nack_that_came_is_ignored_and_is_not_another_try() -> None:
    gate, stuck = _watched_gate()
    assert gate.allow(2, 1200, now=0.2)
    assert not gate.allow(2, 1200, now=0.23)  # its echo (within half a round trip)
    assert not gate.allow(2, 1200, now=0.6)   # the retry, too late: a second try
    assert not gate.allow(2, 1200, now=0.63)  # its echo: not a third
    assert stuck == []
    assert not gate.allow(2, 1200, now=0.8)   # a third try: the viewer is stuck
    assert stuck == [0.8]
    counts = gate.counts()
    assert (counts.sent, counts.late, counts.repeated, counts.stuck) == (1, 2, 0, 1)


def test_an_echo_is_answered_when_the_nack_before_it_was_lost() -> None:
    gate = RetransmitGate(budget_kbps=1000)
    gate.rtt_s = 0.2
    gate.sent(1, now=0.0, keyframe_start=True)
    assert gate.allow(1, 1200, now=0.23)  # the first NACK never came; its echo did
    assert gate.counts().sent == 1


def test_a_base_layer_retransmission_leaves_twice_within_half_the_budget() -> None:
    gate = RetransmitGate(budget_kbps=96)  # 12 000 bytes per second
    gate.rtt_s = 0.2
    gate.sent(1, now=0.0, keyframe_start=True)
    gate.sent(2, now=0.01, keyframe_start=False, droppable=True)
    for seq in range(3, 20):
        gate.sent(seq, now=0.02, keyframe_start=False)
    assert gate.allow(1, 1200, now=0.2) and gate.echo(1, 1200, now=0.2)
    assert gate.allow(2, 1200, now=0.2) and not gate.echo(2, 1200, now=0.2)  # droppable
    echoed = [gate.echo(seq, 1200, 0.2) for seq in range(3, 20) if gate.allow(seq, 1200, 0.2)]
    # 10 packets of budget, echoes within the first 5: 1, its echo, 2, 3, its echo, 4 to 8
    assert echoed == [True] + [False] * 5
    gate.echo_delay_s = 0.0
    gate.sent(20, now=1.4, keyframe_start=False)
    assert gate.allow(20, 1200, now=1.5) and not gate.echo(20, 1200, now=1.5)
    counts = gate.counts()
    assert (counts.sent, counts.echoed, counts.over_budget) == (9, 2, 11)


def test_the_gate_caps_retransmissions_to_the_budget() -> None:
    gate = RetransmitGate(budget_kbps=96)  # 12 000 bytes per second
    gate.rtt_s = 1.0
    for seq in range(20):
        gate.sent(seq, now=0.0, keyframe_start=seq == 0)
    allowed = sum(gate.allow(seq, 1200, now=0.1) for seq in range(20))
    assert allowed == 10
    assert gate.counts().over_budget == 10
    assert gate.counts().skipped == 10


def test_copies_follow_their_rate_and_none_at_rate_zero() -> None:
    copies = CopyBudget(rate_kbps=0.0)
    assert not any(copies.take(1000, now=i * 0.01) for i in range(100))
    copies.rate_kbps = 400.0  # 50 kB/s: half of 100 kB/s of 1000-byte packets
    taken = sum(copies.take(1000, now=1.0 + i * 0.01) for i in range(1000))
    assert 480 <= taken <= 520 and copies.copied == taken


def test_a_keyframe_is_copied_whole_on_borrowed_credit() -> None:
    copies = CopyBudget(rate_kbps=80.0, burst_s=0.5)  # 10 kB/s, 5 kB of credit at most
    copies.take(1000, now=0.0)
    delta = [copies.take(1000, now=10.0) for _ in range(10)]
    assert sum(delta) == 5  # the credit a delta frame may use
    copies = CopyBudget(rate_kbps=80.0, burst_s=0.5)
    copies.take(1000, now=0.0)
    key = [copies.take(1000, now=10.0, keyframe=True) for _ in range(12)]
    assert sum(key) == 10  # 5 kB of credit and 5 kB borrowed
    assert not copies.take(1000, now=10.5)  # the debt is paid back first


def test_droppable_frames_get_copies_only_from_what_the_base_layer_leaves() -> None:
    # 100 kB/s of 1000-byte packets for 10 s, 60 kB/s of them in the base layer
    for kbps, base_min, dropped_range in ((400, 490, (0, 0)), (560, 594, (80, 110))):
        copies = CopyBudget(rate_kbps=kbps, burst_s=0.5)
        base = dropped = 0
        for i in range(1000):
            droppable = i % 10 >= 6
            taken = copies.take(1000, now=i * 0.01, droppable=droppable)
            base += taken and not droppable
            dropped += taken and droppable
        # 50 kB/s: all for the base layer; 70 kB/s: the base layer, and its 10 kB/s surplus
        assert base >= base_min and dropped_range[0] <= dropped <= dropped_range[1]
    copies = CopyBudget(rate_kbps=1000.0, burst_s=0.5)  # room for all: all get one
    copies.take(1000, now=0.0)
    assert all(copies.take(1000, now=1.0 + i * 0.01, droppable=i % 2 == 1) for i in range(100))


def test_every_base_layer_packet_gets_one_copy_before_any_gets_its_second() -> None:
    # 100 kB/s of 1000-byte packets, 60 kB/s of them in the base layer, copies at 115 kB/s:
    # 60 kB/s of first copies, the other 55 kB/s for second copies
    copies = CopyBudget(rate_kbps=920.0, burst_s=0.5)
    copies.base_copies = 2
    copies.take(1000, now=0.0)
    base, dropped = [], []
    for i in range(1000):
        droppable = i % 10 >= 6
        taken = copies.take(1000, now=1.0 + i * 0.01, droppable=droppable)
        (dropped if droppable else base).append(taken)
    assert set(base) == {1, 2} and set(dropped) == {0}  # a droppable frame lost is skipped
    assert 0.85 * 550 <= base.count(2) <= 550 + 58  # the rest of the budget, and the credit
    assert copies.copied == sum(base)
    copies.base_copies = 1
    assert copies.take(1000, now=100.0, keyframe=True) == 1
    copies.base_copies = 2
    assert copies.take(1000, now=200.0, keyframe=True) == 2


def test_padding_resends_the_newest_packets_fewest_times_first() -> None:
    recent = PaddingPackets(keep=3)
    assert recent.take() is None  # no media yet: padding alone
    for data in (b"a", b"b", b"c", b"d"):
        recent.sent(data)
    # newest first, each once, then round again; "a" has left the history
    assert [recent.take() for _ in range(6)] == [b"d", b"c", b"b", b"d", b"c", b"b"]
    recent.sent(b"e")  # a fresh packet goes before any second resend
    assert [recent.take() for _ in range(2)] == [b"e", b"e"]
