"""Turn raw suite data into the JSON contract (benchmarks/README.md), a table and plots."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..config import VideoConfig
from ..errors import ConfigurationError
from ..linkemu import LinkProfile
from ..media.ladder import default_ladder
from ..stats import Percentiles
from . import videogoals
from .harness import STAGES
from .storm import StormRun
from .suites import ConnectRun, InteractionRun, VideoRun

PCTS = ("p50", "p95", "p99")


def _pcts(values: list[float]) -> dict[str, float] | None:
    p = Percentiles.of(values)
    return None if p is None else {k: round(getattr(p, k), 2) for k in (*PCTS, "max")}


def _in_rtts(p: dict[str, float] | None, rtt_ms: float) -> dict[str, float] | None:
    if p is None or rtt_ms <= 0:
        return None
    return {k: round(v / rtt_ms, 2) for k, v in p.items()}


def _ratio(ours: float | None, theirs: float | None) -> float | None:
    if ours is None or theirs is None or theirs == 0:
        return None
    return round(ours / theirs, 3)


def connect_entry(runs: list[ConnectRun], rtt_ms: float) -> dict[str, Any]:
    """One implementation's connect results."""
    out: dict[str, Any] = {"runs": len(runs), "failed": sum(r.error is not None for r in runs),
                           "errors": [r.error for r in runs if r.error is not None]}
    for stage in (*STAGES, "first_ack"):
        values = [r.stages[stage] for r in runs if r.stages.get(stage) is not None]
        p = _pcts([v for v in values if v is not None])
        out[f"{stage}_ms"] = p
        out[f"{stage}_rtts"] = _in_rtts(p, rtt_ms)
        out[f"{stage}_missing"] = len(runs) - len(values)
    return out


def interaction_entry(run: InteractionRun, rtt_ms: float) -> dict[str, Any]:
    """One implementation's interaction results."""
    p = _pcts(run.rtts_ms)
    return {"tap_rtt_ms": p, "tap_rtt_rtts": _in_rtts(p, rtt_ms), "lost": run.lost,
            "sent": run.sent}


def storm_entry(run: StormRun, rtt_ms: float) -> dict[str, Any]:
    """One implementation's tap-storm results."""
    p = _pcts(run.acks_ms)
    return {"viewers": run.viewers, "taps_sent": run.viewers, "recorded": run.recorded,
            "recorded_twice": max(0, run.recorded - run.viewers), "lost": run.lost,
            "duplicate_copies_absorbed": run.duplicates_absorbed,
            "ack_ms": p, "ack_rtts": _in_rtts(p, rtt_ms)}


def video_entry(run: VideoRun, profile: LinkProfile | None = None) -> dict[str, Any]:
    """One implementation's video results, with the issue's must-show measures."""
    s = run.summary
    fps = s.fps
    kbps = run.kbps
    minutes = max(len(fps), 1) / 60
    entry = {
        "fps": {"mean": round(sum(fps) / len(fps), 2) if fps else 0.0,
                "min": min(fps) if fps else 0,
                "windows_ge_20_pct": videogoals.windows_pct(fps, 20),
                "windows_ge_15_pct": videogoals.windows_pct(fps, 15),
                "per_s": fps},
        "freezes": s.freezes,
        "freezes_per_min": round(s.freezes / minutes, 2),
        "freeze_s": s.freeze_s,
        "freezes_at_s": [[round(at, 2), round(gap, 2)] for at, gap in s.freezes_at],
        "g2g_ms": None if s.g2g_ms is None else {k: round(getattr(s.g2g_ms, k), 1) for k in PCTS},
        "g2g_per_s": [None if v is None else round(v, 1) for v in s.g2g_per_s],
        "kbps": {"mean": round(sum(kbps) / len(kbps), 1) if kbps else 0.0, "per_s": kbps,
                 "capacity_per_s": run.capacity_kbps,
                 "steady_ratio": videogoals.steady_ratios(kbps, run.capacity_kbps)},
        "queue_ms_max_per_s": run.queue_ms_max,
        "dropped_queue_per_s": run.dropped_queue,
        "width_per_s": s.width_per_s,
        "keyframes": run.keyframes,
        "corrupt_frames": s.corrupt_frames,
        "frames": s.frames,
        "survived": run.survived,
        "host_link": run.host_link,
        "viewer_receiver": run.viewer_receiver,
    }
    ladder = default_ladder(VideoConfig().width, VideoConfig().height, VideoConfig().fps)
    widths = {r.width: float(r.kbps) for r in ladder.rungs}
    rung_kbps: list[float | None] = videogoals.rung_rates(s.width_per_s, widths) \
        if run.host_link else [None] * len(fps)
    found = videogoals.steps(run.capacity_kbps, rung_kbps, tuple(widths.values()))
    entry["steps"] = [{"at_s": st.at_s, "from_kbps": st.from_kbps, "to_kbps": st.to_kbps,
                       "fit_s": st.fit_s} for st in found]
    entry["fit_down_max_s"] = _worst([st.fit_s for st in found if st.down])
    entry["fit_up_max_s"] = _worst([st.fit_s for st in found if not st.down])
    if profile is not None:
        target = profile.params_at("a_to_b", 0).delay_ms + 300
        entry["g2g_target_ms"] = target
    return entry


