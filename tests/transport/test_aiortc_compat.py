"""Canaries: fail when an aiortc/aioice upgrade moves what aiortc_compat relies on."""

from __future__ import annotations

import inspect

import aioice
import aioice.ice
import aiortc

from rtc_interact.transport import aiortc_compat
from rtc_interact.transport.peer import LOOPBACK


def test_pinned_versions() -> None:
    assert aiortc.__version__.startswith(aiortc_compat.TESTED_AIORTC)
    assert aioice.__version__.startswith(aiortc_compat.TESTED_AIOICE)


def test_gathering_still_calls_the_module_level_get_host_addresses() -> None:
    source = inspect.getsource(aioice.ice.Connection.gather_candidates)
    assert "get_host_addresses(" in source
    assert aioice.ice.get_host_addresses is aiortc_compat._host_addresses


def test_stock_aioice_still_skips_loopback() -> None:
    # If this starts failing, aioice offers 127.0.0.1 itself and the wrapper may be unnecessary.
    assert "127.0.0.1" not in aiortc_compat._original(True, False)


async def test_wrapper_gathers_exactly_the_chosen_addresses() -> None:
    connection = aioice.Connection(ice_controlling=True)
    with aiortc_compat.ice_host_addresses(LOOPBACK):
        await connection.gather_candidates()
    try:
        assert [c.host for c in connection.local_candidates] == ["127.0.0.1"]
    finally:
        await connection.close()
