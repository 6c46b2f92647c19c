"""The verifiable draw: commit to a seed, freeze the entries, rank by keyed hash, reveal.

1. At open: ``seed`` = 32 random bytes; publish ``commitment = sha256(seed)`` (hex).
2. At close: publish ``entries_hash = sha256(h_1 || h_2 || ... || h_N)`` where ``h_i`` is the raw
   32-byte entry hash of entry number ``i`` (entries numbered 1..N in acceptance order).
3. Draw: for each tier ``t`` (0-based, in rules order), score every entry not yet a winner by
   ``HMAC-SHA256(key=seed, msg=utf8(giveaway_id) || 0x00 || uint32_be(t) || h_i)``, sort by
   (score, entry number) ascending, and take the tier's quantity.
4. Announce: publish the winners and the seed. :func:`verify` recomputes all of it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .entry import Entry, compute_hash, hashed_fields
from .errors import ResultFormatError, RulesError
from .rules import PrizeTier, Rules, rules_from_dict, to_dict

RESULT_VERSION = 1
SEED_BYTES = 32


def new_seed() -> bytes:
    """A fresh secret seed (32 bytes from the OS CSPRNG)."""
    return secrets.token_bytes(SEED_BYTES)


def commitment(seed: bytes) -> str:
    """Hex sha256 of the seed, published when the giveaway opens."""
    return hashlib.sha256(seed).hexdigest()


def entries_hash(entry_hashes: Sequence[str]) -> str:
    """Hex sha256 over the raw entry hashes in entry-number order (sha256 of b"" if none)."""
    return hashlib.sha256(b"".join(bytes.fromhex(h) for h in entry_hashes)).hexdigest()


def score(seed: bytes, giveaway_id: str, tier: int, entry_hash: str) -> bytes:
    """The keyed rank of one entry in one tier (lower wins)."""
    msg = (giveaway_id.encode("utf-8") + b"\x00" + struct.pack(">I", tier)
           + bytes.fromhex(entry_hash))
    return hmac.new(seed, msg, hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class Winner:
    """One prize awarded to one entry."""

    tier: int
    """0-based index of the tier in the rules."""
    tier_name: str
    """Name of the tier."""
    place: int
    """1-based place within the tier."""
    entry_number: int
    """The winning entry."""
    identity: str
    """The winning identity."""
    entry_hash: str
    """Hash of the winning entry."""


def pick_winners(seed: bytes, giveaway_id: str, tiers: Sequence[PrizeTier],
                 entries: Sequence[Entry]) -> tuple[Winner, ...]:
    """Winners per tier, tiers in order, no entry winning twice; fewer if entries run out."""
    pool = list(entries)
    winners: list[Winner] = []
    for index, tier in enumerate(tiers):
        ranked = sorted(pool, key=lambda e: (score(seed, giveaway_id, index, e.entry_hash),
                                             e.number))
        chosen = ranked[:tier.quantity]
        winners += [Winner(index, tier.name, place, e.number, e.identity, e.entry_hash)
                    for place, e in enumerate(chosen, start=1)]
        taken = {e.number for e in chosen}
        pool = [e for e in pool if e.number not in taken]
    return tuple(winners)


@dataclass(frozen=True, slots=True)
class PublishedResult:
    """Everything published about a drawn giveaway; enough to verify it."""

    rules: Rules
    """The rules as published."""
    commitment: str
    """Hex sha256 of the seed, published at open."""
    opened_at_ms: int
    """When entries opened (host wall ms)."""
    closed_at_ms: int
    """When the entry list was frozen (host wall ms)."""
    entries: tuple[Entry, ...]
    """The frozen entry list, numbers 1..N."""
    entries_hash: str
    """Hash of the frozen entry list, published at close."""
    winners: tuple[Winner, ...]
    """Winners in tier order, then place."""
    seed: str
    """The revealed seed (hex)."""
    drawn_at_ms: int
    """When the winners were drawn."""

    @property
    def giveaway_id(self) -> str:
        """The giveaway's id."""
        return self.rules.giveaway_id

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-friendly dict."""
        return {
            "version": RESULT_VERSION, "giveaway_id": self.giveaway_id,
            "rules": to_dict(self.rules), "commitment": self.commitment,
            "opened_at_ms": self.opened_at_ms, "closed_at_ms": self.closed_at_ms,
            "entries": [e.to_dict() for e in self.entries], "entries_hash": self.entries_hash,
            "winners": [{"tier": w.tier, "tier_name": w.tier_name, "place": w.place,
                         "entry_number": w.entry_number, "identity": w.identity,
                         "entry_hash": w.entry_hash} for w in self.winners],
            "seed": self.seed, "drawn_at_ms": self.drawn_at_ms,
        }

    def to_json(self) -> str:
        """Indented JSON text."""
        return json.dumps(self.to_dict(), indent=1, ensure_ascii=False)


def result_from_dict(doc: Any) -> PublishedResult:
    """Parse a published result; raises :class:`ResultFormatError` on a bad shape."""
    try:
        if doc["version"] != RESULT_VERSION:
            raise ResultFormatError(f"unsupported result version {doc['version']!r}")
        return PublishedResult(
            rules=rules_from_dict(doc["rules"]), commitment=_str(doc["commitment"]),
            opened_at_ms=_int(doc["opened_at_ms"]), closed_at_ms=_int(doc["closed_at_ms"]),
            entries=tuple(_entry(e) for e in doc["entries"]),
            entries_hash=_str(doc["entries_hash"]),
            winners=tuple(Winner(_int(w["tier"]), _str(w["tier_name"]), _int(w["place"]),
                                 _int(w["entry_number"]), _str(w["identity"]),
                                 _str(w["entry_hash"])) for w in doc["winners"]),
            seed=_str(doc["seed"]), drawn_at_ms=_int(doc["drawn_at_ms"]),
        )
    except (KeyError, TypeError, ValueError, RulesError) as exc:
        if isinstance(exc, ResultFormatError):
            raise
        raise ResultFormatError(f"result: missing or mistyped field ({exc})") from None


def result_from_json(text: str) -> PublishedResult:
    """Parse a published result from JSON text."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ResultFormatError(f"not JSON: {exc}") from None
    return result_from_dict(doc)


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {value!r}")
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value


