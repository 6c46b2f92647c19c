"""Tests for rtc_interact/linkemu/relay.py and selfcheck.py: real UDP sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

from rtc_interact.linkemu import (
    LinkEmulator,
    NonLoopbackAddressError,
    check_loopback,
    get_profile,
    iter_sdp_candidates,
)
from rtc_interact.linkemu.selfcheck import main, ping_check


@pytest.fixture
def sockets() -> Iterator[list[socket.socket]]:
    """Three plain UDP sockets on 127.0.0.1 (two peers and a stranger)."""
    socks = []
    for _ in range(3):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
        socks.append(s)
    yield socks
    for s in socks:
        s.close()


async def _recv(sock: socket.socket, wait_s: float = 2.0) -> tuple[bytes, tuple[str, int]]:
    loop = asyncio.get_running_loop()
    data, addr = await asyncio.wait_for(loop.sock_recvfrom(sock, 2048), wait_s)
    return data, (addr[0], addr[1])


def _addr(sock: socket.socket) -> tuple[str, int]:
    host, port = sock.getsockname()
    return host, port


async def test_ping_through_rtt150_loss2() -> None:
    result = await ping_check("rtt150-loss2", count=500, interval_s=0.004, seed=3)
    assert result.duration_s < 5.0
    assert result.rtt_min_ms == pytest.approx(150, rel=0.10)
    assert result.rtt_min_ms >= 150.0  # the relay never delivers early
    assert result.rtt_p1_ms == pytest.approx(150, rel=0.10)
    assert abs(result.loss_pct - result.expected_loss_pct) <= 2.0
    assert 0 < result.sent - result.returned < 60


async def test_peers_see_each_other_at_stable_proxy_addresses(
    sockets: list[socket.socket],
) -> None:
    a, b, _ = sockets
    async with LinkEmulator("lan") as emu:
        proxy_a = await emu.add_endpoint(_addr(a), "a")
        proxy_b = await emu.add_endpoint(_addr(b), "b")
        assert await emu.add_endpoint(_addr(a), "a") == proxy_a  # idempotent
        a.sendto(b"ping", proxy_b)
        data, seen_from = await _recv(b)
        assert (data, seen_from) == (b"ping", proxy_a)
        b.sendto(b"pong", seen_from)  # reply to where it came from, as ICE would
        data, seen_from = await _recv(a)
        assert (data, seen_from) == (b"pong", proxy_b)
        stats = emu.stats()
        assert stats.a_to_b.counters.delivered == 1
        assert stats.b_to_a.counters.delivered == 1
        assert emu.proxy_for(_addr(b)) == proxy_b


async def test_unknown_source_gets_its_own_proxy(sockets: list[socket.socket]) -> None:
    a, _, stranger = sockets
    async with LinkEmulator("lan") as emu:
        proxy_a = await emu.add_endpoint(_addr(a), "a")
        stranger.sendto(b"hello", proxy_a)
        data, seen_from = await _recv(a)
        assert data == b"hello"
        assert seen_from not in (_addr(stranger), proxy_a)
        a.sendto(b"back", seen_from)
        data, seen_from_stranger = await _recv(stranger)
        assert (data, seen_from_stranger) == (b"back", proxy_a)
        assert emu.stats().b_to_a.counters.submitted == 1  # into side a
        assert emu.stats().a_to_b.counters.submitted == 1  # out of side a
        # Fronting the stranger later keeps the proxy address it already had.
        assert await emu.add_endpoint(_addr(stranger), "b") == seen_from


async def test_delay_is_applied_per_direction(sockets: list[socket.socket]) -> None:
    a, b, _ = sockets
    loop = asyncio.get_running_loop()
    async with LinkEmulator("rtt150") as emu:
        await emu.add_endpoint(_addr(a), "a")
        proxy_b = await emu.add_endpoint(_addr(b), "b")
        sent = loop.time()
        a.sendto(b"x", proxy_b)
        await _recv(b)
        assert 0.075 <= loop.time() - sent < 0.150


async def test_front_sdp_rewrites_and_drops_unfrontable(sockets: list[socket.socket]) -> None:
    a, _, _ = sockets
    host, port = _addr(a)
    sdp = (
        "v=0\r\nm=application 9 DTLS/SCTP 5000\r\nc=IN IP4 0.0.0.0\r\n"
        f"a=candidate:1 1 udp 2130706431 {host} {port} typ host\r\n"
        "a=candidate:2 1 udp 2130706431 192.0.2.2 40002 typ host\r\n"
        "a=candidate:3 1 udp 2130706431 abcd.local 40003 typ host\r\n"
    )
    async with LinkEmulator("lan") as emu:
        out = await emu.front_sdp(sdp, "a")
        proxy = emu.proxy_for((host, port))
        assert proxy is not None
        assert [c.addr for c in iter_sdp_candidates(out)] == [proxy]
        kept = await emu.front_sdp(sdp, "a", drop_unfronted=False)
        assert len(list(iter_sdp_candidates(kept))) == 3


async def test_relay_refuses_non_loopback_addresses() -> None:
    with pytest.raises(NonLoopbackAddressError):
        check_loopback(("192.0.2.2", 5000))
    with pytest.raises(NonLoopbackAddressError):
        LinkEmulator("lan", host="0.0.0.0")
    async with LinkEmulator("lan") as emu:
        for bad in (("192.0.2.2", 5000), ("10.0.0.1", 1), ("::1", 5000), ("example.com", 80)):
            with pytest.raises(NonLoopbackAddressError, match=r"127\.0\.0\.0/8"):
                await emu.add_endpoint(bad, "a")
        with pytest.raises(ValueError):
            await emu.add_endpoint(("127.0.0.1", 9), "c")  # type: ignore[arg-type]


async def test_aclose_is_idempotent_and_cancels_deliveries(sockets: list[socket.socket]) -> None:
    a, b, _ = sockets
    emu = LinkEmulator(get_profile("rtt150"))
    await emu.add_endpoint(_addr(a), "a")
    proxy_b = await emu.add_endpoint(_addr(b), "b")
    a.sendto(b"never", proxy_b)
    await asyncio.sleep(0.02)
    await emu.aclose()
    await emu.aclose()
    with pytest.raises(TimeoutError):
        await _recv(b, wait_s=0.2)


async def test_stats_have_per_second_entries(sockets: list[socket.socket]) -> None:
    a, b, _ = sockets
    async with LinkEmulator("lan") as emu:
        await emu.add_endpoint(_addr(a), "a")
        proxy_b = await emu.add_endpoint(_addr(b), "b")
        for _ in range(5):
            a.sendto(bytes(100), proxy_b)
        for _ in range(5):
            await _recv(b)
        await asyncio.sleep(1.05)
        stats = emu.stats()
    assert stats.profile == "lan" and stats.elapsed_s >= 1.0
    first = stats.a_to_b.seconds[0]
    assert first.submitted == first.delivered == 5
    assert first.payload_kbps == pytest.approx(5 * 100 * 8 / 1000)


def test_selfcheck_cli_rejects_unknown_profile(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--profile", "nope"]) == 2
    assert "known profiles" in capsys.readouterr().err
