"""Fan-out benchmark: host CPU per number of viewers, encode-once (ours) beside stock aiortc.

The host runs in a child process and reports its own CPU time (``os.times``: user + system of
all its threads, the encoder threads included); the viewers run in another child process so their
CPU is not counted. Every viewer really receives, decrypts, depacketizes and reassembles every
frame; to let one process play 32 viewers on 2 cores, only the first viewer decodes pictures and
the others count complete frames (``aiortc_compat.count_vp8_frames``). A viewer that got no frame
in the window makes the run fail, so a broken stream cannot look cheap.

Each run has two windows. The first starts ``--warmup`` s after every viewer has a frame: all
the viewers have just joined, and ours are still climbing from the middle rung to the top,
with probing padding (``join_cores``). Then the benchmark waits until the host has sent no
padding for ``SETTLE_QUIET_S`` (at most ``SETTLE_MAX_S``) and measures the second window: the
cost of serving the viewers once their rates have settled (``cores``, the figure compared).

    python benchmarks/bench_fanout.py --viewers 1,4,16,32 --runs 3 --window 10 --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

from ..config import AdvancedSettings, HostConfig, VideoConfig, ViewerConfig
from ..host import Host
from ..tokens import Role, mint, new_secret
from ..transport.aiortc_compat import count_vp8_frames, stock_behaviour
from ..viewer import Viewer
from .baseline import BaselineHost, BaselineViewer

IMPLEMENTATIONS = ("ours", "aiortc")
VIDEO = VideoConfig(640, 360, 30)
CONNECT_BATCH = 8
SETTLE_QUIET_S, SETTLE_MAX_S = 1.0, 30.0
"""The viewers' rates have settled when the host sent no padding for this long (waited for at
most the second figure; a run that does not settle is measured anyway and says so)."""


@dataclass(frozen=True, slots=True)
class FanoutRun:
    """One implementation serving ``viewers`` viewers for one window."""

    implementation: str
    """'ours' (encode once per rung) or 'aiortc' (one encoder per viewer)."""
    viewers: int
    """Viewers connected and receiving."""
    cores: float
    """Host CPU seconds per wall second over the window once the rates have settled."""
    join_cores: float
    """The same over the first window, while the viewers have just joined (and climb)."""
    settle_s: float | None
    """Seconds from the end of the first window until no padding was sent for
    ``SETTLE_QUIET_S`` (None: not within ``SETTLE_MAX_S``)."""
    padding_kbit: float
    """Probing padding the host sent in the settled window (0 for stock aiortc)."""
    fps_min: float
    """Frames per second reaching the slowest viewer."""
    fps_median: float
    """Frames per second reaching the median viewer."""
    decoded: int
    """Pictures decoded by the first viewer in the window (proves the stream decodes)."""


def _say(message: dict[str, Any]) -> None:
    print(json.dumps(message), flush=True)


async def _commands() -> Any:
    loop = asyncio.get_running_loop()
    while True:
        line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if not line or line == "quit":
            return
        yield line


async def _serve(impl: str, secret: str) -> None:
    config = HostConfig(secret=secret, port=0, video=VIDEO)
    host_cm: Any = Host(config) if impl == "ours" else BaselineHost(config)
    with stock_behaviour() if impl == "aiortc" else contextlib.nullcontext():
        async with host_cm as host:
            _say({"url": host.url})
            async for _ in _commands():
                times = os.times()
                padding = sum(v.link.padding_kbit for v in (await host.stats()).viewers
                              if v.link is not None) if isinstance(host, Host) else 0.0
                _say({"cpu_s": times.user + times.system, "wall_s": time.monotonic(),
                      "padding_kbit": padding})


async def _drain(viewer: BaselineViewer) -> None:
    for _ in range(1000):  # the track appears with the answer
        if viewer.track is not None:
            break
        await asyncio.sleep(0.01)
    while viewer.track is not None:
        await viewer.track.recv()


async def _connect(impl: str, url: str, token: str) -> Any:
    if impl == "ours":
        config = ViewerConfig(advanced=AdvancedSettings(clock_interval_s=0))
        viewer = Viewer(url, token, config)
        await viewer.open()
        return viewer
    baseline = BaselineViewer(url, token)
    await baseline.connect()
    return baseline


async def _watch(impl: str, url: str, secret: str, count: int) -> None:
    with count_vp8_frames(decode_first=1) as counter:
        viewers: list[Any] = []
        drains: list[asyncio.Task[None]] = []
        try:
            for start in range(0, count, CONNECT_BATCH):
                batch = range(start, min(count, start + CONNECT_BATCH))
                viewers += await asyncio.gather(*(
                    _connect(impl, url, mint(secret, f"v{i}", Role.VIEWER)) for i in batch))
            if impl == "aiortc":
                drains = [asyncio.ensure_future(_drain(v)) for v in viewers]
            _say({"connected": len(viewers)})
            async for _ in _commands():
                _say({"frames": counter.counts(), "decoded": counter.decoded})
        finally:
            for task in drains:
                task.cancel()
            await asyncio.gather(*(v.aclose() for v in viewers), return_exceptions=True)


class _Child:
    """A child process spoken to in JSON lines."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, *args: str) -> _Child:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "rtc_interact.bench.fanout", *args,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        return cls(proc)

    async def read(self, timeout_s: float = 60.0) -> dict[str, Any]:
        assert self.proc.stdout is not None
        async with asyncio.timeout(timeout_s):
            while True:
                line = await self.proc.stdout.readline()
                if not line:
                    raise RuntimeError("benchmark child exited")
                with contextlib.suppress(ValueError):
                    message: dict[str, Any] = json.loads(line)
                    return message

    async def ask(self, command: str = "report") -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{command}\n".encode())
        await self.proc.stdin.drain()
        return await self.read()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            assert self.proc.stdin is not None
            self.proc.stdin.write(b"quit\n")
            await self.proc.stdin.drain()
        try:
            await asyncio.wait_for(self.proc.wait(), 20)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


