"""``rtc-interact giveaway``: verify a published draw, report analytics, export winners."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from ..datachannel.clock import wall_ms
from . import analytics, fulfillment
from .draw import result_from_json, verify
from .errors import GiveawayError
from .fairness import Window
from .store import GiveawayStore


@click.group()
def giveaway() -> None:
    """Giveaways: verify a published draw, report analytics, export winners for shipping."""


@giveaway.command("verify")
@click.argument("result_path", metavar="RESULT.json", type=click.Path(dir_okay=False))
def verify_cmd(result_path: str) -> None:
    """Recompute commitment, entry hashes, entries hash and winners of a published result.

    Prints "valid" (exit 0), or each mismatch (exit 1).
    """
    try:
        result = result_from_json(Path(result_path).read_text("utf-8"))
    except (OSError, GiveawayError) as exc:
        click.echo(f"invalid: {exc}")
        sys.exit(1)
    mismatches = verify(result)
    if not mismatches:
        click.echo(f"valid: giveaway {result.giveaway_id}, {len(result.entries)} entries, "
                   f"{len(result.winners)} winners")
        return
    for m in mismatches:
        click.echo(f"mismatch: {m}")
    click.echo(f"invalid: {len(mismatches)} mismatch(es)")
    sys.exit(1)


def _report_from_store(path: str, giveaway_id: str) -> analytics.Report:
    store = GiveawayStore(path)
    try:
        rec = store.load_record(giveaway_id)
        if rec.opened_at_ms is None:
            raise click.ClickException(f"giveaway {giveaway_id} never opened")
        window = Window(rec.opened_at_ms, rec.opened_at_ms + rec.rules.window_ms)
        end = rec.closed_at_ms or wall_ms()
        return analytics.build(giveaway_id, window, store.load_entries(giveaway_id),
                               store.load_presence(giveaway_id),
                               store.load_comments(giveaway_id), end)
    finally:
        store.close_now()


@giveaway.command("report")
@click.option("--store", "store_path", type=click.Path(dir_okay=False, exists=True),
              help="Giveaway store (SQLite file) to read.")
@click.option("--id", "giveaway_id", help="Giveaway id in the store.")
@click.option("--result", "result_path", type=click.Path(dir_okay=False, exists=True),
              help="Or a published result JSON (entries only: no presence or comments).")
@click.option("--out", "out_prefix", default="giveaway-report", show_default=True,
              help="Writes OUT.json and OUT.png.")
def report_cmd(store_path: str | None, giveaway_id: str | None, result_path: str | None,
               out_prefix: str) -> None:
    """Analytics of one giveaway as JSON and a PNG chart."""
    try:
        if result_path:
            res = result_from_json(Path(result_path).read_text("utf-8"))
            window = Window(res.opened_at_ms, res.opened_at_ms + res.rules.window_ms)
            rep = analytics.build(res.giveaway_id, window, res.entries, (), (), res.closed_at_ms)
        elif store_path and giveaway_id:
            rep = _report_from_store(store_path, giveaway_id)
        else:
            raise click.UsageError("give --result, or --store and --id")
    except GiveawayError as exc:
        raise click.ClickException(str(exc)) from None
    json_path, png_path = Path(out_prefix + ".json"), Path(out_prefix + ".png")
    json_path.write_text(rep.to_json())
    analytics.plot_png(rep, png_path)
    click.echo(f"{rep.entries} entries, {rep.unique_entrants} entrants, "
               f"{rep.viewers_present} viewers present")
    click.echo(f"JSON written to {json_path}\nPNG written to {png_path}")


@giveaway.command("export")
@click.option("--store", "store_path", required=True,
              type=click.Path(dir_okay=False, exists=True), help="Giveaway store (SQLite file).")
@click.option("--id", "giveaway_id", required=True, help="Giveaway id in the store.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), help="Write CSV here.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write JSON here.")
def export_cmd(store_path: str, giveaway_id: str, csv_path: str | None,
               json_path: str | None) -> None:
    """Winners with their claims for shipping, and the prizes overdue now."""
    store = GiveawayStore(store_path)
    try:
        rec = store.load_record(giveaway_id)
        claims, done = store.load_claims(giveaway_id), store.load_fulfilments(giveaway_id)
    except GiveawayError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close_now()
    if csv_path:
        Path(csv_path).write_text(fulfillment.export_csv(rec.winners, claims, done))
    if json_path:
        Path(json_path).write_text(fulfillment.export_json(rec.winners, claims, done))
    click.echo(f"{len(rec.winners)} winners, {len(claims)} claims, {len(done)} fulfilled")
    if rec.announced_at_ms is not None:
        late = fulfillment.overdue(rec.rules, rec.winners, rec.announced_at_ms, claims, done,
                                   wall_ms())
        for item in late:
            click.echo(f"overdue: {item.identity} ({item.tier_name}) {item.status}, "
                       f"{item.late_ms / 3_600_000:.1f} h late")


@giveaway.command("fulfil")
@click.option("--store", "store_path", type=click.Path(dir_okay=False, exists=True),
              required=True, help="Giveaway store (SQLite file).")
@click.option("--id", "giveaway_id", required=True, help="Giveaway id in the store.")
@click.option("--identity", required=True, help="The winner whose prize was delivered.")
@click.option("--note", default="", help="Tracking number or other note.")
def fulfil_cmd(store_path: str, giveaway_id: str, identity: str, note: str) -> None:
    """Mark a winner's prize delivered (it leaves the overdue report)."""
    asyncio.run(_fulfil(store_path, giveaway_id, identity, note))
    click.echo(f"marked delivered: {identity} in {giveaway_id}")


async def _fulfil(store_path: str, giveaway_id: str, identity: str, note: str) -> None:
    async with GiveawayStore(store_path) as store:
        try:
            rec = store.load_record(giveaway_id)
        except GiveawayError as exc:
            raise click.ClickException(str(exc)) from None
        if identity not in {w.identity for w in rec.winners}:
            raise click.ClickException(f"{identity!r} did not win in {giveaway_id}")
        await store.mark_fulfilled(fulfillment.Fulfilment(giveaway_id, identity,
                                                          wall_ms(), note))
