"""A short run of every suite on one profile, both implementations: the JSON contract holds."""

from __future__ import annotations

from pathlib import Path

from rtc_interact.bench import report
from rtc_interact.bench.runner import BenchPlan, run

STAGES = ("signaling_ms", "ice_ms", "dtls_ms", "channel_open_ms", "first_frame_ms",
          "first_ack_ms")


async def test_bench_smoke_follows_the_json_contract(tmp_path: Path) -> None:
    plan = BenchPlan(profiles=("rtt150",), runs=2, taps=20, burst=10, video_s=5)
    doc = await run(plan, progress=False)
    assert set(doc) >= {"machine", "commit", "results"}
    (result,) = doc["results"]
    assert (result["profile"], result["rtt_ms"], result["runs"]) == ("rtt150", 150.0, 2)
    for impl in ("ours", "aiortc"):
        connect = result["connect"][impl]
        for stage in STAGES:
            assert set(connect[stage]) >= {"p50", "p95", "p99"}, (impl, stage)
        # the emulator really delays: no stage after ICE can beat one round trip
        assert connect["channel_open_ms"]["p50"] >= 150
        interaction = result["interaction"][impl]
        assert interaction["lost"] == 0 and interaction["sent"] == 30
        assert interaction["tap_rtt_ms"]["p50"] >= 150
        video = result["video"][impl]
        assert {"fps", "freezes", "g2g_ms", "kbps", "keyframes", "corrupt_frames",
                "survived"} <= set(video)
        assert video["survived"] is True and video["keyframes"] >= 1
        assert video["g2g_ms"]["p50"] >= 75  # at least the one-way delay
    assert set(result["interaction"]["ratio"]) == {"tap_rtt_ms_p50", "tap_rtt_ms_p99"}
    assert "rtt150" in report.table(doc["results"])
    assert report.plot(result, tmp_path) == tmp_path / "video-rtt150.png"


async def test_tap_storm_smoke_records_every_tap_once() -> None:
    plan = BenchPlan(profiles=("rtt150-loss2",), suites=("storm",), storm_viewers=6,
                     storm_window_s=1.0)
    doc = await run(plan, progress=False)
    storm = doc["results"][0]["storm"]
    for impl in ("ours", "aiortc"):
        entry = storm[impl]
        assert (entry["viewers"], entry["lost"], entry["recorded_twice"]) == (6, 0, 0), impl
        assert entry["recorded"] == 6 and entry["ack_ms"]["p50"] >= 150
    assert storm["ours"]["duplicate_copies_absorbed"] >= 1  # redundant copies arrived and merged


def test_markdown_tables_show_both_implementations_and_rtts() -> None:
    result = {"profile": "p", "rtt_ms": 100.0, "interaction": {
        "ours": {"tap_rtt_ms": {"p50": 101.0, "p95": 120.0, "p99": 130.0, "max": 140.0},
                 "lost": 0, "sent": 10},
        "aiortc": {"tap_rtt_ms": {"p50": 102.0, "p95": 400.0, "p99": 500.0, "max": 600.0},
                   "lost": 1, "sent": 10}}}
    text = report.markdown([result])
    assert "| tap rtt p99 | 130.0 (1.3 RTT) | 500.0 (5.0 RTT) |" in text
    assert "| taps lost | 0 | 1 |" in text


def test_the_table_names_a_viewer_that_failed_instead_of_breaking() -> None:
    result = {"profile": "p", "rtt_ms": 100.0, "video": {
        "ours": {"survived": True, "fps": {"mean": 29.5}},
        "aiortc": None, "chromium": {"error": "RuntimeError('no msgpack')"}}}
    text = report.table([result])
    assert "video chromium failed: RuntimeError('no msgpack')" in text
    survived = next(line for line in text.splitlines() if "survived" in line).split()
    assert survived[1:] == ["True", "-", "failed"]
