"""Rewrite the ICE candidates of an SDP so that peers reach each other through link proxies.

Pure string functions: no I/O. :class:`~rtc_interact.linkemu.relay.LinkEmulator.front_sdp` opens
the proxies and then calls :func:`rewrite_sdp_candidates`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

__all__ = [
    "Addr",
    "SdpCandidate",
    "is_loopback_ipv4",
    "iter_sdp_candidates",
    "rewrite_sdp_candidates",
]

Addr = tuple[str, int]
"""An (IPv4 address, UDP port) pair."""


@dataclass(frozen=True, slots=True)
class SdpCandidate:
    """The parts of an ``a=candidate:`` line the emulator cares about."""

    transport: str
    """Lower-cased transport, 'udp' or 'tcp'."""
    addr: Addr
    """Connection address and port of the candidate."""
    kind: str
    """Candidate type: 'host', 'srflx', 'prflx' or 'relay'."""


def is_loopback_ipv4(host: str) -> bool:
    """Whether ``host`` is a literal IPv4 address inside 127.0.0.0/8."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.version == 4 and ip.is_loopback


def _parse_candidate(line: str) -> SdpCandidate | None:
    """Parse ``a=candidate:...`` (or ``candidate:...``); None when malformed."""
    body = line.split(":", 1)[1] if ":" in line else ""
    parts = body.split()
    if len(parts) < 8 or parts[6] != "typ":
        return None
    try:
        port = int(parts[5])
    except ValueError:
        return None
    return SdpCandidate(transport=parts[2].lower(), addr=(parts[4], port), kind=parts[7])


def iter_sdp_candidates(sdp: str) -> Iterator[SdpCandidate]:
    """Every well-formed ``a=candidate:`` line of ``sdp``, in order."""
    for line in sdp.splitlines():
        if line.startswith("a=candidate:"):
            candidate = _parse_candidate(line)
            if candidate is not None:
                yield candidate


def _split_ending(line: str) -> tuple[str, str]:
    body = line.rstrip("\r\n")
    return body, line[len(body) :]


def _rewrite_candidate(body: str, mapping: Mapping[Addr, Addr], drop_unmapped: bool) -> str | None:
    candidate = _parse_candidate(body)
    if candidate is None or candidate.transport != "udp" or candidate.addr not in mapping:
        return None if drop_unmapped else body
    host, port = mapping[candidate.addr]
    head, rest = body.split(":", 1)
    parts = rest.split(" ")
    parts[4], parts[5] = host, str(port)
    return f"{head}:{' '.join(parts)}"


def _rewrite_section(lines: list[str], mapping: Mapping[Addr, Addr], session_c: str | None) -> None:
    """Rewrite in place the m= port and media c= address of one media section if they match."""
    m_body, m_end = _split_ending(lines[0])
    m_parts = m_body.split(" ")
    c_index = next((i for i, line in enumerate(lines) if line.startswith("c=")), None)
    c_parts = _split_ending(lines[c_index])[0].split(" ") if c_index is not None else None
    host = c_parts[2] if c_parts is not None and len(c_parts) >= 3 else session_c
    if host is None or len(m_parts) < 2 or not m_parts[1].isdigit():
        return
    target = mapping.get((host, int(m_parts[1])))
    if target is None:
        return
    m_parts[1] = str(target[1])
    lines[0] = " ".join(m_parts) + m_end
    if c_index is not None and c_parts is not None and len(c_parts) >= 3:
        c_parts[2] = target[0]
        lines[c_index] = " ".join(c_parts) + _split_ending(lines[c_index])[1]


def rewrite_sdp_candidates(
    sdp: str, mapping: Mapping[Addr, Addr], *, drop_unmapped: bool = False
) -> str:
    """Point UDP candidates (and a matching m= port / c= address) at their mapped addresses.

    ``mapping`` maps a real (address, port) to its replacement. With ``drop_unmapped``, candidate
    lines that are not mapped UDP candidates are removed, so that ICE cannot bypass the proxies.
    Line endings are kept as they are.
    """
    out: list[str] = []
    section: list[str] | None = None
    session_c: str | None = None
    for line in sdp.splitlines(keepends=True):
        body, ending = _split_ending(line)
        if body.startswith("m="):
            if section is not None:
                _rewrite_section(section, mapping, session_c)
                out.extend(section)
            section = []
        elif body.startswith("c=") and section is None:
            parts = body.split(" ")
            session_c = parts[2] if len(parts) >= 3 else None
        if body.startswith("a=candidate:"):
            new_body = _rewrite_candidate(body, mapping, drop_unmapped)
            if new_body is None:
                continue
            line = new_body + ending
        (out if section is None else section).append(line)
    if section is not None:
        _rewrite_section(section, mapping, session_c)
        out.extend(section)
    return "".join(out)
