"""Tests for rtc_interact/linkemu/sdp.py: candidate parsing and rewriting."""

from __future__ import annotations

from rtc_interact.linkemu import iter_sdp_candidates, rewrite_sdp_candidates
from rtc_interact.linkemu.sdp import is_loopback_ipv4

SDP = "\r\n".join(
    [
        "v=0",
        "o=- 3900000000 3900000000 IN IP4 0.0.0.0",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0 1",
        "m=video 40001 UDP/TLS/RTP/SAVPF 97",
        "c=IN IP4 127.0.0.1",
        "a=mid:0",
        "a=candidate:1 1 udp 2130706431 127.0.0.1 40001 typ host",
        "a=candidate:2 1 udp 2130706431 192.0.2.2 40002 typ host",
        "a=candidate:3 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active",
        "a=candidate:4 1 udp 1694498815 127.0.0.1 40003 typ srflx raddr 127.0.0.1 rport 40001",
        "a=end-of-candidates",
        "m=application 40009 DTLS/SCTP 5000",
        "c=IN IP4 192.0.2.2",
        "a=mid:1",
        "a=candidate:5 1 udp 2130706431 127.0.0.1 40009 typ host",
        "",
    ]
)

MAPPING = {
    ("127.0.0.1", 40001): ("127.0.0.1", 50001),
    ("127.0.0.1", 40003): ("127.0.0.1", 50003),
    ("127.0.0.1", 40009): ("127.0.0.1", 50009),
}


def test_iter_candidates() -> None:
    found = list(iter_sdp_candidates(SDP))
    assert [c.addr for c in found] == [
        ("127.0.0.1", 40001),
        ("192.0.2.2", 40002),
        ("127.0.0.1", 9),
        ("127.0.0.1", 40003),
        ("127.0.0.1", 40009),
    ]
    assert [c.transport for c in found] == ["udp", "udp", "tcp", "udp", "udp"]
    assert found[3].kind == "srflx"


def test_rewrite_maps_udp_candidates_and_matching_m_and_c() -> None:
    out = rewrite_sdp_candidates(SDP, MAPPING)
    lines = out.split("\r\n")
    assert "a=candidate:1 1 udp 2130706431 127.0.0.1 50001 typ host" in lines
    assert "a=candidate:2 1 udp 2130706431 192.0.2.2 40002 typ host" in lines  # not mapped
    assert "a=candidate:3 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active" in lines
    assert (
        "a=candidate:4 1 udp 1694498815 127.0.0.1 50003 typ srflx raddr 127.0.0.1 rport 40001"
        in lines
    )
    assert "m=video 50001 UDP/TLS/RTP/SAVPF 97" in lines
    # (192.0.2.2, 40009) is not mapped: the application section's m/c lines stay.
    assert "m=application 40009 DTLS/SCTP 5000" in lines
    assert "a=candidate:5 1 udp 2130706431 127.0.0.1 50009 typ host" in lines
    assert out.endswith("\r\n") and out.count("\r\n") == SDP.count("\r\n")


def test_rewrite_c_line_address_changes_too() -> None:
    sdp = "v=0\nm=audio 7000 RTP/AVP 0\nc=IN IP4 127.0.0.2\na=rtcp-mux\n"
    out = rewrite_sdp_candidates(sdp, {("127.0.0.2", 7000): ("127.0.0.1", 8000)})
    assert out == "v=0\nm=audio 8000 RTP/AVP 0\nc=IN IP4 127.0.0.1\na=rtcp-mux\n"


def test_session_level_c_line_is_used_for_matching() -> None:
    sdp = "v=0\nc=IN IP4 127.0.0.1\nm=audio 7000 RTP/AVP 0\n"
    out = rewrite_sdp_candidates(sdp, {("127.0.0.1", 7000): ("127.0.0.1", 8000)})
    assert out == "v=0\nc=IN IP4 127.0.0.1\nm=audio 8000 RTP/AVP 0\n"


def test_drop_unmapped_removes_other_candidates() -> None:
    out = rewrite_sdp_candidates(SDP, MAPPING, drop_unmapped=True)
    addrs = [c.addr for c in iter_sdp_candidates(out)]
    assert addrs == [("127.0.0.1", 50001), ("127.0.0.1", 50003), ("127.0.0.1", 50009)]
    assert "a=end-of-candidates" in out


def test_empty_mapping_is_identity() -> None:
    assert rewrite_sdp_candidates(SDP, {}) == SDP


def test_is_loopback_ipv4() -> None:
    assert is_loopback_ipv4("127.0.0.1") and is_loopback_ipv4("127.3.2.1")
    assert not is_loopback_ipv4("::1")
    assert not is_loopback_ipv4("192.0.2.2")
    assert not is_loopback_ipv4("abc.local")
