"""Giveaways through a real host and real viewers on 127.0.0.1, with a real SQLite file."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from rtc_interact import Host, HostConfig, VideoConfig, Viewer, new_secret
from rtc_interact.cli import main
from rtc_interact.config import ViewerConfig
from rtc_interact.datachannel.messages import GiveawayRules, Winners, Won
from rtc_interact.errors import ErrorCode, RequestRejected
from rtc_interact.giveaway import PrizeTier, Rules
from rtc_interact.giveaway.draw import result_from_json, verify

EVENTS_ONLY = ViewerConfig(receive_video=False)


def _rules(window_s: float = 30.0) -> Rules:
    return Rules(giveaway_id="spring", title="Spring giveaway",
                 tiers=(PrizeTier("Grand prize", "Espresso machine", 1, 400.0, "EUR"),
                        PrizeTier("Participation", "Coffee beans", 2, 10.0, "EUR")),
                 window_s=window_s, regions=("DE", "FR"), organizer="Example Coffee GmbH")


def _config(tmp_path: Path) -> HostConfig:
    return HostConfig(secret=new_secret(), port=0, video=VideoConfig(320, 180, 15),
                      giveaway_store=str(tmp_path / "giveaways.db"))


async def _open_spring(host: Host) -> None:
    await host.giveaways.create(_rules())
    await host.giveaways.open("spring")


async def _next(viewer: Viewer, kind: type) -> object:
    async with asyncio.timeout(5.0):
        async for event in viewer.events():
            if isinstance(event, kind):
                return event
    raise AssertionError(f"no {kind.__name__}")


async def test_entries_are_durable_once_per_identity_and_the_draw_verifies(
        tmp_path: Path) -> None:
    config = _config(tmp_path)
    async with Host(config) as host:
        await _open_spring(host)
        viewers = [Viewer(host.url, host.mint_token(f"fan{i}", region="DE"), EVENTS_ONLY)
                   for i in range(3)]
        outsider = Viewer(host.url, host.mint_token("far", region="US-NY"), EVENTS_ONLY)
        for viewer in (*viewers, outsider):
            await viewer.open()
        try:
            notice = await _next(viewers[0], GiveawayRules)
            assert isinstance(notice, GiveawayRules) and notice.state == "open"
            assert "Espresso machine" in notice.text and notice.commit
            await viewers[1].comment("good luck all")
            receipts = [await v.enter("spring") for v in viewers]
            again = await viewers[0].enter("spring")  # one entry per identity
            assert (again.entry, again.entry_hash) == (receipts[0].entry, receipts[0].entry_hash)
            assert sorted(r.entry for r in receipts) == [1, 2, 3]
            with pytest.raises(RequestRejected) as refused:
                await outsider.enter("spring")
            assert refused.value.code == ErrorCode.NOT_ELIGIBLE
            result = await host.giveaways.finish("spring", tmp_path / "result.json")
            winners = await _next(viewers[1], Winners)
            assert isinstance(winners, Winners) and winners.entries == result.entries_hash
            won = {w.identity for w in result.winners}
            assert len(won) == 3
            first = next(v for v in viewers if v.welcome and v.welcome.identity in won)
            prize = await _next(first, Won)
            assert isinstance(prize, Won) and prize.g == "spring"
            claimed = await first.claim("spring", name="A. Fan", address="Berlin",
                                        contact="fan@example.com")
            assert claimed.giveaway == "spring"
        finally:
            for viewer in (*viewers, outsider):
                await viewer.aclose()
    published = result_from_json((tmp_path / "result.json").read_text())
    assert verify(published) == []
    assert len(published.entries) == 3
    ran = CliRunner().invoke(main, ["giveaway", "report", "--store", str(tmp_path / "giveaways.db"),
                                    "--id", "spring", "--out", str(tmp_path / "report")])
    assert ran.exit_code == 0, ran.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert (report["unique_entrants"], report["viewers_present"]) == (3, 4)
    assert report["comments_per_min_inside"] > 0 and (tmp_path / "report.png").stat().st_size
    store = ["--store", str(tmp_path / "giveaways.db"), "--id", "spring"]
    exported = CliRunner().invoke(main, ["giveaway", "export", *store,
                                         "--json", str(tmp_path / "ship.json")])
    assert exported.exit_code == 0 and "1 claims" in exported.output, exported.output
    shipping = json.loads((tmp_path / "ship.json").read_text())
    assert any(row.get("address") == "Berlin" for row in shipping), shipping
    # the fulfil command runs its own event loop: call it from a thread, as from a shell
    refused = await asyncio.to_thread(CliRunner().invoke, main,
                                      ["giveaway", "fulfil", *store, "--identity", "nobody"])
    assert refused.exit_code != 0 and "did not win" in refused.output
    winner = first.welcome.identity if first.welcome else ""
    done = await asyncio.to_thread(CliRunner().invoke, main, ["giveaway", "fulfil", *store,
                                                              "--identity", winner,
                                                              "--note", "DHL 123"])
    assert done.exit_code == 0, done.output
    again = CliRunner().invoke(main, ["giveaway", "export", *store])
    assert "1 fulfilled" in again.output
    doc = json.loads((tmp_path / "result.json").read_text())
    doc["entries"][0]["identity"] = "intruder"
    assert verify(result_from_json(json.dumps(doc)))  # a changed entry is caught


async def test_a_restarted_host_keeps_entries_and_answers_a_repeat_with_the_same_receipt(
        tmp_path: Path) -> None:
    config = _config(tmp_path)
    async with Host(config) as host:
        await _open_spring(host)
        async with Viewer.connect(host.url, token=host.mint_token("fan", region="FR"),
                                  config=EVENTS_ONLY) as viewer:
            first = await viewer.enter("spring")
    async with Host(config) as host:
        assert [e.identity for e in host.giveaways.get("spring").entries] == ["fan"]
        async with Viewer.connect(host.url, token=host.mint_token("fan", region="FR"),
                                  config=EVENTS_ONLY) as viewer:
            again = await viewer.enter("spring")
        assert (again.entry, again.entry_hash) == (first.entry, first.entry_hash)
        result = await host.giveaways.finish("spring")
        assert [w.identity for w in result.winners] == ["fan"]


def test_demo_giveaway_result_verifies_and_a_changed_entry_is_named(tmp_path: Path) -> None:
    result_file = tmp_path / "result.json"
    runner = CliRunner()
    ran = runner.invoke(main, ["demo", "--giveaway", "--viewers", "8", "--json",
                               "--result", str(result_file)])
    assert ran.exit_code == 0, ran.output
    summary = json.loads(ran.output)
    assert summary["verified"] and summary["entries"] + sum(summary["refused"].values()) == 8
    assert summary["claims"] == len(summary["winners"]) > 0
    assert runner.invoke(main, ["giveaway", "verify", str(result_file)]).exit_code == 0
    doc = json.loads(result_file.read_text())
    doc["entries"][1]["identity"] = "someone-else"
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(doc))
    checked = runner.invoke(main, ["giveaway", "verify", str(changed)])
    assert checked.exit_code != 0 and "entry 2" in checked.output
