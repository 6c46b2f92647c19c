"""Run the chosen suites over the chosen profiles, ours and stock aiortc, and assemble the JSON."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

from tqdm import tqdm

from ..linkemu import LinkProfile, get_profile
from ..transport.aiortc_compat import stock_behaviour
from . import report
from .harness import IMPLEMENTATIONS
from .storm import run_storm
from .suites import run_connect, run_interaction, run_video

SUITES = ("connect", "interaction", "video")
ALL_SUITES = (*SUITES, "storm")


@dataclass(frozen=True, slots=True)
class BenchPlan:
    """What to run."""

    profiles: tuple[str, ...] = ("rtt150-loss2",)
    """Link profile names (see rtc_interact/data/link-profiles.json)."""
    suites: tuple[str, ...] = SUITES
    """Which suites."""
    runs: int = 10
    """Connect runs per profile and implementation."""
    taps: int = 1000
    """Paced taps per interaction run."""
    tap_rate: float = 20.0
    """Taps per second."""
    burst: int = 200
    """Taps sent at once after the paced ones."""
    video_s: int = 60
    """Seconds of video per profile and implementation."""
    storm_viewers: int = 50
    """Viewers in the tap storm."""
    storm_window_s: float = 2.0
    """Window within which every storm viewer taps once."""
    seed: int = 1
    """Seed of the first run's link; run i uses seed + i."""
    implementations: tuple[str, ...] = IMPLEMENTATIONS
    """'ours', 'aiortc' and/or 'chromium' (our host, the browser page as the viewer)."""

    def work(self, suite: str) -> int:
        """Progress units of one suite for one implementation and profile."""
        return {"connect": self.runs, "interaction": self.taps + self.burst,
                "video": self.video_s, "storm": 1}[suite]


def machine() -> dict[str, Any]:
    """Facts about this machine for the JSON."""
    return {"cpu_count": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "aiortc": version("aiortc")}


def commit() -> str | None:
    """The git commit of the working tree, if any."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, check=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


async def _suite(suite: str, impl: str, profile: LinkProfile, plan: BenchPlan,
                 bar: tqdm[Any]) -> dict[str, Any]:
    """One suite; the baseline runs with aiortc's stock timers and consent check."""
    with stock_behaviour() if impl == "aiortc" else contextlib.nullcontext():
        try:
            return await _run_suite(suite, impl, profile, plan, bar)
        except Exception as exc:  # keep the rest of a long run; the JSON says what failed
            return {"error": repr(exc)}


async def _run_suite(suite: str, impl: str, profile: LinkProfile, plan: BenchPlan,
                     bar: tqdm[Any]) -> dict[str, Any]:
    rtt = profile.rtt_ms
    if impl == "chromium" and suite not in ("connect", "interaction", "video"):
        return {"error": f"the Chromium viewer does not run the {suite} suite"}
    if suite == "connect":
        runs = await run_connect(impl, profile, plan.runs, plan.seed, bar.update)
        return report.connect_entry(runs, rtt)
    if suite == "interaction":
        run = await run_interaction(impl, profile, plan.taps, plan.tap_rate, plan.burst,
                                    plan.seed, bar.update)
        return report.interaction_entry(run, rtt)
    if suite == "storm":
        storm = await run_storm(impl, profile, plan.storm_viewers, plan.storm_window_s,
                                plan.seed)
        bar.update(1)
        return report.storm_entry(storm, rtt)
    video = await run_video(impl, profile, plan.video_s, plan.seed, bar.update)
    return report.video_entry(video, profile)


async def run(plan: BenchPlan, progress: bool = True) -> dict[str, Any]:
    """Run ``plan``; returns ``{"machine", "commit", "results": [...]}``."""
    profiles = [get_profile(name) for name in plan.profiles]
    started_at = commit()  # the code that runs is the code at the start
    total = sum(plan.work(s) for s in plan.suites) * len(profiles) * len(plan.implementations)
    results = []
    with tqdm(total=total, disable=not progress, unit="step", leave=False,
              mininterval=1.0) as bar:
        for profile in profiles:
            result: dict[str, Any] = {"profile": profile.name, "rtt_ms": profile.rtt_ms,
                                      "runs": plan.runs}
            for suite in plan.suites:
                entries: dict[str, dict[str, Any] | None] = {"ours": None, "aiortc": None}
                for impl in plan.implementations:
                    bar.set_description(f"{profile.name} {suite} {impl}")
                    entries[impl] = await _suite(suite, impl, profile, plan, bar)
                result[suite] = report.side_by_side(suite, entries["ours"], entries["aiortc"])
                if "chromium" in entries:  # the browser page as the viewer, beside the others
                    result[suite]["chromium"] = entries["chromium"]
            results.append(result)
    return {"machine": machine(), "commit": started_at, "plan": plan_dict(plan),
            "results": results}


def plan_dict(plan: BenchPlan) -> dict[str, Any]:
    """The plan as plain JSON."""
    return {"profiles": list(plan.profiles), "suites": list(plan.suites), "runs": plan.runs,
            "taps": plan.taps, "tap_rate": plan.tap_rate, "burst": plan.burst,
            "video_s": plan.video_s, "storm_viewers": plan.storm_viewers,
            "storm_window_s": plan.storm_window_s, "seed": plan.seed,
            "implementations": list(plan.implementations)}
