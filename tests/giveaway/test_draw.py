"""The verifiable draw: recomputation from the published record, and tamper detection."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest

from rtc_interact.giveaway import ResultFormatError, result_from_json, verify
from rtc_interact.giveaway.draw import commitment, entries_hash, pick_winners, score
from rtc_interact.giveaway.entry import make_entry

from .support import announced, make_rules


def _tampered(change: Callable[[dict[str, Any]], None], n: int = 20) -> list[str]:
    doc = json.loads(announced(n).to_json())
    change(doc)
    return [str(m) for m in verify(result_from_json(json.dumps(doc)))]


def test_untouched_result_is_valid_after_a_json_round_trip() -> None:
    result = announced(20)
    assert len(result.entries) == 20
    assert verify(result_from_json(result.to_json())) == []
    assert result_from_json(result.to_json()) == result


def test_score_is_hmac_of_id_tier_and_entry_hash() -> None:
    seed, h = b"\x05" * 32, "ab" * 32
    msg = b"gw-1\x00\x00\x00\x00\x02" + bytes.fromhex(h)
    assert score(seed, "gw-1", 2, h) == hmac.new(seed, msg, hashlib.sha256).digest()
    assert commitment(seed) == hashlib.sha256(seed).hexdigest()
    assert entries_hash([h, h]) == hashlib.sha256(bytes.fromhex(h) * 2).hexdigest()


def test_winners_are_distinct_in_tier_order_and_lowest_score_first() -> None:
    result = announced(20)
    assert len({w.entry_number for w in result.winners}) == 6
    seed = bytes.fromhex(result.seed)
    grand = min(result.entries, key=lambda e: score(seed, "gw-1", 0, e.entry_hash))
    assert result.winners[0].entry_number == grand.number


def test_fewer_entries_than_prizes_gives_fewer_winners() -> None:
    result = announced(4)
    assert len(result.winners) == 4 and verify(result) == []
    assert pick_winners(b"\x00" * 32, "gw-1", make_rules().tiers, ()) == ()


def test_changed_entry_field_is_detected_and_named() -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["entries"][6]["identity"] = "mallory"
    out = _tampered(change)
    assert any(m.startswith("entry 7: entry_hash") for m in out), out


def test_changed_entry_with_recomputed_hash_breaks_the_entries_hash() -> None:
    def change(doc: dict[str, Any]) -> None:
        e = doc["entries"][6]
        forged = make_entry(e["giveaway_id"], e["number"], "mallory", e["viewer_id"],
                            e["region"], e["media_ts_ms"], e["arrival_ms"])
        e.update(forged.to_dict())
    out = _tampered(change)
    assert any(m.startswith("entries hash") for m in out), out
    assert not any(m.startswith("entry 7") for m in out)


def test_removed_entry_is_detected() -> None:
    def change(doc: dict[str, Any]) -> None:
        del doc["entries"][3]
    out = _tampered(change)
    assert any("position 4: number" in m for m in out), out
    assert any(m.startswith("entries hash") for m in out)


def test_changed_seed_is_detected() -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["seed"] = "00" * 32
    out = _tampered(change)
    assert out[0].startswith("commitment"), out


def test_changed_commitment_is_detected() -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["commitment"] = hashlib.sha256(b"other").hexdigest()
    assert [m.split(":")[0] for m in _tampered(change)] == [
        "commitment (sha256 of the revealed seed)"]


def test_changed_entries_hash_is_detected() -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["entries_hash"] = "ff" * 32
    out = _tampered(change)
    assert len(out) == 1 and out[0].startswith("entries hash"), out


def test_changed_winner_is_detected_and_names_the_tier() -> None:
    def change(doc: dict[str, Any]) -> None:
        loser = next(e for e in doc["entries"]
                     if e["number"] not in {w["entry_number"] for w in doc["winners"]})
        doc["winners"][0].update(entry_number=loser["number"], identity=loser["identity"],
                                 entry_hash=loser["entry_hash"])
    out = _tampered(change)
    assert len(out) == 1 and out[0].startswith("winner of tier 0 ('Grand prize') place 1"), out


def test_dropped_winner_is_detected() -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["winners"].pop()
    assert any(m.startswith("number of winners") for m in _tampered(change))


def test_duplicate_identity_is_detected() -> None:
    def change(doc: dict[str, Any]) -> None:
        e = doc["entries"][1]
        forged = make_entry(e["giveaway_id"], e["number"], doc["entries"][0]["identity"],
                            e["viewer_id"], e["region"], e["media_ts_ms"], e["arrival_ms"])
        e.update(forged.to_dict())
    assert any("entered twice" in m for m in _tampered(change))


def test_changed_rules_tier_quantity_changes_the_winners() -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["rules"]["tiers"][0]["quantity"] = 2
    assert any(m.startswith("winner of tier") for m in _tampered(change))


@pytest.mark.parametrize("text", ["not json", "[]", '{"version": 99}', '{"version": 1}'])
def test_unreadable_results_raise_result_format_error(text: str) -> None:
    with pytest.raises(ResultFormatError):
        result_from_json(text)