def _entry(e: Any) -> Entry:
    media = e["media_ts_ms"]
    return Entry(_str(e["giveaway_id"]), _int(e["number"]), _str(e["identity"]),
                 _str(e["viewer_id"]), _str(e["region"]), None if media is None else _int(media),
                 _int(e["arrival_ms"]), _str(e["entry_hash"]))


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One thing in a published result that does not match its recomputation."""

    where: str
    """What is wrong ("entry 17", "commitment", "winner tier 0 place 1", ...)."""
    expected: str
    """The recomputed value."""
    found: str
    """The published value."""

    def __str__(self) -> str:
        return f"{self.where}: expected {self.expected}, found {self.found}"


def verify(result: PublishedResult) -> list[Mismatch]:
    """Recompute commitment, entry hashes, entries hash and winners; [] means valid."""
    out: list[Mismatch] = []
    try:
        seed = bytes.fromhex(result.seed)
    except ValueError:
        return [Mismatch("seed", "hex string", result.seed)]
    if commitment(seed) != result.commitment:
        out.append(Mismatch("commitment (sha256 of the revealed seed)", commitment(seed),
                            result.commitment))
    out += _verify_entries(result)
    published = [e.entry_hash for e in result.entries]
    if _all_hex(published) and entries_hash(published) != result.entries_hash:
        out.append(Mismatch("entries hash (of the listed entry hashes)", entries_hash(published),
                            result.entries_hash))
    if _all_hex(published):
        out += _verify_winners(result, seed)
    return out


def _all_hex(hashes: Sequence[str]) -> bool:
    try:
        return all(len(bytes.fromhex(h)) == 32 for h in hashes)
    except ValueError:
        return False


def _verify_entries(result: PublishedResult) -> list[Mismatch]:
    out: list[Mismatch] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(result.entries, start=1):
        where = f"entry {entry.number}"
        if entry.number != index:
            out.append(Mismatch(f"entry at position {index}: number", str(index),
                                str(entry.number)))
        if entry.giveaway_id != result.giveaway_id:
            out.append(Mismatch(f"{where}: giveaway_id", result.giveaway_id, entry.giveaway_id))
        recomputed = compute_hash(hashed_fields(entry))
        if recomputed != entry.entry_hash:
            out.append(Mismatch(f"{where}: entry_hash (of its fields)", recomputed,
                                entry.entry_hash))
        if entry.identity in seen:
            out.append(Mismatch(f"{where}: identity entered twice", "one entry per identity",
                                f"{entry.identity!r} also in entry {seen[entry.identity]}"))
        seen.setdefault(entry.identity, entry.number)
    return out


def _verify_winners(result: PublishedResult, seed: bytes) -> list[Mismatch]:
    out: list[Mismatch] = []
    expected = pick_winners(seed, result.giveaway_id, result.rules.tiers, result.entries)
    if len(expected) != len(result.winners):
        out.append(Mismatch("number of winners", str(len(expected)), str(len(result.winners))))
    for want, got in zip(expected, result.winners, strict=False):
        if want != got:
            out.append(Mismatch(f"winner of tier {want.tier} ({want.tier_name!r}) place "
                                f"{want.place}", _describe(want), _describe(got)))
    return out


def _describe(w: Winner) -> str:
    return (f"tier {w.tier} place {w.place}: entry {w.entry_number} "
            f"({w.identity!r}, {w.entry_hash[:12]}...)")
