"""Smoke test of benchmarks/bench_store.py on a tiny run (numbers are not asserted)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

BENCH = Path(__file__).parents[2] / "benchmarks" / "bench_store.py"


def test_store_benchmark_smoke(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("bench_store", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "out.json"
    assert module.main(["--runs", "1", "--entries", "300", "--rate", "3000", "--loop",
                        "asyncio", "--dir", str(tmp_path), "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["median_run"]["max"]["acked"] == 300
    assert doc["median_run"]["rate"]["latency_ms"]["n"] == 300
