"""msgpack envelope codec: encode typed messages, decode and validate untrusted bytes.

Sans-IO and stateless. ``decode`` either returns a message of the expected direction or raises
:class:`~rtc_interact.errors.RemoteProtocolError` with an :class:`~rtc_interact.errors.ErrorCode`;
no other exception escapes it, whatever the input.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import msgpack

from ..errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from .messages import (
    DOWNSTREAM_TYPES,
    MAX_BUNDLE,
    MAX_MESSAGE_BYTES,
    PROTOCOL_VERSION,
    UPSTREAM_TYPES,
    Downstream,
    FieldSpec,
    Message,
    Request,
    Tap,
    Taps,
    Upstream,
)

M = TypeVar("M", bound=Message)


def encode(message: Message) -> bytes:
    """Encode ``message`` as a msgpack map with the envelope keys ``v`` and ``t``."""
    body: dict[str, Any] = {"v": PROTOCOL_VERSION, "t": message.TYPE}
    for spec, field in zip(message.FIELDS, dataclasses.fields(message), strict=True):
        value = getattr(message, field.name)
        if value is None and not spec.required:
            continue
        problem = _check(spec, value)
        if problem:
            raise LocalProtocolError(ErrorCode.INVALID_FIELD, f"{message.TYPE}.{problem}")
        body[spec.key] = value
    data: bytes = msgpack.packb(body, use_bin_type=True)
    if len(data) > MAX_MESSAGE_BYTES:
        raise LocalProtocolError(ErrorCode.TOO_LARGE, f"{len(data)} bytes > {MAX_MESSAGE_BYTES}")
    return data


def pack(messages: Iterable[Request]) -> list[bytes]:
    """Encode what leaves in one go: taps with the same target share ``taps`` bundles.

    A burst of taps then costs a few SCTP packets instead of one each, so it neither fills the
    association's congestion window nor multiplies the chance of loss. Repeats of one id (copies)
    go into different bundles; a bundle of one is sent as a plain ``tap``.
    """
    out: list[bytes] = []
    bundles: dict[str, list[list[int]]] = {}
    for message in messages:
        if not isinstance(message, Tap) or message.mts is not None:
            out.append(encode(message))
            continue
        groups = bundles.setdefault(message.target, [])
        ids = next((g for g in groups if len(g) < MAX_BUNDLE and message.id not in g), None)
        if ids is None:
            groups.append([message.id])
        else:
            ids.append(message.id)
    for target, groups in bundles.items():
        out += [encode(Tap(ids[0], target) if len(ids) == 1 else Taps(tuple(ids), target))
                for ids in groups]
    return out


def decode_upstream(data: bytes | str) -> Upstream:
    """Decode a viewer-to-host message; raises RemoteProtocolError on any fault."""
    return _decode(data, UPSTREAM_TYPES)


def decode_downstream(data: bytes | str) -> Downstream:
    """Decode a host-to-viewer message; raises RemoteProtocolError on any fault."""
    return _decode(data, DOWNSTREAM_TYPES)


def _decode(data: bytes | str, types: Mapping[str, type[M]]) -> M:
    body = _unpack(data)
    ref = body.get("id")
    ref_id = ref if type(ref) is int and 0 <= ref < 2**32 else None
    version = body.get("v")
    if type(version) is not int:
        raise RemoteProtocolError(ErrorCode.MALFORMED, "missing or non-integer 'v'", ref_id)
    if version != PROTOCOL_VERSION:
        raise RemoteProtocolError(
            ErrorCode.UNSUPPORTED_VERSION,
            f"version {version} not supported (this side speaks {PROTOCOL_VERSION})",
            ref_id,
        )
    kind = body.get("t")
    cls = types.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise RemoteProtocolError(ErrorCode.UNKNOWN_TYPE, f"unknown message type {kind!r}", ref_id)
    values: dict[str, Any] = {}
    for spec, field in zip(cls.FIELDS, dataclasses.fields(cls), strict=True):
        if spec.key not in body:
            if spec.required:
                raise RemoteProtocolError(
                    ErrorCode.INVALID_FIELD, f"{kind}.{spec.key} is missing", ref_id
                )
            continue
        problem = _check(spec, body[spec.key])
        if problem:
            raise RemoteProtocolError(ErrorCode.INVALID_FIELD, f"{kind}.{problem}", ref_id)
        value = body[spec.key]
        values[field.name] = tuple(value) if spec.kind is tuple else value
    try:
        return cls(**values)
    except LocalProtocolError as exc:  # a rule across fields (see Acks)
        raise RemoteProtocolError(exc.code, exc.reason, ref_id) from None


def _unpack(data: bytes | str) -> dict[str, Any]:
    if not isinstance(data, bytes | bytearray):
        raise RemoteProtocolError(ErrorCode.MALFORMED, "text frame; messages are binary msgpack")
    if len(data) > MAX_MESSAGE_BYTES:
        raise RemoteProtocolError(
            ErrorCode.TOO_LARGE, f"{len(data)} bytes > {MAX_MESSAGE_BYTES}"
        )
    try:
        body = msgpack.unpackb(
            bytes(data), raw=False, strict_map_key=True, max_str_len=MAX_MESSAGE_BYTES,
            max_bin_len=0, max_array_len=MAX_BUNDLE, max_map_len=32, max_ext_len=0,
        )
    except Exception as exc:  # msgpack raises many types (ValueError, ExtraData, ...)
        reason = f"not msgpack: {type(exc).__name__}"
        raise RemoteProtocolError(ErrorCode.MALFORMED, reason) from None
    if not isinstance(body, dict):
        raise RemoteProtocolError(ErrorCode.MALFORMED, "top level must be a map")
    return body


def _check(spec: FieldSpec, value: object) -> str | None:
    """Return what is wrong with ``value`` for ``spec``, or None when it is fine."""
    if spec.kind is int:
        return _check_int(spec, value)
    if spec.kind is tuple:
        if not isinstance(value, list | tuple):
            return f"{spec.key} must be an array"
        if not 1 <= len(value) <= spec.items:
            return f"{spec.key} length {len(value)} outside 1..{spec.items}"
        return next(filter(None, (_check_int(spec, item) for item in value)), None)
    if type(value) is not str:
        return f"{spec.key} must be a string"
    if not spec.low <= len(value) <= spec.high:
        return f"{spec.key} length {len(value)} outside {spec.low}..{spec.high}"
    return None


def _check_int(spec: FieldSpec, value: object) -> str | None:
    if type(value) is not int:
        return f"{spec.key} must be an integer"
    if not spec.low <= value <= spec.high:
        return f"{spec.key}={value} outside {spec.low}..{spec.high}"
    return None
