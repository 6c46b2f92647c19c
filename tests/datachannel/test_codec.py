from __future__ import annotations

import dataclasses

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtc_interact.datachannel import messages as m
from rtc_interact.datachannel.codec import decode_downstream, decode_upstream, encode
from rtc_interact.errors import ErrorCode, LocalProtocolError, RemoteProtocolError

ALL_TYPES = [*m.UPSTREAM_TYPES.values(), *m.DOWNSTREAM_TYPES.values()]


def _value(spec: m.FieldSpec, length: int) -> st.SearchStrategy[object]:
    if spec.kind is int:
        return st.integers(spec.low, spec.high)
    if spec.kind is tuple:  # every array of one message gets the same length (see Acks)
        item = st.integers(spec.low, spec.high)
        return st.lists(item, min_size=length, max_size=length).map(tuple)
    return st.text(min_size=spec.low, max_size=min(spec.high, 40))


@st.composite
def messages(draw: st.DrawFn) -> m.Message:
    cls = draw(st.sampled_from(ALL_TYPES))
    length = draw(st.integers(1, m.MAX_BUNDLE))
    fields = zip(cls.FIELDS, dataclasses.fields(cls), strict=True)
    values = {f.name: draw(_value(spec, length)) for spec, f in fields}
    return cls(**values)


@given(messages())
def test_every_message_round_trips(message: m.Message) -> None:
    data = encode(message)
    decode = decode_upstream if message.TYPE in m.UPSTREAM_TYPES else decode_downstream
    assert decode(data) == message


@settings(max_examples=2000)
@given(st.binary(max_size=200))
def test_random_bytes_give_a_typed_error_or_a_valid_message(data: bytes) -> None:
    for decode in (decode_upstream, decode_downstream):
        try:
            result = decode(data)
        except RemoteProtocolError as exc:
            assert isinstance(exc.code, ErrorCode)
        else:
            assert type(result) in ALL_TYPES


@given(st.dictionaries(st.sampled_from(["v", "t", "id", "target", "text", "ts", "x"]),
                       st.one_of(st.integers(-5, 2**33), st.text(max_size=5), st.booleans(),
                                 st.none(), st.floats(allow_nan=False)), max_size=6))
def test_random_maps_give_a_typed_error_or_a_valid_message(body: dict[str, object]) -> None:
    data = msgpack.packb(body)
    try:
        result = decode_upstream(data)
    except RemoteProtocolError as exc:
        assert exc.code in (ErrorCode.MALFORMED, ErrorCode.UNSUPPORTED_VERSION,
                            ErrorCode.UNKNOWN_TYPE, ErrorCode.INVALID_FIELD)
    else:
        assert type(result) in m.UPSTREAM_TYPES.values()


def _raw(**body: object) -> bytes:
    return msgpack.packb(body)


@pytest.mark.parametrize(("data", "code"), [
    (b"\xc1", ErrorCode.MALFORMED),
    (msgpack.packb([1, 2]), ErrorCode.MALFORMED),
    (_raw(v=1, t="tap", id=1) + b"\x00", ErrorCode.MALFORMED),
    (_raw(t="tap", id=1), ErrorCode.MALFORMED),
    (_raw(v=2, t="tap", id=1), ErrorCode.UNSUPPORTED_VERSION),
    (_raw(v=1, t="dance", id=1), ErrorCode.UNKNOWN_TYPE),
    (_raw(v=1, t="ack", id=1, n=1, hts=1), ErrorCode.UNKNOWN_TYPE),
    (_raw(v=1, t="tap"), ErrorCode.INVALID_FIELD),
    (_raw(v=1, t="tap", id=True), ErrorCode.INVALID_FIELD),
    (_raw(v=1, t="tap", id=-1), ErrorCode.INVALID_FIELD),
    (_raw(v=1, t="tap", id=1, target="x" * 65), ErrorCode.INVALID_FIELD),
    (_raw(v=1, t="comment", id=1, text=""), ErrorCode.INVALID_FIELD),
    (_raw(v=1, t="comment", id=1, text="x" * 9000), ErrorCode.TOO_LARGE),
    ("a text frame", ErrorCode.MALFORMED),
])
def test_bad_upstream_messages_are_typed(data: bytes | str, code: ErrorCode) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        decode_upstream(data)
    assert info.value.code == code


def test_error_carries_the_offending_id_when_readable() -> None:
    with pytest.raises(RemoteProtocolError) as info:
        decode_upstream(_raw(v=1, t="tap", id=7, target=3))
    assert info.value.ref_id == 7


def test_unknown_extra_keys_are_ignored_for_forward_compatibility() -> None:
    assert decode_upstream(_raw(v=1, t="tap", id=3, future="x")) == m.Tap(id=3)


def test_encode_refuses_invalid_fields() -> None:
    with pytest.raises(LocalProtocolError):
        encode(m.Comment(id=1, text=""))
    with pytest.raises(LocalProtocolError):
        encode(m.Tap(id=2**32))


def test_wire_layout_is_a_flat_map_with_envelope_keys() -> None:
    body = msgpack.unpackb(encode(m.Ack(id=5, n=9, hts=1700000000000)))
    assert body == {"v": 1, "t": "ack", "id": 5, "n": 9, "hts": 1700000000000}


def test_bundle_limits_and_cross_field_rule_are_enforced() -> None:
    too_many = _raw(v=1, t="taps", ids=list(range(m.MAX_BUNDLE + 1)))
    with pytest.raises(RemoteProtocolError) as caught:
        decode_upstream(too_many)
    assert caught.value.code in (ErrorCode.MALFORMED, ErrorCode.INVALID_FIELD)
    for ids in ([], [1, "2"], [1, -1], 7):
        with pytest.raises(RemoteProtocolError) as caught:
            decode_upstream(_raw(v=1, t="taps", ids=ids))
        assert caught.value.code == ErrorCode.INVALID_FIELD
    with pytest.raises(RemoteProtocolError) as caught:
        decode_downstream(_raw(v=1, t="acks", ids=[1, 2], ns=[5], hts=1))
    assert caught.value.code == ErrorCode.INVALID_FIELD
    assert decode_upstream(_raw(v=1, t="taps", ids=[3, 4])) == m.Taps(ids=(3, 4))


def test_pack_bundles_taps_by_target_and_keeps_copies_apart() -> None:
    from rtc_interact.datachannel.codec import pack

    taps = [m.Tap(id=i) for i in range(1, 4)] + [m.Tap(id=9, target="g"), m.Tap(id=1)]
    ping = m.Ping(id=50, ts=1)
    sent = [decode_upstream(d) for d in pack([*taps, ping])]
    assert sent == [ping, m.Taps(ids=(1, 2, 3)), m.Tap(id=1), m.Tap(id=9, target="g")]
    many = [decode_upstream(d) for d in pack([m.Tap(id=i) for i in range(300)])]
    assert [len(b.ids) for b in many if isinstance(b, m.Taps)] == [128, 128, 44]