async def run_fanout(impl: str, viewers: int, window_s: float = 10.0,
                     warmup_s: float = 2.0) -> FanoutRun:
    """Host CPU while ``viewers`` viewers receive, measured over ``window_s``."""
    secret = new_secret()
    host = await _Child.start("host", impl, secret)
    watchers: _Child | None = None
    try:
        url = (await host.read())["url"]
        watchers = await _Child.start("viewers", impl, url, secret, str(viewers))
        await watchers.read(timeout_s=30 + 3 * viewers)
        for _ in range(300):  # until every viewer has had a frame (bounded: 30 s)
            if len(counts := (await watchers.ask())["frames"]) == viewers and min(counts) > 0:
                break
            await asyncio.sleep(0.1)
        else:
            raise RuntimeError("not every viewer received frames")
        await asyncio.sleep(warmup_s)
        join = await _window(host, watchers, window_s)
        settle_s = await _settle(host)
        steady = await _window(host, watchers, window_s)
    finally:
        if watchers is not None:
            await watchers.close()
        await host.close()
    return _summarise(impl, viewers, steady, join.cores, settle_s)


@dataclass(frozen=True, slots=True)
class _Window:
    """The host's (``cpu``) and the viewers' (``frames``) reports at the start and the end of
    one measured window."""

    cpu0: dict[str, Any]
    cpu1: dict[str, Any]
    frames0: dict[str, Any]
    frames1: dict[str, Any]

    @property
    def wall_s(self) -> float:
        return float(self.cpu1["wall_s"] - self.cpu0["wall_s"])

    @property
    def cores(self) -> float:
        return float(round((self.cpu1["cpu_s"] - self.cpu0["cpu_s"]) / self.wall_s, 3))


async def _window(host: _Child, watchers: _Child, window_s: float) -> _Window:
    """Reports at the start and the end of one window of ``window_s``."""
    cpu0, frames0 = await host.ask(), await watchers.ask()
    await asyncio.sleep(window_s)
    return _Window(cpu0, await host.ask(), frames0, await watchers.ask())


async def _settle(host: _Child) -> float | None:
    """Wait until the host sends no padding for ``SETTLE_QUIET_S``; how long that took."""
    start = time.monotonic()
    last = (await host.ask())["padding_kbit"]
    while time.monotonic() - start < SETTLE_MAX_S:
        await asyncio.sleep(SETTLE_QUIET_S)
        now = (await host.ask())["padding_kbit"]
        if now == last:
            return round(time.monotonic() - start, 1)
        last = now
    return None


