"""The one place where rtc-interact changes aiortc / aioice behaviour.

aiortc is pinned to 1.16 (aioice 0.13). Everything here relies on internals of those versions, and
``tests/transport/test_aiortc_compat.py`` holds canary tests that fail if an upgrade moves them.

What is changed, and why:

* **Host candidate addresses.** ``aioice.ice.get_host_addresses`` lists every interface
  address except 127.0.0.1, so two peers on one machine cannot meet on loopback, and a host
  bound to 127.0.0.1 would advertise other interfaces. We wrap that function: inside
  ``with ice_host_addresses(("127.0.0.1",)):`` gathering offers exactly the listed
  addresses; outside it, aioice's own choice stands. The choice travels in a ``ContextVar``,
  so concurrent peers with different settings do not interfere (aiortc gathers inside
  ``setLocalDescription``, in the caller's task).
* **Keyframe counting (benchmarks only).** aiortc decodes VP8 with libvpx, whose decoded frames
  carry no keyframe flag. ``count_vp8_keyframes()`` wraps ``aiortc.codecs.vpx.Vp8Decoder.decode``
  while it is active and counts depayloaded frames whose VP8 header says "key frame" (the P bit,
  bit 0 of the first byte, is 0; RFC 6386 section 9.1). Behaviour is unchanged.
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
from collections.abc import Callable, Iterator

import aioice.ice
from aiortc.codecs import vpx
from aiortc.jitterbuffer import JitterFrame
from av.frame import Frame

from ..errors import ConfigurationError

TESTED_AIORTC = "1.16."
TESTED_AIOICE = "0.13."

_addresses: contextvars.ContextVar[tuple[str, ...] | None] = contextvars.ContextVar(
    "rtc_interact_ice_addresses", default=None
)
_original: Callable[[bool, bool], list[str]] = aioice.ice.get_host_addresses


def _host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    chosen = _addresses.get()
    if chosen is None:
        return _original(use_ipv4, use_ipv6)
    return [a for a in chosen if (use_ipv6 if ":" in a else use_ipv4)]


def install() -> None:
    """Install the wrapper (idempotent). Called when ``rtc_interact.transport.peer`` is imported."""
    if aioice.ice.get_host_addresses is not _host_addresses:
        aioice.ice.get_host_addresses = _host_addresses


@contextlib.contextmanager
def ice_host_addresses(addresses: tuple[str, ...] | None) -> Iterator[None]:
    """Within this block, ICE gathering offers exactly ``addresses`` (None: aioice's default)."""
    if addresses is not None:
        for address in addresses:
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise ConfigurationError(f"not an IP address: {address!r}") from None
    token = _addresses.set(addresses)
    try:
        yield
    finally:
        _addresses.reset(token)


class KeyframeCounter:
    """How many VP8 keyframes the process's aiortc decoders have been given."""

    def __init__(self) -> None:
        self.count = 0


@contextlib.contextmanager
def count_vp8_keyframes() -> Iterator[KeyframeCounter]:
    """Count keyframes entering any aiortc VP8 decoder within this block (not re-entrant)."""
    counter = KeyframeCounter()
    original = vpx.Vp8Decoder.decode

    def decode(self: vpx.Vp8Decoder, encoded_frame: JitterFrame) -> list[Frame]:
        data = getattr(encoded_frame, "data", b"")
        if data and not data[0] & 0x01:
            counter.count += 1
        return original(self, encoded_frame)

    vpx.Vp8Decoder.decode = decode  # type: ignore[method-assign]
    try:
        yield counter
    finally:
        vpx.Vp8Decoder.decode = original  # type: ignore[method-assign]
