"""asyncio adapter: a UDP relay on 127.0.0.1 that sends traffic through two :class:`LinkDirection`.

Every real endpoint the emulator fronts gets one proxy socket. A datagram that reaches the proxy
of endpoint T from source S is passed through the model of the direction into T's side and, at the
delivery time the model returns, sent to T *from the proxy of S*. So if peer A is told B's proxy
candidates and B is told A's, each peer sees the other at a single stable proxy address, and ICE
connectivity checks (and everything after them) cross the emulated link in both directions. A
source that is not a fronted endpoint gets a per-source proxy socket created on first use.

Only addresses inside 127.0.0.0/8 are ever sent to.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

from ..errors import ConfigurationError
from .model import LinkCounters, LinkDirection, LinkModel, SecondStats
from .profiles import DirectionParams, LinkDirectionName, LinkProfile, get_profile
from .sdp import Addr, is_loopback_ipv4, iter_sdp_candidates, rewrite_sdp_candidates

__all__ = [
    "DirectionStats",
    "EmulatorStats",
    "LinkEmulator",
    "ModelFactory",
    "NonLoopbackAddressError",
    "Side",
    "check_loopback",
    "rewrite_sdp_candidates",
]

logger = logging.getLogger(__name__)

Side = Literal["a", "b"]
"""Side 'a' is the host (media sender), side 'b' the viewer."""

ModelFactory = Callable[[LinkProfile, LinkDirectionName, int, float], LinkModel]
"""Builds the model of one direction from (profile, direction, seed, start time)."""

_MAX_DATAGRAM: Final = 65535
_MAX_READS_PER_WAKEUP: Final = 64
_MAX_PER_SOURCE_SOCKETS: Final = 256


class NonLoopbackAddressError(ConfigurationError):
    """The link emulator was asked to use an address outside 127.0.0.0/8."""


def check_loopback(addr: Addr) -> Addr:
    """Return ``addr`` normalized to (str, int) if it is in 127.0.0.0/8, else raise."""
    host, port = str(addr[0]), int(addr[1])
    if not is_loopback_ipv4(host):
        raise NonLoopbackAddressError(
            f"the link emulator only relays to 127.0.0.0/8, refusing {host}:{port}"
        )
    return host, port


def _default_model(
    profile: LinkProfile, direction: LinkDirectionName, seed: int, start_s: float
) -> LinkModel:
    return LinkDirection.from_profile(profile, direction, f"{seed}:{direction}", start_s=start_s)


@dataclass(frozen=True, slots=True)
class DirectionStats:
    """State and history of one direction of the emulated link."""

    direction: LinkDirectionName
    """Which direction."""
    params: DirectionParams
    """Parameters in force now."""
    counters: LinkCounters
    """Totals since the emulator started."""
    seconds: tuple[SecondStats, ...]
    """One entry per completed second since the emulator started."""


@dataclass(frozen=True, slots=True)
class EmulatorStats:
    """Snapshot of both directions of the emulated link."""

    profile: str
    """Profile name."""
    elapsed_s: float
    """Seconds since the emulator started."""
    a_to_b: DirectionStats
    """Host to viewer."""
    b_to_a: DirectionStats
    """Viewer to host."""
    unroutable: int
    """Datagrams dropped because neither end had a known side or the source was not loopback."""


class _ProxySocket:
    """A non-blocking UDP socket on 127.0.0.1 standing in for the real address ``fronted``."""

    __slots__ = ("addr", "fronted", "side", "sock")

    def __init__(self, host: str, fronted: Addr, side: Side | None) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.sock.setblocking(False)
            self.sock.bind((host, 0))
        except OSError:
            self.sock.close()
            raise
        bound = self.sock.getsockname()
        self.addr: Addr = (str(bound[0]), int(bound[1]))
        self.fronted = fronted
        self.side = side


class LinkEmulator:
    """Relay UDP between fronted loopback endpoints through a seeded :class:`LinkProfile`.

    Use as ``async with LinkEmulator("cn-eu", seed=1) as emu:``. The link (and its schedule)
    starts when the context is entered, or on the first :meth:`add_endpoint`.
    """

    def __init__(
        self,
        profile: LinkProfile | str,
        *,
        seed: int = 0,
        host: str = "127.0.0.1",
        model_factory: ModelFactory = _default_model,
    ) -> None:
        self.profile = get_profile(profile) if isinstance(profile, str) else profile
        self.seed = seed
        self._host = check_loopback((host, 0))[0]
        self._model_factory = model_factory
        self._loop: asyncio.AbstractEventLoop | None = None
        self._start_s = 0.0
        self._models: dict[LinkDirectionName, LinkModel] = {}
        self._fronts: dict[Addr, _ProxySocket] = {}
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._deliveries: list[tuple[float, int, _ProxySocket, bytes, Addr]] = []
        self._delivery_seq = 0
        self._wakeup: asyncio.TimerHandle | None = None
        self._wakeup_at = 0.0
        self._next_timer = 0
        self._unroutable = 0
        self._closed = False

    async def __aenter__(self) -> LinkEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def started(self) -> bool:
        """Whether the link clock has started."""
        return self._loop is not None

    async def start(self) -> None:
        """Start the link clock and the schedule; does nothing if already started."""
        if self._closed:
            raise RuntimeError("LinkEmulator is closed")
        if self._loop is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._start_s = self._loop.time()
        for direction in LinkDirectionName:
            self._models[direction] = self._model_factory(
                self.profile, direction, self.seed, self._start_s
            )
        for step in self.profile.schedule:
            self._call_at(self._start_s + step.at_s, self._apply_step, step.at_s)
        logger.info(
            "link %s started (seed %d): a_to_b=%s b_to_a=%s",
            self.profile.name,
            self.seed,
            self.profile.a_to_b,
            self.profile.b_to_a,
        )

    async def aclose(self) -> None:
        """Close every proxy socket and cancel pending deliveries; idempotent."""
        if self._closed:
            return
        self._closed = True
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        if self._wakeup is not None:
            self._wakeup.cancel()
            self._wakeup = None
        self._deliveries.clear()
        for proxy in self._fronts.values():
            if self._loop is not None:
                self._loop.remove_reader(proxy.sock.fileno())
            proxy.sock.close()
        self._fronts.clear()

    async def add_endpoint(self, real_addr: Addr, side: Side) -> Addr:
        """Front the real endpoint ``real_addr`` of ``side``; returns its proxy address.

        Idempotent for the same address; a per-source proxy already serving the address is
        promoted, so peers that saw it keep seeing the same proxy.
        """
        real = check_loopback(real_addr)
        if side not in ("a", "b"):
            raise ValueError(f"side must be 'a' or 'b', got {side!r}")
        await self.start()
        proxy = self._fronts.get(real)
        if proxy is None:
            proxy = self._open_proxy(real, side)
        elif proxy.side is None:
            proxy.side = side
        elif proxy.side != side:
            raise ValueError(f"{real} is already fronted for side {proxy.side!r}")
        logger.debug(
            "link %s: %s (side %s) fronted at %s", self.profile.name, real, side, proxy.addr
        )
        return proxy.addr

    def proxy_for(self, real_addr: Addr) -> Addr | None:
        """Proxy address standing in for ``real_addr``, None if it has none."""
        proxy = self._fronts.get((str(real_addr[0]), int(real_addr[1])))
        return None if proxy is None else proxy.addr

    async def front_sdp(self, sdp: str, side: Side, *, drop_unfronted: bool = True) -> str:
        """Front every loopback UDP candidate of ``sdp`` and rewrite it to its proxy.

        Candidates that cannot be fronted (TCP, mDNS names, non-loopback addresses) are removed
        unless ``drop_unfronted`` is False, since they would let ICE bypass the emulated link.
        """
        mapping: dict[Addr, Addr] = {}
        for candidate in iter_sdp_candidates(sdp):
            if candidate.transport == "udp" and is_loopback_ipv4(candidate.addr[0]):
                mapping[candidate.addr] = await self.add_endpoint(candidate.addr, side)
        return rewrite_sdp_candidates(sdp, mapping, drop_unmapped=drop_unfronted)

    def stats(self) -> EmulatorStats:
        """Per-direction parameters, totals and completed per-second stats."""
        if self._loop is None:
            raise RuntimeError("LinkEmulator has not started")
        now = self._loop.time()
        per_direction = {
            d: DirectionStats(d, m.params, m.counters, m.seconds(now))
            for d, m in self._models.items()
        }
        return EmulatorStats(
            profile=self.profile.name,
            elapsed_s=now - self._start_s,
            a_to_b=per_direction[LinkDirectionName.A_TO_B],
            b_to_a=per_direction[LinkDirectionName.B_TO_A],
            unroutable=self._unroutable,
        )

    # ------------------------------------------------------------------ internals

    def _open_proxy(self, fronted: Addr, side: Side | None) -> _ProxySocket:
        assert self._loop is not None
        proxy = _ProxySocket(self._host, fronted, side)
        self._fronts[fronted] = proxy
        self._loop.add_reader(proxy.sock.fileno(), self._on_readable, proxy)
        return proxy

    def _call_at(self, when: float, callback: Callable[..., None], *args: object) -> None:
        assert self._loop is not None
        key = self._next_timer
        self._next_timer += 1
        self._timers[key] = self._loop.call_at(when, self._fire, key, callback, args)

    def _fire(self, key: int, callback: Callable[..., None], args: tuple[object, ...]) -> None:
        self._timers.pop(key, None)
        try:
            callback(*args)
        except Exception:
            logger.exception("link %s: timer callback failed", self.profile.name)

    def _apply_step(self, at_s: float) -> None:
        assert self._loop is not None
        now = self._loop.time()
        for model in self._models.values():
            model.advance(now)
        logger.info(
            "link %s: schedule step at %.1f s (elapsed %.3f s): a_to_b=%s b_to_a=%s",
            self.profile.name,
            at_s,
            now - self._start_s,
            self._models[LinkDirectionName.A_TO_B].params,
            self._models[LinkDirectionName.B_TO_A].params,
        )

    def _on_readable(self, proxy: _ProxySocket) -> None:
        for _ in range(_MAX_READS_PER_WAKEUP):
            try:
                data, src = proxy.sock.recvfrom(_MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                logger.debug("link %s: recv on %s failed: %s", self.profile.name, proxy.addr, exc)
                return
            self._relay(proxy, data, (str(src[0]), int(src[1])))

    def _direction(self, target: _ProxySocket, src: Addr) -> LinkDirectionName | None:
        """Direction into the target's side, else out of the source's side."""
        if target.side is not None:
            return LinkDirectionName.B_TO_A if target.side == "a" else LinkDirectionName.A_TO_B
        source = self._fronts.get(src)
        if source is None or source.side is None:
            return None
        return LinkDirectionName.A_TO_B if source.side == "a" else LinkDirectionName.B_TO_A

    def _sender_for(self, src: Addr) -> _ProxySocket | None:
        """The proxy that stands in for ``src``, creating a per-source one on first use."""
        proxy = self._fronts.get(src)
        if proxy is not None:
            return proxy
        if not is_loopback_ipv4(src[0]) or len(self._fronts) >= _MAX_PER_SOURCE_SOCKETS:
            return None
        return self._open_proxy(src, None)

    def _relay(self, target: _ProxySocket, data: bytes, src: Addr) -> None:
        assert self._loop is not None
        direction = self._direction(target, src)
        sender = self._sender_for(src) if direction is not None else None
        if direction is None or sender is None:
            self._unroutable += 1
            return
        now = self._loop.time()
        delivery = self._models[direction].submit(len(data), now)
        if delivery is None:
            return
        heapq.heappush(
            self._deliveries, (delivery, self._delivery_seq, sender, data, target.fronted)
        )
        self._delivery_seq += 1
        if delivery <= now:
            self._flush(now)
        elif self._wakeup is None or delivery < self._wakeup_at:
            self._arm(delivery)

    def _arm(self, when: float) -> None:
        assert self._loop is not None
        if self._wakeup is not None:
            self._wakeup.cancel()
        self._wakeup_at = when
        self._wakeup = self._loop.call_at(when, self._on_wakeup)

    def _on_wakeup(self) -> None:
        assert self._loop is not None
        self._wakeup = None
        # asyncio may run a timer up to one clock resolution early: honour its own deadline.
        self._flush(max(self._loop.time(), self._wakeup_at))

    def _flush(self, now: float) -> None:
        """Send, in (time, arrival) order, every datagram due by ``now``; re-arm for the rest."""
        heap = self._deliveries
        while heap and heap[0][0] <= now:
            _, _, sender, data, dest = heapq.heappop(heap)
            self._send(sender, data, dest)
        if heap and (self._wakeup is None or heap[0][0] < self._wakeup_at):
            self._arm(heap[0][0])

    def _send(self, sender: _ProxySocket, data: bytes, dest: Addr) -> None:
        if self._closed:
            return
        if not is_loopback_ipv4(dest[0]):  # unreachable by construction; never send elsewhere
            raise NonLoopbackAddressError(f"refusing to send to {dest}")
        try:
            sender.sock.sendto(data, dest)
        except OSError as exc:
            logger.debug(
                "link %s: send %s -> %s failed: %s", self.profile.name, sender.addr, dest, exc
            )