def _worst(values: list[int | None]) -> float | None:
    """The longest time to fit; None if there was no step, -1 if a step was never fitted."""
    if not values:
        return None
    return -1.0 if None in values else float(max(v for v in values if v is not None))


def _get(entry: dict[str, Any] | None, *path: str) -> float | None:
    value: Any = entry
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


RATIOS = {
    "connect": [("channel_open_ms", "p50"), ("first_frame_ms", "p50"), ("first_ack_ms", "p50"),
                ("first_ack_ms", "p95")],
    "interaction": [("tap_rtt_ms", "p50"), ("tap_rtt_ms", "p99")],
    "video": [("g2g_ms", "p95"), ("fps", "mean"), ("kbps", "mean")],
    "storm": [("ack_ms", "p50"), ("ack_ms", "p99")],
}


def side_by_side(suite: str, ours: dict[str, Any] | None,
                 theirs: dict[str, Any] | None) -> dict[str, Any]:
    """``{"ours": ..., "aiortc": ..., "ratio": {metric: ours / aiortc}}``."""
    ratio = {f"{a}_{b}": _ratio(_get(ours, a, b), _get(theirs, a, b)) for a, b in RATIOS[suite]}
    return {"ours": ours, "aiortc": theirs, "ratio": ratio}


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.1f}{unit}" if isinstance(value, float) else f"{value}{unit}"


def table(results: list[dict[str, Any]]) -> str:
    """A short table: one block per profile, ours beside aiortc (and the Chromium viewer of
    our host, when it ran)."""
    browser = any(block.get("chromium") for r in results for block in r.values()
                  if isinstance(block, dict))
    extra = f" {'chromium':>12}" if browser else ""
    rows = [f"{'profile / metric':<34} {'ours':>12} {'aiortc':>12} {'ratio':>7}{extra}"]
    picks = [
        ("connect", "channel open p50 ms", ("channel_open_ms", "p50")),
        ("connect", "first frame p50 ms", ("first_frame_ms", "p50")),
        ("connect", "first ack p50 ms", ("first_ack_ms", "p50")),
        ("connect", "first ack p95 ms", ("first_ack_ms", "p95")),
        ("connect", "connects failed", ("failed",)),
        ("interaction", "tap rtt p50 ms", ("tap_rtt_ms", "p50")),
        ("interaction", "tap rtt p99 ms", ("tap_rtt_ms", "p99")),
        ("interaction", "taps lost", ("lost",)),
        ("video", "fps mean", ("fps", "mean")),
        ("video", "% 1s windows >= 20 fps", ("fps", "windows_ge_20_pct")),
        ("video", "freezes", ("freezes",)),
        ("video", "g2g p95 ms", ("g2g_ms", "p95")),
        ("video", "kbps mean", ("kbps", "mean")),
        ("video", "corrupt frames", ("corrupt_frames",)),
        ("storm", "storm taps recorded", ("recorded",)),
        ("storm", "storm ack p99 ms", ("ack_ms", "p99")),
        ("storm", "storm taps lost", ("lost",)),
    ]
    for result in results:
        rows.append(f"{result['profile']} (RTT {result['rtt_ms']:.0f} ms)")
        for suite, label, path in picks:
            block = result.get(suite)
            if not block:
                continue
            ours, theirs = _get(block["ours"], *path), _get(block["aiortc"], *path)
            ratio = _ratio(ours, theirs)
            cell = f" {_fmt(_get(block.get('chromium'), *path)):>12}" if browser else ""
            rows.append(f"  {label:<32} {_fmt(ours):>12} {_fmt(theirs):>12} {_fmt(ratio):>7}"
                        f"{cell}")
        video = result.get("video")
        if video:
            survived = [_survived(video.get(k)) for k in ("ours", "aiortc", "chromium")]
            cell = f" {'':>7} {survived[2]:>12}" if browser else ""
            rows.append(f"  {'survived':<32} {survived[0]:>12} {survived[1]:>12}{cell}")
        rows += [f"  {suite} {impl} failed: {error}" for suite, impl, error in _failures(result)]
    return "\n".join(rows)


