"""The sans-IO receive policy on a fake clock: NACK scheduling, frame release, keyframe recovery."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from rtc_interact.errors import ConfigurationError
from rtc_interact.transport.nack import NackScheduler
from rtc_interact.transport.receive_buffer import (
    Frame,
    FrameBuffer,
    Packet,
    ReceiveConfig,
    SeqUnwrapper,
)

NO_PLAYOUT = ReceiveConfig(playout_rtt_factor=0.0, initial_rtt_ms=100.0)
FRAME_MS = 33.0


def frame_packets(first_seq: int, index: int, count: int, *, key: bool = False,
                  at_ms: float = 0.0) -> list[Packet]:
    """The ``count`` packets of frame ``index`` (30 fps RTP clock), starting at ``first_seq``."""
    return [
        Packet(seq=first_seq + i, timestamp=index * 3000, marker=i == count - 1, start=i == 0,
               keyframe=key and i == 0, data=bytes([index % 256, i]), arrived_ms=at_ms)
        for i in range(count)
    ]


class Stream:
    """A sender of frames of ``size`` packets, every ``key_every``-th a keyframe (0: only the
    first), each arriving FRAME_MS after the previous on a fake clock."""

    def __init__(self, size: int = 3, key_every: int = 0) -> None:
        self.size, self.key_every = size, key_every
        self.seq, self.index, self.now = 1000, 0, 0.0

    def next_frame(self, key: bool | None = None) -> list[Packet]:
        if key is None:
            key = self.index == 0 or (self.key_every > 0 and self.index % self.key_every == 0)
        packets = frame_packets(self.seq, self.index, self.size, key=key, at_ms=self.now)
        self.seq += self.size
        self.index += 1
        self.now += FRAME_MS
        return packets


def feed(buffer: FrameBuffer, packets: list[Packet], now: float | None = None) -> list[Frame]:
    out: list[Frame] = []
    for packet in packets:
        at = packet.arrived_ms if now is None else now
        buffer.nack.on_packet(packet.seq, at)
        out += buffer.add(packet, at)
    return out


def test_sequence_numbers_unwrap_across_the_16_bit_boundary() -> None:
    unwrap = SeqUnwrapper()
    first = unwrap.unwrap(65534)
    assert [unwrap.unwrap(s) - first for s in (65535, 0, 1, 65535, 3)] == [1, 2, 3, 1, 5]


def test_timestamps_unwrap_with_a_32_bit_span() -> None:
    unwrap = SeqUnwrapper(1 << 32)
    first = unwrap.unwrap((1 << 32) - 3000)
    assert unwrap.unwrap(0) - first == 3000


def test_config_is_validated() -> None:
    with pytest.raises(ConfigurationError):
        ReceiveConfig(min_wait_ms=500, max_wait_ms=100)
    with pytest.raises(ConfigurationError):
        ReceiveConfig(nack_list_max=0)
    with pytest.raises(ConfigurationError):
        ReceiveConfig(playout_rtt_factor=-1)


# NACK scheduling

def test_a_gap_is_nacked_once_now_and_once_more_after_a_round_trip_then_never() -> None:
    nack = NackScheduler(ReceiveConfig(initial_rtt_ms=100.0, nack_echo_ms=0.0))
    nack.on_packet(10, 0.0)
    nack.on_packet(13, 5.0)
    assert nack.due(5.0) == [11, 12]
    assert nack.due(50.0) == []  # the answer to the first cannot be here yet
    assert nack.due(131.0) == [11, 12]  # 1.25 round trips later
    assert nack.due(400.0) == []  # two tries each: done
    assert nack.nacked == 4 and nack.nack_packets == 2 and nack.echoed == 0


def test_each_nack_goes_again_once_with_the_first_nack_packet_an_echo_later() -> None:
    nack = NackScheduler(ReceiveConfig(initial_rtt_ms=100.0, nack_echo_ms=30.0))
    nack.on_packet(11, 0.0)
    nack.on_packet(13, 5.0)
    assert nack.due(5.0) == [12]
    assert nack.due(20.0) == []  # not yet
    nack.on_packet(15, 40.0)  # 14 is missing too
    assert nack.due(40.0) == [12, 14]  # 12's echo, 14's first NACK
    assert nack.due(60.0) == []
    nack.on_packet(14, 65.0)  # filled: no echo for it
    assert nack.due(75.0) == []
    assert nack.due(110.0) == [12]  # the retry, 1.25 round trips after the first try
    assert nack.due(145.0) == [12]  # its echo; then nothing
    assert nack.due(400.0) == []
    assert (nack.nacked, nack.echoed, nack.nack_packets) == (3, 2, 4)


def test_a_new_gap_does_not_re_nack_the_old_ones() -> None:
    nack = NackScheduler(ReceiveConfig(initial_rtt_ms=100.0))
    nack.on_packet(10, 0.0)
    nack.on_packet(12, 1.0)
    assert nack.due(1.0) == [11]
    nack.on_packet(15, 20.0)
    assert nack.due(20.0) == [13, 14]


def test_no_nack_once_a_retransmission_would_come_too_late() -> None:
    config = ReceiveConfig(initial_rtt_ms=100.0, min_wait_ms=150.0, rtt_factor=1.0)
    nack = NackScheduler(config)
    nack.on_packet(1, 0.0)
    nack.on_packet(3, 0.0)
    assert nack.wait_ms() == 150.0
    assert nack.due(60.0) == []  # 60 ms missing + 100 ms round trip > 150 ms bound
    assert nack.first_seen(2) == 0.0  # still known missing (for the buffer's bound)


def test_the_nack_list_per_packet_is_capped_oldest_first() -> None:
    nack = NackScheduler(ReceiveConfig(nack_list_max=4))
    nack.on_packet(0, 0.0)
    nack.on_packet(11, 0.0)
    assert nack.due(0.0) == [1, 2, 3, 4]
    assert nack.due(0.0) == [5, 6, 7, 8]


def test_a_huge_jump_is_a_restart_not_loss() -> None:
    nack = NackScheduler(ReceiveConfig())
    nack.on_packet(0, 0.0)
    nack.on_packet(5000, 0.0)
    assert nack.due(0.0) == []


def test_round_trip_is_learned_from_retransmissions_nacked_once() -> None:
    nack = NackScheduler(ReceiveConfig(initial_rtt_ms=200.0))
    for i in range(20):
        base = i * 3
        nack.on_packet(base, i * 1000.0)
        nack.on_packet(base + 2, i * 1000.0)
        assert nack.due(i * 1000.0) == [base + 1]
        nack.on_packet(base + 1, i * 1000.0 + 150.0)
    assert 145.0 < nack.rtt_ms < 160.0
    assert nack.wait_ms() == pytest.approx(2.5 * nack.rtt_ms)


def copied(nack: NackScheduler, count: int, lag_ms: float, every: int = 1,
           first: int = 0) -> float:
    """Packets ``first`` on, 10 ms apart (packet n at n x 10 ms), every ``every``-th with a
    copy ``lag_ms`` later; returns the time of the last arrival."""
    for seq in range(first, first + count):
        nack.on_packet(seq, seq * 10.0)
        if seq % every == 0:
            nack.on_packet(seq, seq * 10.0 + lag_ms)
    return (first + count - 1) * 10.0 + lag_ms


def test_copies_are_counted_with_their_lag_and_nacks_still_go_at_once() -> None:
    nack = NackScheduler(ReceiveConfig(initial_rtt_ms=300.0))
    copied(nack, 200, 60.0)
    assert nack.copies == 200 and nack.copy_lag_ms == 60.0
    nack.on_packet(201, 2010.0)  # 200 lost: its copy may come, but a NACK costs little
    assert nack.due(2010.0) == [200] and nack.nacked == 1


def test_a_copy_that_fills_a_hole_after_its_nack_is_not_taken_for_a_round_trip() -> None:
    nack = NackScheduler(ReceiveConfig(initial_rtt_ms=300.0))
    copied(nack, 200, 50.0, every=4)
    nack.on_packet(202, 2020.0)  # 200 and 201 lost
    assert nack.due(2020.0) == [200, 201]
    nack.on_packet(200, 2050.0)  # 30 ms after the NACK: its copy, not a retransmission
    nack.on_packet(201, 2400.0)  # a retransmission, 380 ms after the NACK
    assert nack.rtt_ms == 300.0 + (380.0 - 300.0) / 4


def test_without_copies_lately_every_answer_to_a_nack_is_a_round_trip() -> None:
    nack = NackScheduler(ReceiveConfig(initial_rtt_ms=300.0))
    last = copied(nack, 200, 80.0)
    nack.on_packet(3000, last + 3000.0)  # a restart: no copy for 3 s
    nack.on_packet(3002, last + 3001.0)
    assert nack.due(last + 3001.0) == [3001]
    nack.on_packet(3001, last + 3051.0)  # 50 ms: fast, but no copies are coming any more
    assert nack.rtt_ms == 300.0 + (50.0 - 300.0) / 4


def steady(nack: NackScheduler, count: int) -> float:
    """Packets 0 to ``count - 1``, 10 ms apart; returns the time of the last."""
    for seq in range(count):
        nack.on_packet(seq, seq * 10.0)
    return (count - 1) * 10.0


def test_a_silence_nacks_the_packets_that_would_have_come_in_it() -> None:
    nack = NackScheduler(ReceiveConfig(initial_rtt_ms=200.0, quiet_ms=60.0, nack_echo_ms=0.0))
    last = steady(nack, 50)  # 49 at 490 ms
    nack.on_quiet(last + 50.0)
    assert nack.due(last + 50.0) == []  # not yet a silence
    nack.on_quiet(last + 70.0)
    assert nack.due(last + 70.0) == list(range(50, 57))  # 7 intervals of 10 ms
    nack.on_quiet(last + 100.0)
    assert nack.due(last + 100.0) == [57, 58, 59]  # the silence goes on: 3 more
    nack.on_packet(55, last + 120.0)  # the burst ends: 50-54 are missing, 56-59 unknown
    assert nack.due(last + 330.0) == [50, 51, 52, 53, 54]  # one retry each, 1.25 RTT on
    assert nack.first_seen(56) is None and nack.last_gap_ms == last + 120.0


def test_a_guessed_packet_that_was_only_late_is_no_round_trip() -> None:
    nack = NackScheduler(ReceiveConfig(initial_rtt_ms=200.0, quiet_ms=60.0))
    last = steady(nack, 50)
    nack.on_quiet(last + 80.0)
    assert nack.due(last + 80.0) == list(range(50, 58))
    nack.on_packet(50, last + 90.0)  # a jitter step, not a loss
    nack.on_packet(51, last + 91.0)
    assert nack.rtt_ms == 200.0 and nack.due(last + 500.0) == []
    assert nack.last_gap_ms == float("-inf")


def test_an_old_packet_in_a_silence_keeps_the_guesses_nacked() -> None:
    nack = NackScheduler(ReceiveConfig(initial_rtt_ms=200.0, quiet_ms=60.0))
    last = steady(nack, 50)
    nack.on_quiet(last + 80.0)
    assert nack.due(last + 80.0) == list(range(50, 58))
    nack.on_packet(45, last + 90.0)  # a copy of an old packet: the guesses stand
    nack.on_quiet(last + 100.0)
    assert nack.due(last + 100.0) == [] and nack.first_seen(57) == last + 80.0


def test_no_guesses_with_quiet_ms_zero_or_before_the_first_packets() -> None:
    nack = NackScheduler(ReceiveConfig(quiet_ms=0.0))
    nack.on_quiet(1000.0)
    last = steady(nack, 50)
    nack.on_quiet(last + 500.0)
    assert nack.due(last + 500.0) == []
    assert NackScheduler(ReceiveConfig()).due(1000.0) == []


def test_a_silence_counts_from_several_packet_intervals_on_a_sparse_stream() -> None:
    nack = NackScheduler(ReceiveConfig(quiet_ms=60.0))
    for seq in range(30):  # one packet every 50 ms: 4 intervals are 200 ms
        nack.on_packet(seq, seq * 50.0)
    nack.on_quiet(29 * 50.0 + 150.0)
    assert nack.due(29 * 50.0 + 150.0) == []
    nack.on_quiet(29 * 50.0 + 210.0)
    assert nack.due(29 * 50.0 + 210.0) == [30, 31, 32, 33]


# frame release

def test_frames_go_out_in_order_as_soon_as_their_last_packet_is_in() -> None:
    buffer, stream = FrameBuffer(NO_PLAYOUT), Stream()
    key = stream.next_frame()
    assert feed(buffer, key[:2]) == []
    [out] = feed(buffer, key[2:])
    assert out.keyframe and out.data == b"".join(p.data for p in key)
    assert [len(feed(buffer, stream.next_frame())) for _ in range(5)] == [1] * 5
    assert not buffer.waiting_for_keyframe and buffer.counters.frames == 6


def test_deltas_before_the_first_keyframe_are_dropped() -> None:
    buffer, stream = FrameBuffer(NO_PLAYOUT), Stream()
    stream.next_frame()  # the keyframe is lost entirely
    assert feed(buffer, stream.next_frame(key=False)) == []
    assert feed(buffer, stream.next_frame(key=False)) == []
    [out] = feed(buffer, stream.next_frame(key=True))
    assert out.keyframe
    assert buffer.counters.dropped_waiting_keyframe == 2


def test_a_retransmitted_packet_releases_the_frames_behind_it_at_once() -> None:
    buffer, stream = FrameBuffer(NO_PLAYOUT), Stream()
    feed(buffer, stream.next_frame())
    hole = stream.next_frame()
    feed(buffer, [hole[0], hole[2]])
    behind = [stream.next_frame() for _ in range(3)]
    assert sum(len(feed(buffer, f)) for f in behind) == 0  # waiting for the hole
    out = feed(buffer, [hole[1]], now=stream.now)
    assert [f.timestamp for f in out] == [3000, 6000, 9000, 12000]
    assert buffer.counters.abandoned == 0


def test_an_unrecovered_hole_is_abandoned_then_deltas_wait_for_a_keyframe() -> None:
    buffer, stream = FrameBuffer(NO_PLAYOUT), Stream()
    feed(buffer, stream.next_frame())
    lost = stream.next_frame()
    feed(buffer, lost[:1])
    wait = buffer.nack.wait_ms()
    released = []
    for _ in range(int(wait / FRAME_MS) + 3):  # more than the bound's worth of frames
        released += feed(buffer, stream.next_frame(key=False))
    assert released == [] and buffer.counters.abandoned == 1
    assert buffer.waiting_for_keyframe
    assert buffer.want_keyframe(stream.now)  # PLI
    assert not buffer.want_keyframe(stream.now + 299.0)  # rate limited
    assert buffer.counters.keyframes_requested == 1
    [out] = feed(buffer, stream.next_frame(key=True))
    assert out.keyframe and not buffer.waiting_for_keyframe
    assert len(feed(buffer, stream.next_frame(key=False))) == 1
    assert buffer.counters.dropped_waiting_keyframe > 0


def test_a_hole_is_waited_for_until_the_bound_and_no_longer() -> None:
    buffer = FrameBuffer(NO_PLAYOUT)
    feed(buffer, frame_packets(100, 0, 2, key=True), now=0.0)
    feed(buffer, frame_packets(102, 1, 2)[:1], now=33.0)  # 103 missing
    feed(buffer, frame_packets(104, 2, 2), now=66.0)  # complete, behind the hole
    wait = buffer.nack.wait_ms()
    assert buffer.poll(66.0 + wait - 1) == [] and buffer.counters.abandoned == 0
    assert buffer.poll(66.0 + wait) == [] and buffer.counters.abandoned == 1
    late = frame_packets(102, 1, 2)[1]
    assert buffer.add(late, 66.0 + wait + 1) == []
    assert buffer.counters.late_packets == 1


def test_no_abandon_while_nothing_later_is_complete() -> None:
    buffer = FrameBuffer(NO_PLAYOUT)
    feed(buffer, frame_packets(100, 0, 2, key=True), now=0.0)
    feed(buffer, frame_packets(102, 1, 3)[:1], now=33.0)
    feed(buffer, frame_packets(105, 2, 3)[:1], now=5000.0)  # incomplete too
    assert buffer.poll(10_000.0) == [] and buffer.counters.abandoned == 0


def test_a_decoder_error_makes_the_buffer_wait_for_a_keyframe() -> None:
    buffer, stream = FrameBuffer(NO_PLAYOUT), Stream()
    feed(buffer, stream.next_frame())
    buffer.on_decoder_error()
    assert feed(buffer, stream.next_frame(key=False)) == []
    assert buffer.want_keyframe(stream.now + 1000)
    assert len(feed(buffer, stream.next_frame(key=True))) == 1


def test_no_pli_while_frames_flow() -> None:
    buffer, stream = FrameBuffer(NO_PLAYOUT), Stream()
    for _ in range(20):
        feed(buffer, stream.next_frame())
        assert not buffer.want_keyframe(stream.now)


def test_padding_between_frames_does_not_break_the_chain() -> None:
    buffer = FrameBuffer(NO_PLAYOUT)
    feed(buffer, frame_packets(10, 0, 2, key=True), now=0.0)
    padding = Packet(12, 0, False, False, False, b"", 1.0)
    assert feed(buffer, [padding]) == []
    assert len(feed(buffer, frame_packets(13, 1, 2), now=33.0)) == 1


def test_frame_ends_are_found_without_marker_bits_from_the_next_timestamp() -> None:
    buffer = FrameBuffer(NO_PLAYOUT)
    unmarked = [Packet(p.seq, p.timestamp, False, p.start, p.keyframe, p.data, 0.0)
                for p in frame_packets(10, 0, 2, key=True)]
    assert feed(buffer, unmarked) == []
    assert len(feed(buffer, frame_packets(12, 1, 2)[:1], now=33.0)) == 1


def test_the_buffer_holds_at_most_max_packets() -> None:
    buffer = FrameBuffer(ReceiveConfig(max_packets=16, playout_rtt_factor=0.0))
    stream = Stream(size=4)
    feed(buffer, stream.next_frame())
    feed(buffer, stream.next_frame()[:3])  # a hole that nothing fills
    for _ in range(10):
        feed(buffer, stream.next_frame(key=False)[:3], now=0.0)  # never complete
    assert len(buffer._packets) <= 16


# playout delay

def released_after(buffer: FrameBuffer, packets: list[Packet]) -> float | None:
    """Feed a frame's packets, then step the fake clock until the buffer lets it go: how long
    after its last packet it went (None: not within 500 ms)."""
    if feed(buffer, packets):
        return 0.0
    arrived = packets[-1].arrived_ms
    return next((float(step) for step in range(500) if buffer.poll(arrived + step)), None)


def test_while_packets_go_missing_frames_play_out_a_round_trip_late() -> None:
    config = ReceiveConfig(initial_rtt_ms=100.0, playout_rtt_factor=1.0, playout_margin_ms=0.0)
    buffer, stream = FrameBuffer(config), Stream(size=2)
    for _ in range(5):
        assert len(feed(buffer, stream.next_frame())) == 1  # no loss: no delay
    assert buffer.playout_delay_ms(stream.now) == 0.0
    hole = stream.next_frame()
    feed(buffer, hole[1:])
    feed(buffer, [hole[0]], now=hole[0].arrived_ms + 50.0)  # recovered
    assert buffer.playout_delay_ms(stream.now) == 100.0
    delays = [d for d in (released_after(buffer, stream.next_frame()) for _ in range(40))
              if d is not None]
    assert delays[-1] == pytest.approx(100.0, abs=1.0)  # reached the round trip ...
    assert all(b - a <= 10.0 + 1.0 for a, b in itertools.pairwise(delays))  # ... gently
    assert buffer.playout_delay_ms(stream.now + 40_000) == 0.0  # forgotten after loss stops


@pytest.mark.parametrize("from_start", [True, False])
def test_given_the_ice_round_trip_frames_play_out_late_from_the_start(from_start: bool) -> None:
    config = ReceiveConfig(initial_rtt_ms=400.0, playout_margin_ms=30.0,
                           playout_from_start=from_start)
    buffer, stream = FrameBuffer(config), Stream(size=2)
    buffer.on_path_rtt(150.0, now_ms=0.0)  # (the NACKs' round trip stays a 400 ms guess)
    delays = [released_after(buffer, stream.next_frame()) for _ in range(30)]
    assert delays[0] == 0.0  # the first frame goes at once
    if from_start:  # nothing lost, yet held as after a loss: the delay grows to 150 - 30
        assert delays[-1] == pytest.approx(120.0, abs=1.0) and buffer.delay_ms == 120.0
        assert all(b - a <= 10.0 + 1.0 for a, b in itertools.pairwise(delays))  # gently
        assert buffer.playout_delay_ms(40_000.0) == 0.0  # forgotten after 30 s clean
        hole = stream.next_frame()  # once a packet goes missing, the NACKs' round trip
        feed(buffer, hole[1:])
        assert buffer.playout_delay_ms(stream.now) == 200.0  # (400 - 30, at most 200)
    else:
        assert set(delays) == {0.0}


def test_a_copy_of_a_held_packet_does_not_move_the_playout_clock() -> None:
    config = ReceiveConfig(initial_rtt_ms=200.0, playout_margin_ms=0.0)
    released: dict[str, list[float]] = {}
    for copies in (False, True):
        buffer, stream = FrameBuffer(config), Stream(size=1)
        feed(buffer, stream.next_frame())
        hole = stream.next_frame()  # lost, then recovered: the delay is on
        feed(buffer, stream.next_frame())
        feed(buffer, hole, now=hole[0].arrived_ms + 60.0)
        times = []
        for _ in range(100):
            packets = stream.next_frame()
            feed(buffer, packets)
            if copies:  # every packet again 100 ms later, while its frame is held
                feed(buffer, [dataclasses.replace(p, arrived_ms=p.arrived_ms + 100.0)
                              for p in packets])
            t, out = packets[0].arrived_ms, []
            while not out and t < packets[0].arrived_ms + 500:
                out = buffer.poll(t)
                t += 1.0
            times.append(t - 1.0 - packets[0].arrived_ms)
        released[str(copies)] = times
        assert buffer.counters.duplicates == (100 if copies else 0)
    assert released["True"][-10:] == released["False"][-10:]


def test_unanswered_plis_back_off_to_four_intervals_and_reset_on_a_keyframe() -> None:
    buffer = FrameBuffer(NO_PLAYOUT)
    feed(buffer, frame_packets(10, 1, 2), now=0.0)  # a delta first: waiting for a keyframe
    sent = [t for t in range(0, 6000, 10) if buffer.want_keyframe(float(t))]
    assert sent == [300, 900, 2100, 3300, 4500, 5700]  # 300, then 600, then 1200 apart
    assert buffer.counters.keyframes_requested == 6
    feed(buffer, frame_packets(12, 2, 2, key=True), now=6000.0)
    buffer.on_decoder_error()
    assert buffer.want_keyframe(6300.0)  # back to the short interval


def test_while_waiting_for_a_keyframe_only_its_packets_are_nacked() -> None:
    buffer = FrameBuffer(NO_PLAYOUT)
    feed(buffer, frame_packets(10, 0, 2, key=True), now=0.0)
    buffer.on_decoder_error()
    delta = frame_packets(12, 1, 3)
    feed(buffer, [delta[0]], now=33.0)
    buffer.nack.on_packet(delta[2].seq, 34.0)  # the NACK generator sees a packet first ...
    assert buffer.nack.due(34.0) == []  # ... but a delta's packet is useless now
    buffer.add(delta[2], 34.0)
    key = frame_packets(15, 2, 3, key=True)
    feed(buffer, [key[0], key[2]], now=66.0)
    assert buffer.nack.due(66.0) == [16]
    [out] = feed(buffer, [key[1]], now=100.0)
    assert out.keyframe and not buffer.waiting_for_keyframe


def test_the_playout_delay_leaves_a_margin_below_the_round_trip() -> None:
    buffer = FrameBuffer(ReceiveConfig(initial_rtt_ms=200.0, playout_margin_ms=80.0))
    buffer.nack.on_packet(1, 0.0)
    buffer.nack.on_packet(3, 0.0)
    assert buffer.playout_delay_ms(0.0) == 120.0
    buffer.nack.rtt_ms = 50.0
    assert buffer.playout_delay_ms(0.0) == 0.0
    buffer.nack.rtt_ms = 500.0
    assert buffer.playout_delay_ms(0.0) == ReceiveConfig().playout_max_ms  # latency budget


def test_a_keyframe_is_asked_for_early_once_the_first_nack_goes_unanswered() -> None:
    buffer = FrameBuffer(NO_PLAYOUT)  # round trip 100 ms: wait bound 250 ms
    feed(buffer, frame_packets(10, 0, 2, key=True), now=-1000.0)  # long before: no PLI since
    feed(buffer, frame_packets(12, 1, 2)[:1], now=33.0)  # 13 missing ...
    feed(buffer, frame_packets(14, 2, 2), now=66.0)  # ... found when 14 came
    assert buffer.nack.due(66.0) == [13]
    assert buffer.poll(200.0) == [] and not buffer.want_keyframe(200.0)  # not overdue yet
    assert buffer.poll(217.0) == [] and buffer.want_keyframe(217.0)  # 1.5 RTT: PLI, still waiting
    assert not buffer.waiting_for_keyframe and buffer.counters.abandoned == 0
    assert buffer.poll(230.0) == [] and not buffer.want_keyframe(230.0)  # once per hole
    late = frame_packets(12, 1, 2)[1]
    buffer.nack.on_packet(late.seq, 240.0)
    assert len(buffer.add(late, 240.0)) == 2  # it came after all: nothing lost


class LayeredStream(Stream):
    """A :class:`Stream` with two temporal layers: odd frames droppable, each packet carrying
    the TL0PICIDX of the newest base-layer frame."""

    def __init__(self, size: int = 2) -> None:
        super().__init__(size)
        self.tl0 = 250  # wraps past 255 within the test

    def next_frame(self, key: bool | None = None) -> list[Packet]:
        droppable = self.index % 2 == 1
        if not droppable:
            self.tl0 = (self.tl0 + 1) & 0xFF
        return [dataclasses.replace(p, droppable=droppable, tl0=self.tl0)
                for p in super().next_frame(key)]


def lossy_buffer() -> FrameBuffer:
    """A buffer that has seen loss lately: frames play out 150 ms after their arrival."""
    buffer = FrameBuffer(ReceiveConfig(initial_rtt_ms=180.0))
    buffer.nack.last_gap_ms = 0.0
    return buffer


@pytest.mark.parametrize("lose", ["one packet", "whole frame"])
def test_a_droppable_frame_with_a_hole_is_skipped_when_the_next_is_due(lose: str) -> None:
    stream, buffer = LayeredStream(), lossy_buffer()
    frames = [stream.next_frame() for _ in range(12)]
    hole = frames[5][1:] if lose == "one packet" else frames[5]  # frame 5 is droppable
    out = []
    for t in range(0, 900, 5):  # time passes; each packet arrives at its time
        arrived = [p for f in frames for p in f if t - 5 < p.arrived_ms <= t and p not in hole]
        out += feed(buffer, arrived, now=float(t)) + buffer.poll(float(t))
    shown = [f.timestamp // 3000 for f in out]
    assert shown == [i for i in range(12) if i != 5]
    assert buffer.counters.skipped == 1 and buffer.counters.abandoned == 0
    assert not buffer.waiting_for_keyframe and buffer.counters.keyframes_requested == 0
    late = out[5].timestamp // 3000  # frame 6 went when due, not after a round trip more
    assert late == 6


@pytest.mark.parametrize("lost", [4, 5])
def test_only_droppable_frames_are_skipped(lost: int) -> None:
    """A base-layer frame (4) with a hole is waited for and then abandoned as before; a
    droppable one (5) is skipped. Without TL0PICIDX nothing is skipped."""
    stream, buffer = LayeredStream(), lossy_buffer()
    frames = [stream.next_frame() for _ in range(30)]
    out = []
    for t in range(0, 1500, 5):
        arrived = [p for f in frames for p in f
                   if t - 5 < p.arrived_ms <= t and p is not frames[lost][0]]
        out += feed(buffer, arrived, now=float(t)) + buffer.poll(float(t))
    assert (buffer.counters.skipped, buffer.counters.abandoned) == \
        ((0, 1) if lost == 4 else (1, 0))
    plain = FrameBuffer(ReceiveConfig(initial_rtt_ms=180.0))
    plain.nack.last_gap_ms = 0.0
    for t in range(0, 1500, 5):
        arrived = [dataclasses.replace(p, tl0=None) for f in frames for p in f
                   if t - 5 < p.arrived_ms <= t and p is not frames[5][0]]
        feed(plain, arrived, now=float(t))
        plain.poll(float(t))
    assert (plain.counters.skipped, plain.counters.abandoned) == (0, 1)


def test_a_complete_keyframe_after_a_base_layer_hole_goes_when_due_without_the_wait() -> None:
    stream, buffer = LayeredStream(), lossy_buffer()
    frames = [stream.next_frame(key=i in (0, 8)) for i in range(12)]
    out = []
    for t in range(0, 900, 5):
        arrived = [p for f in frames for p in f
                   if t - 5 < p.arrived_ms <= t and p is not frames[4][0]]
        out += feed(buffer, arrived, now=float(t)) + buffer.poll(float(t))
        if any(f.timestamp == 8 * 3000 for f in out) and "key_at" not in locals():
            key_at = t
    assert [f.timestamp // 3000 for f in out] == [0, 1, 2, 3, 8, 9, 10, 11]
    assert buffer.counters.skipped == 1 and buffer.counters.abandoned == 0
    # due 150 ms after it arrived, not after the hole's wait bound (2.5 round trips)
    assert key_at <= frames[8][-1].arrived_ms + 200
