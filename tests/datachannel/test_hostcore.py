from __future__ import annotations

import msgpack

from rtc_interact.datachannel import messages as m
from rtc_interact.datachannel.codec import encode
from rtc_interact.datachannel.hostcore import HostSessionCore, Limits, Sequencer
from rtc_interact.datachannel.ratelimit import RateLimit, TokenBucket
from rtc_interact.errors import ErrorCode
from rtc_interact.events import CommentReceived, MessageRejected, TapReceived

LIMITS = Limits(taps=RateLimit(10, 3), comments=RateLimit(1, 1))


def _core(seq: Sequencer | None = None, name: str = "v1") -> HostSessionCore:
    return HostSessionCore(name, f"id-{name}", LIMITS, seq or Sequencer(), now=0.0)


def test_tap_is_acknowledged_and_reported() -> None:
    out = _core().receive(encode(m.Tap(id=4, target="g")), now=0.0, wall_ms=1000)
    assert out.replies == [m.Ack(id=4, n=1, hts=1000)]
    assert out.events == [TapReceived("v1", "id-v1", 4, "g", 1, 1000)]
    assert out.broadcasts == []


def test_comment_is_acknowledged_and_broadcast() -> None:
    out = _core().receive(encode(m.Comment(id=1, text="hi")), now=0.0, wall_ms=5)
    assert out.replies == [m.Ack(id=1, n=1, hts=5)]
    assert out.broadcasts == [m.CommentPosted(n=1, author="id-v1", text="hi", hts=5)]
    assert isinstance(out.events[0], CommentReceived)


def test_ping_is_answered_with_pong() -> None:
    out = _core().receive(encode(m.Ping(id=2, ts=77)), now=0.0, wall_ms=99)
    assert out.replies == [m.Pong(id=2, ts=77, hts=99)]


def test_tap_numbers_are_host_wide() -> None:
    seq = Sequencer()
    a, b = _core(seq, "a"), _core(seq, "b")
    numbers = [c.receive(encode(m.Tap(id=i)), 0.0, 0).replies[0]
               for i, c in enumerate((a, b, a))]
    assert [r.n for r in numbers if isinstance(r, m.Ack)] == [1, 2, 3]


def test_malformed_message_gets_error_reply_and_session_keeps_working() -> None:
    core = _core()
    out = core.receive(b"\xc1garbage", 0.0, 0)
    assert isinstance(out.replies[0], m.ErrorReply)
    assert out.replies[0].code == ErrorCode.MALFORMED
    assert isinstance(out.events[0], MessageRejected)
    assert core.errors[ErrorCode.MALFORMED] == 1
    assert core.receive(encode(m.Tap(id=9)), 0.0, 0).replies[0] == m.Ack(id=9, n=1, hts=0)


def test_rate_limit_refuses_then_recovers() -> None:
    core = _core()
    replies = [core.receive(encode(m.Tap(id=i)), 0.0, 0).replies[0] for i in range(5)]
    assert [type(r) for r in replies] == [m.Ack] * 3 + [m.ErrorReply] * 2
    refused = replies[3]
    assert isinstance(refused, m.ErrorReply)
    assert (refused.code, refused.ref) == (ErrorCode.RATE_LIMITED, 3)
    assert isinstance(core.receive(encode(m.Tap(id=9)), 0.2, 0).replies[0], m.Ack)
    assert core.errors[ErrorCode.RATE_LIMITED] == 2
    assert core.received["tap"] == 4


def test_limits_are_per_kind() -> None:
    core = _core()
    core.receive(encode(m.Comment(id=1, text="a")), 0.0, 0)
    assert isinstance(core.receive(encode(m.Comment(id=2, text="b")), 0.0, 0).replies[0],
                      m.ErrorReply)
    assert isinstance(core.receive(encode(m.Tap(id=3)), 0.0, 0).replies[0], m.Ack)


def test_unknown_type_from_viewer_is_refused() -> None:
    out = _core().receive(msgpack.packb({"v": 1, "t": "welcome", "id": 3}), 0.0, 0)
    reply = out.replies[0]
    assert isinstance(reply, m.ErrorReply)
    assert (reply.code, reply.ref) == (ErrorCode.UNKNOWN_TYPE, 3)


def test_token_bucket_refills_at_rate() -> None:
    bucket = TokenBucket(RateLimit(2, 2), now=0.0)
    assert [bucket.allow(0.0) for _ in range(3)] == [True, True, False]
    assert bucket.allow(0.5) is True
    assert bucket.allow(0.5) is False
    assert bucket.allow(10.0) and bucket.allow(10.0) and not bucket.allow(10.0)


def test_duplicate_tap_is_answered_with_the_same_ack_and_recorded_once() -> None:
    core = _core()
    first = core.receive(encode(m.Tap(id=7, target="g")), 0.0, 100)
    copy = core.receive(encode(m.Tap(id=7, target="g")), 0.005, 105)
    late_copy = core.receive(encode(m.Tap(id=7, target="g")), 0.08, 180)  # spread copy
    again = core.receive(encode(m.Tap(id=7, target="g")), 0.5, 900)
    assert copy.replies == late_copy.replies == []  # redundant copies: already answered
    assert again.replies == first.replies == [m.Ack(id=7, n=1, hts=100)]
    assert again.events == copy.events == [] and len(first.events) == 1
    assert core.duplicates == 3 and core.received["tap"] == 1


def test_duplicates_do_not_use_up_the_rate_limit() -> None:
    core = _core()
    core.receive(encode(m.Tap(id=1)), 0.0, 0)
    for _ in range(10):
        core.receive(encode(m.Tap(id=1)), 0.0, 0)
    replies = [core.receive(encode(m.Tap(id=i)), 0.0, 0).replies[0] for i in (2, 3)]
    assert all(isinstance(r, m.Ack) for r in replies)


def test_taps_bundle_is_answered_with_one_acks_and_grouped_refusals() -> None:
    core = _core()
    core.receive(encode(m.Tap(id=1)), 0.0, 0)  # tap 1 already recorded: repeated in the bundle
    out = core.receive(encode(m.Taps(ids=(1, 2, 3, 3, 4, 5), target="g")), 0.15, 7)
    acks, refused = out.replies
    assert acks == m.Acks(ids=(1, 2, 3, 4), ns=(1, 2, 3, 4), hts=7)  # 1.5 tokens refilled
    assert isinstance(acks, m.Acks)
    assert acks.split()[0] == m.Ack(id=1, n=1, hts=7)
    assert isinstance(refused, m.ErrorReply) and refused.code == ErrorCode.RATE_LIMITED
    assert refused.refs == (5,) and refused.ref == 5
    assert [e.tap_id for e in out.events if isinstance(e, TapReceived)] == [2, 3, 4]
    assert core.received["tap"] == 4 and core.duplicates == 1


def test_taps_bundle_and_single_taps_share_dedupe_and_numbering() -> None:
    core = HostSessionCore("v", "id", Limits(taps=RateLimit(1000, 1000)), Sequencer(), 0.0)
    core.receive(encode(m.Taps(ids=(10, 11))), 0.0, 0)
    again = core.receive(encode(m.Tap(id=11)), 1.0, 0).replies
    assert again == [m.Ack(id=11, n=2, hts=0)]
    quiet = core.receive(encode(m.Taps(ids=(10, 11))), 1.001, 0).replies
    assert quiet == [m.Acks(ids=(10,), ns=(1,), hts=0)]  # 11 was answered 1 ms ago