def _failures(result: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(suite, viewer, error) of each viewer of ``result`` that did not finish."""
    for suite, block in result.items():
        if isinstance(block, dict):
            for impl, entry in block.items():
                if isinstance(entry, dict) and "error" in entry:
                    yield suite, impl, str(entry["error"])


def _survived(entry: dict[str, Any] | None) -> str:
    """The survived cell of one viewer: '-' when it did not run, 'failed' when it did not
    finish (the error is printed below the block)."""
    if not entry:
        return "-"
    return "failed" if "error" in entry else str(entry.get("survived", "-"))


def plot(result: dict[str, Any], directory: Path) -> Path | None:
    """One PNG per profile: delivered kbps against capacity, glass-to-glass and fps over time."""
    video = result.get("video")
    if not video:
        return None
    try:
        import matplotlib
    except ImportError:
        raise ConfigurationError(
            "plots need matplotlib: pip install 'rtc-interact[bench]'"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 1, figsize=(9, 8), sharex=True)
    for impl, style in (("ours", "-"), ("aiortc", "--")):
        entry = video.get(impl)
        if not entry:
            continue
        axes[0].plot(entry["kbps"]["per_s"], style, label=f"{impl} delivered")
        axes[1].plot([v if v is not None else float("nan") for v in entry["g2g_per_s"]], style,
                     label=impl)
        axes[2].plot(entry["fps"]["per_s"], style, label=impl)
    capacity = (video.get("ours") or video.get("aiortc") or {}).get("kbps", {})
    caps = [c if c is not None else float("nan") for c in capacity.get("capacity_per_s", [])]
    if caps:
        axes[0].plot(caps, ":", color="black", label="capacity")
    for ax, label in zip(axes, ("kbps", "glass-to-glass ms", "fps"), strict=True):
        ax.set_ylabel(label)
        ax.legend(loc="upper right", fontsize=8)
        ax.grid(alpha=0.3)
    axes[2].set_xlabel("seconds")
    fig.suptitle(f"{result['profile']} (RTT {result['rtt_ms']:.0f} ms)")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"video-{result['profile']}.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def _cell(entry: dict[str, Any] | None, path: tuple[str, ...], rtt_ms: float) -> str:
    value = _get(entry, *path)
    if value is None:
        return "-"
    text = f"{value:.1f}" if isinstance(value, float) else str(value)
    if path[0].endswith("_ms") and rtt_ms > 0 and len(path) == 2:
        text += f" ({value / rtt_ms:.1f} RTT)"
    return text


MD_ROWS: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "connect": [*((f"{stage} {p}", (f"{stage}_ms", p))
                  for stage in (*STAGES, "first_ack") for p in ("p50", "p95")),
                ("connects failed", ("failed",))],
    "interaction": [("tap rtt p50", ("tap_rtt_ms", "p50")), ("tap rtt p95", ("tap_rtt_ms", "p95")),
                    ("tap rtt p99", ("tap_rtt_ms", "p99")), ("tap rtt max", ("tap_rtt_ms", "max")),
                    ("taps lost", ("lost",)), ("taps sent", ("sent",))],
    "video": [("fps mean", ("fps", "mean")), ("% of 1 s windows >= 20 fps",
              ("fps", "windows_ge_20_pct")), ("% of 1 s windows >= 15 fps",
              ("fps", "windows_ge_15_pct")), ("freezes", ("freezes",)),
              ("frozen s", ("freeze_s",)), ("glass-to-glass p50 ms", ("g2g_ms", "p50")),
              ("freezes per minute", ("freezes_per_min",)),
              ("glass-to-glass p95 ms", ("g2g_ms", "p95")),
              ("glass-to-glass target (one-way + 300) ms", ("g2g_target_ms",)),
              ("delivered kbps mean", ("kbps", "mean")),
              ("worst time to fit a step down s (-1: never)", ("fit_down_max_s",)),
              ("worst time to fit a step up s (-1: never)", ("fit_up_max_s",)),
              ("keyframes", ("keyframes",)),
              ("corrupt frames", ("corrupt_frames",)), ("survived", ("survived",))],
    "storm": [("viewers", ("viewers",)), ("taps recorded", ("recorded",)),
              ("taps recorded twice", ("recorded_twice",)), ("taps lost", ("lost",)),
              ("ack p50 ms", ("ack_ms", "p50")), ("ack p99 ms", ("ack_ms", "p99"))],
}


def markdown(results: list[dict[str, Any]]) -> str:
    """Markdown tables, one per profile and suite, ours beside aiortc."""
    out: list[str] = []
    for result in results:
        rtt = float(result["rtt_ms"])
        out.append(f"### {result['profile']} (RTT {rtt:.0f} ms)\n")
        for suite, rows in MD_ROWS.items():
            block = result.get(suite)
            if not block:
                continue
            out.append(f"| {suite} | ours | stock aiortc |\n|---|---|---|")
            for label, path in rows:
                ours, theirs = block["ours"], block["aiortc"]
                if path == ("survived",):
                    cells = [str(e.get("survived")) if e else "-" for e in (ours, theirs)]
                else:
                    cells = [_cell(ours, path, rtt), _cell(theirs, path, rtt)]
                out.append(f"| {label} | {cells[0]} | {cells[1]} |")
            out.append("")
    return "\n".join(out)


FPS_FLOOR = {"mobile-3g-weak": 15, "abr-300-loss3": 15}
"""Frame rate the issue asks of 95% of 1 s windows (20 elsewhere)."""


def _goal_rows(entry: dict[str, Any], profile: str) -> list[tuple[str, str, bool | None]]:
    """(measure, value, target met?) for one implementation's video entry."""
    floor = FPS_FLOOR.get(profile, 20)
    windows = videogoals.windows_pct(entry["fps"]["per_s"], floor)
    g2g = (entry.get("g2g_ms") or {}).get("p95")
    target = entry.get("g2g_target_ms")
    rows: list[tuple[str, str, bool | None]] = [
        ("session survived", str(entry["survived"]), bool(entry["survived"])),
        (f"1 s windows >= {floor} fps (target >= 95%)", f"{windows}%", windows >= 95),
        ("freezes per minute (target <= 1)", str(entry["freezes_per_min"]),
         entry["freezes_per_min"] <= 1),
        (f"glass-to-glass p95 ms (target <= {target})", "-" if g2g is None else f"{g2g:.0f}",
         None if g2g is None or target is None else g2g <= target),
        ("frames with a damaged stamp (target 0)", str(entry["corrupt_frames"]),
         entry["corrupt_frames"] == 0),
        ("delivered kbps mean", str(entry["kbps"]["mean"]), None),
    ]
    if len(entry.get("steps") or []) > 0:
        ratios = entry["kbps"]["steady_ratio"]
        rows.append(("steady phases: delivered / capacity (target >= 0.7)",
                     ", ".join(f"{r:.2f}" for r in ratios), all(r >= 0.7 for r in ratios)))
        for key, label, limit in (("fit_down_max_s", "down", 2), ("fit_up_max_s", "up", 10)):
            value = entry.get(key)
            text = "-" if value is None else ("never" if value < 0 else f"{value:.0f}")
            met = None if value is None else 0 <= value <= limit
            rows.append((f"worst time to fit a step {label}, s (target <= {limit})", text, met))
    return rows


def goals_markdown(results: list[dict[str, Any]]) -> str:
    """One table per profile: each must-show measure, ours beside stock, target met or not."""
    out: list[str] = []
    mark = {True: " (met)", False: " (**missed**)", None: ""}
    for result in results:
        video = result.get("video") or {}
        ours, stock = video.get("ours"), video.get("aiortc")
        if not ours or not stock or "fps" not in ours or "fps" not in stock:
            continue
        out.append(f"#### {result['profile']} (RTT {float(result['rtt_ms']):.0f} ms)\n")
        out.append("| measure | ours | stock aiortc |\n|---|---|---|")
        for (label, a, met_a), (_, b, met_b) in zip(_goal_rows(ours, result["profile"]),
                                                    _goal_rows(stock, result["profile"]),
                                                    strict=True):
            out.append(f"| {label} | {a}{mark[met_a]} | {b}{mark[met_b]} |")
        link = ours.get("host_link")
        if link:
            received = link.get("received_kbps")
            out.append(f"\nOurs at the end: rung target {link['target_kbps']:.0f} kbps, "
                       f"received {'-' if received is None else f'{received:.0f}'} kbps, "
                       f"{link['switches']} switches, NACKed {link['nacks']}, "
                       f"retransmitted {link['rtx_sent']}, skipped {link['rtx_skipped']}, "
                       f"padding {link['padding_kbit']:.0f} kbit, "
                       f"copies {link.get('copy_kbit', 0.0):.0f} kbit, "
                       f"thinned {link.get('thinned_frames', 0)} frames, "
                       f"queue reports {link.get('queue_reports', 0)}, "
                       f"trains {link.get('trains', 0)} ({link.get('train_reports', 0)} "
                       f"reported), grade {link['quality']}.")
        out.append("")
    return "\n".join(out)
