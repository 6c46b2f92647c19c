"""msgpack envelope codec: encode typed messages, decode and validate untrusted bytes.

Sans-IO and stateless. ``decode`` either returns a message of the expected direction or raises
:class:`~rtc_interact.errors.RemoteProtocolError` with an :class:`~rtc_interact.errors.ErrorCode`;
no other exception escapes it, whatever the input.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

import msgpack

from ..errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from .messages import (
    DOWNSTREAM_TYPES,
    MAX_MESSAGE_BYTES,
    PROTOCOL_VERSION,
    UPSTREAM_TYPES,
    Downstream,
    FieldSpec,
    Message,
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
        values[field.name] = body[spec.key]
    return cls(**values)


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
            max_bin_len=0, max_array_len=0, max_map_len=32, max_ext_len=0,
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
        if type(value) is not int:
            return f"{spec.key} must be an integer"
        if not spec.low <= value <= spec.high:
            return f"{spec.key}={value} outside {spec.low}..{spec.high}"
        return None
    if type(value) is not str:
        return f"{spec.key} must be a string"
    if not spec.low <= len(value) <= spec.high:
        return f"{spec.key} length {len(value)} outside {spec.low}..{spec.high}"
    return None
