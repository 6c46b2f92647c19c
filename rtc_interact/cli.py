"""The ``rtc-interact`` command line: host, view, token, demo."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .config import HostConfig, VideoConfig
from .errors import RtcInteractError
from .giveaway.cli import giveaway
from .giveaway.demo import GiveawayPlan, host_giveaway, load_rules, run_demo
from .host import Host
from .media.sources import file_track
from .refviewer import SessionPlan, format_summary, run_session
from .tokens import Role, mint, new_secret
from .web.routes import page_url

T = TypeVar("T")
SECRET_ENV = "RTC_INTERACT_SECRET"


def _run(main: Coroutine[Any, Any, T], loop: str) -> T:
    """Run ``main`` on the chosen event loop; RtcInteractError becomes a one-line error."""
    try:
        if loop in ("uvloop", "auto"):
            try:
                import uvloop
            except ImportError:
                if loop == "uvloop":
                    raise click.ClickException("uvloop is not installed") from None
            else:
                return uvloop.run(main)
        return asyncio.run(main)
    except RtcInteractError as exc:
        raise click.ClickException(str(exc)) from None


loop_option = click.option(
    "--loop", type=click.Choice(["auto", "uvloop", "asyncio"]), default="auto", show_default=True,
    help="Event loop: uvloop where installed (auto), or the standard asyncio loop.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rtc-interact")
def main() -> None:
    """rtc-interact: low-latency taps, comments and giveaways beside live WebRTC video.

    \b
    Quick start (host and viewer on this machine, no outside service):
      rtc-interact demo --seconds 10
    Two terminals:
      rtc-interact host --secret-env            # prints the viewer URL and a token
      rtc-interact view URL --token TOKEN --taps 50
    """


@main.command()
@click.option("--bind", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="HTTP signaling port (0 picks a free one).")
@click.option("--secret", envvar=SECRET_ENV, default=None,
              help=f"Token secret (or ${SECRET_ENV}); a random one is made if absent.")
@click.option("--source", default="testpattern", show_default=True,
              help="'testpattern' or a media file path (played in a loop).")
@click.option("--size", default="640x360", show_default=True, help="Test pattern WIDTHxHEIGHT.")
@click.option("--fps", default=30.0, show_default=True, type=click.FloatRange(1, 120))
@click.option("--seconds", type=click.FloatRange(min=0.1), default=None,
              help="Stop after this long (default: run until Ctrl-C).")
@click.option("--giveaway-store", type=click.Path(dir_okay=False), default=None,
              help="SQLite file keeping giveaways and entries; a restart carries on from it.")
@click.option("--giveaway", "rules_path", type=click.Path(exists=True, dir_okay=False),
              default=None, help="Rules JSON of a giveaway to open now (needs --giveaway-store; "
                                 "resumed, not reopened, if the store has it).")
@click.option("--acknowledge", multiple=True,
              help="Compliance finding id to acknowledge when opening (repeatable).")
@click.option("--token-region", default="", metavar="REGION",
              help="Region claim (e.g. DE) in the tokens printed at start; giveaways check it.")
@click.option("--finish-after", type=click.FloatRange(min=0), default=None,
              help="Seconds after start to close, draw and announce the giveaway.")
@click.option("--result", "result_path", type=click.Path(dir_okay=False), default=None,
              help="Where --finish-after writes the published result.")
@loop_option
def host(bind: str, port: int, secret: str | None, source: str, size: str, fps: float,
         seconds: float | None, giveaway_store: str | None, rules_path: str | None,
         acknowledge: tuple[str, ...], token_region: str, finish_after: float | None,
         result_path: str | None, loop: str) -> None:
    """Stream video and take taps and comments from viewers.

    Prints the viewer URL and a viewer token, then one status line a second.
    """
    width, height = _parse_size(size)
    if rules_path and not giveaway_store:
        raise click.UsageError("--giveaway needs --giveaway-store")
    config = HostConfig(secret=secret or new_secret(), bind=bind, port=port,
                        video=VideoConfig(width, height, fps), giveaway_store=giveaway_store)
    track = None if source == "testpattern" else file_track(source)
    plan = GiveawayPlan(load_rules(rules_path), acknowledge, finish_after,
                        result_path) if rules_path else None
    _run(_host_main(config, track, seconds, plan, token_region), loop)


def _parse_size(size: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in size.lower().split("x"))
    except ValueError:
        raise click.BadParameter(
            f"expected WIDTHxHEIGHT, got {size!r}", param_hint="--size"
        ) from None
    return width, height


async def _host_main(config: HostConfig, track: Any, seconds: float | None,
                     plan: GiveawayPlan | None, region: str = "") -> None:
    async with Host(config, track) as host:
        if plan is not None:
            await host_giveaway(host, plan.rules, plan.acknowledge)
            click.echo(f"giveaway:     {plan.rules.giveaway_id} open (tap target)")
            if plan.finish_after is not None:
                asyncio.get_running_loop().call_later(
                    plan.finish_after, lambda: asyncio.ensure_future(_finish(host, plan)))
        click.echo(f"viewer URL:   {host.url}")
        click.echo(f"viewer token: {host.mint_token('viewer', 24 * 3600, region)}")
        click.echo(f"watch with:   rtc-interact view {host.url} --token <viewer token>")
        browser_token = host.mint_token("browser", 24 * 3600, region)
        click.echo(f"or open:      {page_url(host.url, browser_token)}")
        deadline = None if seconds is None else time.monotonic() + seconds
        taps_before = 0
        while deadline is None or time.monotonic() < deadline:
            await asyncio.sleep(1.0)
            stats = await host.stats()
            kbps = sum(v.kbps for v in stats.viewers)
            click.echo(f"\rviewers {len(stats.viewers):3d} | taps/s {stats.taps - taps_before:4d} "
                       f"| kbps {kbps:7.0f} | taps {stats.taps} | comments {stats.comments}  ",
                       nl=not sys.stdout.isatty())
            taps_before = stats.taps


async def _finish(host: Host, plan: GiveawayPlan) -> None:
    result = await host.giveaways.finish(plan.rules.giveaway_id, plan.result_path)
    click.echo(f"\ngiveaway finished: {len(result.entries)} entries, "
               f"{len(result.winners)} winners, result {plan.result_path or '(not written)'}")


def _viewer_options(fn: Callable[..., None]) -> Callable[..., None]:
    fn = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")(fn)
    fn = click.option("--seconds", default=5.0, show_default=True, type=click.FloatRange(0.5),
                      help="Stay connected at least this long.")(fn)
    fn = click.option("--tap-rate", default=20.0, show_default=True,
                      type=click.FloatRange(0.1, 1000), help="Taps per second.")(fn)
    fn = click.option("--taps", default=100, show_default=True, type=click.IntRange(0),
                      help="Taps to send.")(fn)
    return fn


@main.command()
@click.argument("url")
@click.option("--token", envvar="RTC_INTERACT_TOKEN", required=True,
              help="Viewer token from the host (or $RTC_INTERACT_TOKEN).")
@_viewer_options
@loop_option
def view(url: str, token: str, taps: int, tap_rate: float, seconds: float, as_json: bool,
         loop: str) -> None:
    """Watch a host at URL, tap, comment, and print what was measured."""
    plan = SessionPlan(taps=taps, tap_rate=tap_rate, seconds=seconds)
    summary = _run(run_session(url, token, plan), loop)
    _print_summary(summary, as_json)


def _print_summary(summary: dict[str, Any], as_json: bool) -> None:
    click.echo(json.dumps(summary) if as_json else format_summary(summary))
    if summary["taps"]["acked"] < summary["taps"]["sent"]:
        raise SystemExit(1)


@main.command()
@click.option("--secret", envvar=SECRET_ENV, required=True,
              help=f"The host's token secret (or ${SECRET_ENV}).")
@click.option("--identity", required=True, help="Who the token is for.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default="viewer",
              show_default=True)
@click.option("--ttl", default=3600.0, show_default=True, type=click.FloatRange(min=1),
              help="Seconds until it expires.")
@click.option("--region", default="", help="ISO 3166 region code to vouch for (optional).")
def token(secret: str, identity: str, role: str, ttl: float, region: str) -> None:
    """Mint a signed token for a viewer (or a host operator)."""
    try:
        click.echo(mint(secret, identity, Role(role), ttl, region))
    except RtcInteractError as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@_viewer_options
@click.option("--giveaway", is_flag=True,
              help="Run a whole giveaway instead: open, entries, close, draw, winners, claims.")
@click.option("--viewers", default=20, show_default=True, type=click.IntRange(1, 200),
              help="Viewers taking part in the giveaway (with --giveaway).")
@click.option("--result", "result_path", default="giveaway-result.json", show_default=True,
              type=click.Path(dir_okay=False, writable=True),
              help="Where the published giveaway result goes (with --giveaway); check it with "
                   "'rtc-interact giveaway verify'.")
@loop_option
def demo(taps: int, tap_rate: float, seconds: float, as_json: bool, giveaway: bool,
         viewers: int, result_path: str, loop: str) -> None:
    """Start a host and a viewer on 127.0.0.1, tap, comment, and print the viewer's summary.

    With --giveaway: a host and --viewers viewers run a giveaway end to end; the published
    result is written to --result.
    """
    if giveaway:
        summary = _run(run_demo(viewers, Path(result_path)), loop)
        click.echo(json.dumps(summary) if as_json else _giveaway_text(summary))
        if not summary["verified"]:
            raise SystemExit(1)
        return
    plan = SessionPlan(taps=taps, tap_rate=tap_rate, seconds=seconds)
    summary = _run(_demo_main(plan), loop)
    _print_summary(summary, as_json)


def _giveaway_text(summary: dict[str, Any]) -> str:
    lines = [f"giveaway {summary['giveaway']}: {summary['viewers']} viewers, "
             f"{summary['entries']} entries, refused {summary['refused'] or 'none'}",
             f"entry acknowledged (durable) ms: {summary['entry_ack_ms']}"]
    lines += [f"  {w['tier']}: {w['identity']} (entry {w['entry']})" for w in summary["winners"]]
    lines.append(f"claims: {summary['claims']}; result: {summary['result']} "
                 f"({'verified' if summary['verified'] else 'DOES NOT VERIFY'})")
    return "\n".join(lines)


async def _demo_main(plan: SessionPlan) -> dict[str, Any]:
    async with Host(HostConfig(secret=new_secret(), port=0)) as host:
        summary = await run_session(host.url, host.mint_token("demo-viewer"), plan)
        summary["host"] = {"taps": (await host.stats()).taps, "cpu_count": os.cpu_count()}
        return summary


@main.command()
@click.option("--profile", "profiles", multiple=True, default=("rtt150-loss2",), show_default=True,
              help="Link profile (repeatable); names from rtc_interact/data/link-profiles.json.")
@click.option("--suite", "suites", multiple=True,
              type=click.Choice(["connect", "interaction", "video", "storm"]),
              help="Suite to run (repeatable; default: connect, interaction, video).")
@click.option("--runs", default=10, show_default=True, type=click.IntRange(1),
              help="Connect runs per profile and implementation.")
@click.option("--taps", default=1000, show_default=True, type=click.IntRange(1),
              help="Paced taps in the interaction suite.")
@click.option("--tap-rate", default=20.0, show_default=True, type=click.FloatRange(0.1, 1000))
@click.option("--burst", default=200, show_default=True, type=click.IntRange(0),
              help="Taps sent at once after the paced ones.")
@click.option("--video-seconds", default=60, show_default=True, type=click.IntRange(5),
              help="Seconds of video per profile and implementation.")
@click.option("--storm-viewers", default=50, show_default=True, type=click.IntRange(1, 500),
              help="Viewers in the tap storm, each on its own emulated link.")
@click.option("--storm-window", default=2.0, show_default=True, type=click.FloatRange(0.1),
              help="Seconds within which every storm viewer taps once.")
@click.option("--impl", "impls", multiple=True, type=click.Choice(["ours", "aiortc", "chromium"]),
              help="Implementation (repeatable; default: ours and aiortc, side by side). "
                   "'chromium': our host with the browser page in headless Chromium as the "
                   "viewer (connect, interaction and video suites).")
@click.option("--seed", default=1, show_default=True, help="Seed of the first run's link.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write JSON here.")
@click.option("--markdown", "markdown_path", type=click.Path(dir_okay=False),
              help="Write the results as Markdown tables here.")
@click.option("--plot", "plot_dir", type=click.Path(file_okay=False),
              help="Write PNG plots (video suite) into this folder.")
@click.option("--progress/--no-progress", default=True, help="Progress bar on stderr.")
@loop_option
def bench(profiles: tuple[str, ...], suites: tuple[str, ...], runs: int, taps: int,
          tap_rate: float, burst: int, video_seconds: int, storm_viewers: int,
          storm_window: float, impls: tuple[str, ...], seed: int,
          json_path: str | None, markdown_path: str | None, plot_dir: str | None,
          progress: bool, loop: str) -> None:
    """Measure connect time, tap latency and video on emulated links, ours beside stock aiortc.

    \b
    Example (the issue's check):
      rtc-interact bench --suite connect --suite interaction --profile rtt150-loss2 \\
        --runs 10 --json out.json
    """
    from .bench import report
    from .bench.runner import SUITES, BenchPlan, run
    from .linkemu import get_profile

    for name in profiles:
        try:
            get_profile(name)
        except RtcInteractError as exc:
            raise click.BadParameter(str(exc), param_hint="--profile") from None
    plan = BenchPlan(profiles=profiles, suites=suites or SUITES, runs=runs, taps=taps,
                     tap_rate=tap_rate, burst=burst, video_s=video_seconds,
                     storm_viewers=storm_viewers, storm_window_s=storm_window, seed=seed,
                     implementations=impls or ("ours", "aiortc"))
    doc = _run(run(plan, progress=progress), loop)
    if json_path:  # first: a long run's numbers are kept whatever comes next
        with open(json_path, "w") as fh:
            json.dump(doc, fh, indent=1)
    click.echo(report.table(doc["results"]))
    if json_path:
        click.echo(f"JSON written to {json_path}")
    if markdown_path:
        Path(markdown_path).write_text(report.markdown(doc["results"]))
        click.echo(f"Markdown written to {markdown_path}")
    if plot_dir:
        for result in doc["results"]:
            path = report.plot(result, Path(plot_dir))
            if path is not None:
                click.echo(f"plot written to {path}")


main.add_command(giveaway)
