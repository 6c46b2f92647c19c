"""Smoke runs of the benchmarks: they run end to end and produce their JSON contract."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


async def test_loopback_benchmark_smoke() -> None:
    bench = _load("bench_loopback")
    result = await bench.bench(runs=2, taps=10)
    assert result["runs"] == 2
    assert result["tap_rtt_ms"]["n"] == 20
    assert {"signaling", "ice", "dtls", "channel_open"} <= set(result["connect_ms"])
    assert "tap rtt" in bench.table(result)