def _summarise(impl: str, viewers: int, window: _Window, join_cores: float,
               settle_s: float | None) -> FanoutRun:
    wall = window.wall_s
    got = [b - a for a, b in zip(window.frames0["frames"], window.frames1["frames"],
                                 strict=True)]
    if len(got) != viewers or min(got) <= 0:
        raise RuntimeError(f"a viewer received no frames in the window: {got}")
    return FanoutRun(impl, viewers, window.cores, join_cores, settle_s,
                     round(window.cpu1["padding_kbit"] - window.cpu0["padding_kbit"], 1),
                     round(min(got) / wall, 1), round(statistics.median(got) / wall, 1),
                     window.frames1["decoded"] - window.frames0["decoded"])


def _table(rows: list[dict[str, Any]]) -> str:
    lines = ["viewers  impl    cores  x1-viewer  joining  x1-viewer  fps(min)  fps(median)",
             "-------  ------  -----  ---------  -------  ---------  --------  -----------"]
    for row in rows:
        lines.append(f"{row['viewers']:>7}  {row['implementation']:<6}  {row['cores']:>5.3f}  "
                     f"{row['ratio_to_1']:>9.2f}  {row['join_cores']:>7.3f}  "
                     f"{row['join_ratio_to_1']:>9.2f}  {row['fps_min']:>8.1f}  "
                     f"{row['fps_median']:>11.1f}")
    return "\n".join(lines)


def _medians(runs: list[FanoutRun]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    keys = sorted({(r.implementation, r.viewers) for r in runs},
                  key=lambda k: (k[1], IMPLEMENTATIONS.index(k[0])))
    for impl, count in keys:
        mine = [r for r in runs if (r.implementation, r.viewers) == (impl, count)]
        rows.append({"implementation": impl, "viewers": count, "runs": len(mine),
                     "cores": statistics.median(r.cores for r in mine),
                     "cores_all": [r.cores for r in mine],
                     "join_cores": statistics.median(r.join_cores for r in mine),
                     "join_cores_all": [r.join_cores for r in mine],
                     "fps_min": statistics.median(r.fps_min for r in mine),
                     "fps_median": statistics.median(r.fps_median for r in mine)})
    for row in rows:
        one = next((r for r in rows
                    if r["implementation"] == row["implementation"] and r["viewers"] == 1), None)
        for key, ratio in (("cores", "ratio_to_1"), ("join_cores", "join_ratio_to_1")):
            row[ratio] = row[key] / one[key] if one and one[key] else float("nan")
    return rows


async def _bench(args: argparse.Namespace) -> dict[str, Any]:
    from .runner import commit, machine

    runs: list[FanoutRun] = []
    started = commit()
    for _ in range(args.runs):  # interleaved, so slow drift hits both alike
        for count in args.viewers:
            for impl in args.impl:
                runs.append(await run_fanout(impl, count, args.window, args.warmup))
                print(f"{impl} {count}: {runs[-1].cores} cores", file=sys.stderr)
    return {"name": "fanout", "unit": "cores", "window_s": args.window, "machine": machine(),
            "commit": started, "video": asdict(VIDEO) | {"ladder": None},
            "results": _medians(runs), "runs": [asdict(r) for r in runs]}


def main(argv: list[str] | None = None) -> None:
    """Parent: the benchmark. Children: ``host IMPL SECRET`` and ``viewers IMPL URL SECRET N``."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["host"]:
        asyncio.run(_serve(argv[1], argv[2]))
        return
    if argv[:1] == ["viewers"]:
        asyncio.run(_watch(argv[1], argv[2], argv[3], int(argv[4])))
        return
    parser = argparse.ArgumentParser(prog="bench_fanout.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=lambda s: [int(x) for x in s.split(",")],
                        default=[1, 4, 16, 32])
    parser.add_argument("--impl", type=lambda s: s.split(","), default=list(IMPLEMENTATIONS))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    result = asyncio.run(_bench(args))
    print(json.dumps(result, indent=2))
    print(_table(result["results"]))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(result, out, indent=2)


if __name__ == "__main__":
    main()
