"""Wire messages of the event channel, one frozen dataclass per message type.

``Upstream`` messages go from a viewer to the host, ``Downstream`` messages from the host to a
viewer. Each class names its wire ``TYPE`` and its fields in ``FIELDS``; the codec validates against
that table, so the table here *is* the schema that docs/PROTOCOL.md describes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

PROTOCOL_VERSION = 1
MAX_MESSAGE_BYTES = 8192
MAX_ID = 2**32 - 1
MAX_TEXT = 500
MAX_TOKEN = 64


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """How one dataclass field travels on the wire."""

    key: str
    """The msgpack map key."""
    kind: type
    """``int`` (never bool), ``str`` or ``float`` (ints accepted)."""
    required: bool = True
    """Whether the key must be present; absent optional keys take the dataclass default."""
    low: int = 0
    """Smallest int value, or shortest string length."""
    high: int = MAX_ID
    """Largest int value, or longest string length."""


def _id(key: str = "id") -> FieldSpec:
    return FieldSpec(key, int, True, 0, MAX_ID)


def _text(key: str, high: int, low: int = 0, required: bool = True) -> FieldSpec:
    return FieldSpec(key, str, required, low, high)


def _millis(key: str, required: bool = True) -> FieldSpec:
    return FieldSpec(key, int, required, 0, 2**63 - 1)


# ---------------------------------------------------------------- viewer -> host


@dataclass(frozen=True, slots=True)
class Tap:
    """A viewer taps (enters a giveaway, votes, likes)."""

    TYPE: ClassVar[str] = "tap"
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (_id(), _text("target", MAX_TOKEN, required=False))
    id: int
    """Viewer-chosen message id, unique within the session; the ack echoes it."""
    target: str = ""
    """What was tapped (a giveaway id, a poll option); empty for a plain tap."""


@dataclass(frozen=True, slots=True)
class Comment:
    """A viewer posts a comment."""

    TYPE: ClassVar[str] = "comment"
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (_id(), _text("text", MAX_TEXT, low=1))
    id: int
    """Viewer-chosen message id, unique within the session; the ack echoes it."""
    text: str
    """The comment, 1 to 500 characters."""


@dataclass(frozen=True, slots=True)
class Ping:
    """A viewer measures round-trip time and clock offset."""

    TYPE: ClassVar[str] = "ping"
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (_id(), _millis("ts"))
    id: int
    """Viewer-chosen message id; the pong echoes it."""
    ts: int
    """The viewer's clock when sending, in milliseconds (any epoch)."""


# ---------------------------------------------------------------- host -> viewer


@dataclass(frozen=True, slots=True)
class Welcome:
    """The host greets a viewer once the channel is open."""

    TYPE: ClassVar[str] = "welcome"
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (
        _text("viewer", MAX_TOKEN, low=1),
        _text("identity", MAX_TOKEN * 2, low=1),
        _millis("hts"),
    )
    viewer: str
    """The session id the host gave this viewer."""
    identity: str
    """The identity from the viewer's token."""
    hts: int
    """Host clock in Unix milliseconds."""


@dataclass(frozen=True, slots=True)
class Ack:
    """The host accepted a tap or comment."""

    TYPE: ClassVar[str] = "ack"
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (_id(), FieldSpec("n", int, True, 1, 2**63 - 1),
                                               _millis("hts"))
    id: int
    """The id of the acknowledged message."""
    n: int
    """Host-wide sequence number of this tap (or comment), starting at 1."""
    hts: int
    """Host clock in Unix milliseconds when it was accepted."""


@dataclass(frozen=True, slots=True)
class Pong:
    """The host answers a ping."""

    TYPE: ClassVar[str] = "pong"
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (_id(), _millis("ts"), _millis("hts"))
    id: int
    """The ping's id."""
    ts: int
    """The ping's ``ts``, echoed."""
    hts: int
    """Host clock in Unix milliseconds when it answered."""


@dataclass(frozen=True, slots=True)
class CommentPosted:
    """A comment from some viewer, relayed to every viewer (its author too)."""

    TYPE: ClassVar[str] = "commented"
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (
        FieldSpec("n", int, True, 1, 2**63 - 1),
        _text("author", MAX_TOKEN * 2, low=1),
        _text("text", MAX_TEXT, low=1),
        _millis("hts"),
    )
    n: int
    """Host-wide comment number."""
    author: str
    """The author's identity."""
    text: str
    """The comment."""
    hts: int
    """Host clock in Unix milliseconds when it was accepted."""


@dataclass(frozen=True, slots=True)
class Announcement:
    """A message from the host application to one or all viewers."""

    TYPE: ClassVar[str] = "announce"
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (
        _text("topic", MAX_TOKEN),
        _text("text", MAX_TEXT * 4),
        _millis("hts", required=False),
    )
    topic: str
    """Application-defined topic, up to 64 characters."""
    text: str
    """Application-defined text, up to 2000 characters."""
    hts: int = 0
    """Host clock in Unix milliseconds; the host fills it in when sending."""


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """The host refused a message, or could not understand it."""

    TYPE: ClassVar[str] = "error"
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (
        FieldSpec("code", int, True, 1, 255),
        _text("reason", MAX_TEXT),
        FieldSpec("ref", int, False, 0, MAX_ID),
    )
    code: int
    """An :class:`~rtc_interact.errors.ErrorCode` value."""
    reason: str
    """Human-readable reason."""
    ref: int | None = None
    """The id of the offending message when it could be read, else absent."""


Upstream = Tap | Comment | Ping
Downstream = Welcome | Ack | Pong | CommentPosted | Announcement | ErrorReply
Message = Upstream | Downstream

UPSTREAM_TYPES: dict[str, type[Upstream]] = {c.TYPE: c for c in (Tap, Comment, Ping)}
DOWNSTREAM_TYPES: dict[str, type[Downstream]] = {
    c.TYPE: c for c in (Welcome, Ack, Pong, CommentPosted, Announcement, ErrorReply)
}
