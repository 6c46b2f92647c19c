"""Weak-link emulation without netem: profiles, a sans-IO link model and a loopback UDP relay.

Typical use, fronting both peers' ICE candidates::

    async with LinkEmulator("cn-eu", seed=1) as emu:
        offer.sdp = await emu.front_sdp(offer.sdp, side="a")    # host's candidates
        answer.sdp = await emu.front_sdp(answer.sdp, side="b")  # viewer's candidates
"""

from .model import IP_UDP_OVERHEAD_BYTES, LinkCounters, LinkDirection, LinkModel, SecondStats
from .profiles import (
    KEEP,
    DirectionParams,
    DirectionPatch,
    LinkDirectionName,
    LinkProfile,
    LossModel,
    ProfileError,
    ScheduleStep,
    UnknownProfileError,
    get_profile,
    load_profiles,
    parse_profiles,
)
from .relay import (
    DirectionStats,
    EmulatorStats,
    LinkEmulator,
    ModelFactory,
    NonLoopbackAddressError,
    Side,
    check_loopback,
)
from .sdp import Addr, SdpCandidate, iter_sdp_candidates, rewrite_sdp_candidates

__all__ = [
    "IP_UDP_OVERHEAD_BYTES",
    "KEEP",
    "Addr",
    "DirectionParams",
    "DirectionPatch",
    "DirectionStats",
    "EmulatorStats",
    "LinkCounters",
    "LinkDirection",
    "LinkDirectionName",
    "LinkEmulator",
    "LinkModel",
    "LinkProfile",
    "LossModel",
    "ModelFactory",
    "NonLoopbackAddressError",
    "ProfileError",
    "ScheduleStep",
    "SdpCandidate",
    "SecondStats",
    "Side",
    "UnknownProfileError",
    "check_loopback",
    "get_profile",
    "iter_sdp_candidates",
    "load_profiles",
    "parse_profiles",
    "rewrite_sdp_candidates",
]
