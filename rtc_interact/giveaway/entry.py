"""Entry records, receipts and the canonical entry hash.

The entry hash is ``sha256`` over the canonical JSON of the entry's fields: keys sorted, no
whitespace (``separators=(",", ":")``), UTF-8, non-ASCII kept as is (``ensure_ascii=False``), all
times integers. docs/GIVEAWAY.md gives the exact field list so anyone can recompute it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any

HASHED_FIELDS = ("giveaway_id", "number", "identity", "viewer_id", "region", "media_ts_ms",
                 "arrival_ms")
"""Fields covered by the entry hash, in the order of the dataclass (the JSON sorts them)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One accepted entry, as stored and as published with the result."""

    giveaway_id: str
    """The giveaway entered."""
    number: int
    """Entry number, 1, 2, 3, ... in order of acceptance."""
    identity: str
    """Token subject of the entrant (one entry per identity)."""
    viewer_id: str
    """Session id of the viewer that tapped."""
    region: str
    """Region claim of the entrant's token ("" if none)."""
    media_ts_ms: int | None
    """Media timestamp of the frame on screen at the tap (host wall ms), if the tap carried one."""
    arrival_ms: int
    """When the tap reached the host (host wall ms)."""
    entry_hash: str
    """Hex sha256 of the canonical encoding of the fields above."""

    def receipt(self) -> Receipt:
        """The receipt sent in the acknowledgement."""
        return Receipt(self.giveaway_id, self.number, self.entry_hash)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (all fields, including the hash)."""
        return {**hashed_fields(self), "entry_hash": self.entry_hash}


@dataclass(frozen=True, slots=True)
class Receipt:
    """Proof of entry given to the viewer: check it against the published entry list."""

    giveaway_id: str
    """The giveaway entered."""
    number: int
    """The entry number."""
    entry_hash: str
    """Hex sha256 of the entry."""


def hashed_fields(entry: Entry) -> dict[str, Any]:
    """The fields the hash covers, as a plain dict."""
    return {name: getattr(entry, name) for name in HASHED_FIELDS}


def compute_hash(fields: dict[str, Any]) -> str:
    """Hex sha256 of the canonical JSON of ``fields`` (which must be exactly HASHED_FIELDS)."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def make_entry(giveaway_id: str, number: int, identity: str, viewer_id: str, region: str,
               media_ts_ms: int | None, arrival_ms: int) -> Entry:
    """A new entry with its hash computed."""
    entry = Entry(giveaway_id, number, identity, viewer_id, region, media_ts_ms, arrival_ms, "")
    return replace(entry, entry_hash=compute_hash(hashed_fields(entry)))
