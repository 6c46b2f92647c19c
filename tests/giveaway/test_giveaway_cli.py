"""``rtc-interact giveaway`` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from rtc_interact.cli import main
from rtc_interact.giveaway import Giveaway, GiveawayStore, make_claim

from .support import T0, announced, make_rules, tap


def _write_result(tmp_path: Path) -> Path:
    path = tmp_path / "result.json"
    path.write_text(announced(20).to_json())
    return path


def test_verify_prints_valid(tmp_path: Path) -> None:
    out = CliRunner().invoke(main, ["giveaway", "verify", str(_write_result(tmp_path))])
    assert out.exit_code == 0, out.output
    assert out.output.startswith("valid")


def test_verify_names_a_changed_entry_and_exits_non_zero(tmp_path: Path) -> None:
    path = _write_result(tmp_path)
    doc = json.loads(path.read_text())
    doc["entries"][4]["arrival_ms"] += 1
    path.write_text(json.dumps(doc))
    out = CliRunner().invoke(main, ["giveaway", "verify", str(path)])
    assert out.exit_code == 1
    assert "mismatch: entry 5: entry_hash" in out.output
    assert out.output.rstrip().endswith("invalid: 1 mismatch(es)")


def test_verify_unreadable_file_exits_non_zero(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{")
    out = CliRunner().invoke(main, ["giveaway", "verify", str(path)])
    assert out.exit_code == 1 and out.output.startswith("invalid: not JSON")
    missing = CliRunner().invoke(main, ["giveaway", "verify", str(tmp_path / "none.json")])
    assert missing.exit_code == 1


def test_report_from_result_writes_json_and_png(tmp_path: Path) -> None:
    prefix = tmp_path / "rep"
    out = CliRunner().invoke(main, ["giveaway", "report", "--result",
                                    str(_write_result(tmp_path)), "--out", str(prefix)])
    assert out.exit_code == 0, out.output
    assert json.loads((tmp_path / "rep.json").read_text())["entries"] == 20
    assert (tmp_path / "rep.png").read_bytes().startswith(b"\x89PNG")


async def _store_with_claim(path: Path) -> str:
    async with GiveawayStore(path) as store:
        gw = Giveaway(make_rules())
        gw.open(T0)
        for i in range(8):
            decision = gw.enter(tap(f"u{i}", T0 + i))
            await store.add_entry(decision.entry)  # type: ignore[union-attr]
        gw.close(T0 + 70_000)
        gw.draw(T0 + 70_001)
        result = gw.announce(T0 + 70_002)
        await store.save_giveaway(gw.record)
        winner = result.winners[0].identity
        await store.add_claim(make_claim(gw.rules, result.winners, T0 + 70_002, winner,
                                         T0 + 80_000, name="Ada", address="Berlin",
                                         contact="ada@example.com"))
        return winner


async def test_report_and_export_from_a_store(tmp_path: Path) -> None:
    db = tmp_path / "gw.sqlite"
    winner = await _store_with_claim(db)
    runner = CliRunner()
    rep = runner.invoke(main, ["giveaway", "report", "--store", str(db), "--id", "gw-1",
                               "--out", str(tmp_path / "rep")])
    assert rep.exit_code == 0, rep.output
    assert json.loads((tmp_path / "rep.json").read_text())["unique_entrants"] == 8
    exp = runner.invoke(main, ["giveaway", "export", "--store", str(db), "--id", "gw-1",
                               "--csv", str(tmp_path / "w.csv"),
                               "--json", str(tmp_path / "w.json")])
    assert exp.exit_code == 0, exp.output
    assert "6 winners, 1 claims" in exp.output
    assert "overdue:" in exp.output  # T0 is long past: unclaimed prizes are overdue
    rows = json.loads((tmp_path / "w.json").read_text())
    assert rows[0]["identity"] == winner and rows[0]["address"] == "Berlin"
    assert (tmp_path / "w.csv").read_text().startswith("tier,tier_name,place")


def test_report_without_a_source_is_a_usage_error() -> None:
    out = CliRunner().invoke(main, ["giveaway", "report"])
    assert out.exit_code == 2
