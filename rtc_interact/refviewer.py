"""The reference viewer session used by ``rtc-interact view`` and ``rtc-interact demo``.

Connects, taps at a steady pace, posts a comment, watches for a while, and summarises what it saw.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import time
from dataclasses import dataclass
from typing import Any

from .config import ViewerConfig
from .datachannel.messages import CommentPosted
from .errors import RequestRejected
from .viewer import Viewer


@dataclass(frozen=True, slots=True)
class SessionPlan:
    """What the reference viewer does once connected."""

    taps: int = 100
    """Taps to send."""
    tap_rate: float = 20.0
    """Taps per second."""
    seconds: float = 5.0
    """Minimum time to stay connected (watching video)."""
    comment: str | None = "hello from the reference viewer"
    """A comment to post (None: none)."""


async def _tap_loop(viewer: Viewer, plan: SessionPlan, rejected: list[str]) -> None:
    started = time.perf_counter()
    for i in range(plan.taps):
        try:
            await viewer.tap("demo")
        except RequestRejected as exc:
            rejected.append(str(exc))
        await asyncio.sleep(max(0.0, started + (i + 1) / plan.tap_rate - time.perf_counter()))


async def _comment_echo(viewer: Viewer, text: str) -> float | None:
    """Post ``text`` and return ms until it came back as a CommentPosted event."""
    started = time.perf_counter()
    events = viewer.events()
    await viewer.comment(text)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(5.0):
            async for event in events:
                if isinstance(event, CommentPosted) and event.text == text:
                    return (time.perf_counter() - started) * 1000
    return None


async def run_session(url: str, token: str, plan: SessionPlan,
                      config: ViewerConfig | None = None) -> dict[str, Any]:
    """Run ``plan`` against the host at ``url`` and return the JSON summary."""
    started = time.perf_counter()
    rejected: list[str] = []
    async with Viewer.connect(url, token=token, config=config) as viewer:
        echo_ms = await _comment_echo(viewer, plan.comment) if plan.comment else None
        await _tap_loop(viewer, plan, rejected)
        await asyncio.sleep(max(0.0, plan.seconds - (time.perf_counter() - started)))
        stats, timings = viewer.stats(), viewer.connect_timings()
        identity = viewer.welcome.identity if viewer.welcome else None

    def pct(p: Any) -> dict[str, float | int] | None:
        return p.as_dict() if p is not None else None

    return {
        "url": url,
        "identity": identity,
        "frames": stats.frames,
        "fps": round(stats.fps, 2),
        "taps": {"sent": stats.taps_sent, "acked": stats.taps_acked, "rejected": len(rejected)},
        "tap_rtt_ms": pct(stats.tap_rtt_ms),
        "connect_ms": {k: (round(v, 2) if v is not None else None)
                       for k, v in dataclasses.asdict(timings).items()},
        "g2g_ms": pct(stats.g2g_ms),
        "comment_echo_ms": round(echo_ms, 3) if echo_ms is not None else None,
        "bad_messages": stats.bad_messages,
        "duration_s": round(time.perf_counter() - started, 2),
        "cpu_count": os.cpu_count(),
    }


def format_summary(summary: dict[str, Any]) -> str:
    """A few human-readable lines for a session summary."""
    c, t = summary["connect_ms"], summary["taps"]

    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v:.1f} ms"

    lines = [
        f"connected to {summary['url']} as {summary['identity']}",
        "connect   " + " | ".join(f"{k.replace('_', ' ')} {ms(v)}" for k, v in c.items()),
        f"video     {summary['frames']} frames, {summary['fps']:.1f} fps"
        + (f", glass-to-glass p50 {summary['g2g_ms']['p50']:.0f} ms "
           f"p95 {summary['g2g_ms']['p95']:.0f} ms" if summary["g2g_ms"] else ""),
        f"taps      {t['acked']}/{t['sent']} acknowledged"
        + (f", rtt p50 {summary['tap_rtt_ms']['p50']:.2f} ms p95 {summary['tap_rtt_ms']['p95']:.2f}"
           f" ms p99 {summary['tap_rtt_ms']['p99']:.2f} ms" if summary["tap_rtt_ms"] else "")
        + (f", {t['rejected']} rejected" if t["rejected"] else ""),
    ]
    if summary["comment_echo_ms"] is not None:
        lines.append(f"comment   posted and seen back in {summary['comment_echo_ms']:.2f} ms")
    return "\n".join(lines)
