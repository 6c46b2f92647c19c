"""Wire messages of the event channel, one frozen dataclass per message type.

``Upstream`` messages go from a viewer to the host, ``Downstream`` messages from the host to a
viewer. Each class names its wire ``TYPE`` and its fields in ``FIELDS``; the codec validates against
that table, so the table here *is* the schema that docs/PROTOCOL.md describes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..errors import ErrorCode, LocalProtocolError

PROTOCOL_VERSION = 1
MAX_MESSAGE_BYTES = 8192
MAX_ID = 2**32 - 1
MAX_TEXT = 500
MAX_TOKEN = 64
MAX_RULES_TEXT = 2600
"""Longest rules or winners text, in characters (a message stays under 8192 bytes)."""
MAX_BUNDLE = 128
"""Most ids one ``taps`` or ``acks`` message may carry (about 400 bytes: one SCTP chunk)."""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """How one dataclass field travels on the wire."""

    key: str
    """The msgpack map key."""
    kind: type
    """``int`` (never bool), ``str``, or ``tuple`` (a msgpack array of ints, 1 to ``items``)."""
    required: bool = True
    """Whether the key must be present; absent optional keys take the dataclass default."""
    low: int = 0
    """Smallest int value, or shortest string length."""
    high: int = MAX_ID
    """Largest int value (of each element, for arrays), or longest string length."""
    items: int = 0
    """Longest array, for ``tuple`` fields."""


def _id(key: str = "id") -> FieldSpec:
    return FieldSpec(key, int, True, 0, MAX_ID)


def _text(key: str, high: int, low: int = 0, required: bool = True) -> FieldSpec:
    return FieldSpec(key, str, required, low, high)


def _millis(key: str, required: bool = True) -> FieldSpec:
    return FieldSpec(key, int, required, 0, 2**63 - 1)


def _ints(key: str, high: int, required: bool = True) -> FieldSpec:
    return FieldSpec(key, tuple, required, 0, high, MAX_BUNDLE)


SEQ_MAX = 2**63 - 1


# ---------------------------------------------------------------- viewer -> host


@dataclass(frozen=True, slots=True)
class Tap:
    """A viewer taps (enters a giveaway, votes, likes)."""

    TYPE: ClassVar[str] = "tap"
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (_id(), _text("target", MAX_TOKEN, required=False),
                                               _millis("mts", required=False))
    id: int
    """Viewer-chosen message id, unique within the session; the ack echoes it."""
    target: str = ""
    """What was tapped (a giveaway id, a poll option); empty for a plain tap."""
    mts: int | None = None
    """Media time of the frame on the viewer's screen at the tap: the capture time (host Unix
    ms) read from its stamp. A giveaway judges its entry window by it (docs/GIVEAWAY.md)."""


@dataclass(frozen=True, slots=True)
class Taps:
    """Several taps with the same target in one message: what a viewer sends for a burst.

    The host treats it exactly as that many ``tap`` messages and answers with one ``acks``."""

    TYPE: ClassVar[str] = "taps"
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (_ints("ids", MAX_ID),
                                               _text("target", MAX_TOKEN, required=False))
    ids: tuple[int, ...]
    """Message ids, as in ``tap.id``; 1 to 128 of them."""
    target: str = ""
    """What was tapped, as in ``tap.target``."""


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
class Claim:
    """A giveaway winner claims the prize, with where and how to deliver it."""

    TYPE: ClassVar[str] = "claim"
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (
        _id(), _text("g", MAX_TOKEN, low=1), _text("name", MAX_TEXT, low=1),
        _text("address", MAX_TEXT, low=1), _text("contact", MAX_TEXT, low=1),
    )
    id: int
    """Viewer-chosen message id; the ack (or error) echoes it."""
    g: str
    """The giveaway id."""
    name: str
    """Recipient name."""
    address: str
    """Delivery address."""
    contact: str
    """E-mail or phone for the courier."""


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
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (
        _id(), FieldSpec("n", int, True, 1, SEQ_MAX), _millis("hts"),
        _text("g", MAX_TOKEN, required=False), FieldSpec("e", int, False, 1, SEQ_MAX),
        _text("eh", MAX_TOKEN, required=False),
    )
    id: int
    """The id of the acknowledged message."""
    n: int
    """Host-wide sequence number of this tap (or comment), starting at 1."""
    hts: int
    """Host clock in Unix milliseconds when it was accepted."""
    g: str | None = None
    """For a giveaway entry: the giveaway id (the entry is durable when this ack is sent)."""
    e: int | None = None
    """For a giveaway entry: the entry number."""
    eh: str | None = None
    """For a giveaway entry: hex sha256 of the entry, to check against the published list."""


@dataclass(frozen=True, slots=True)
class Acks:
    """The host accepted several taps of one ``taps`` message (``ids[i]`` got number ``ns[i]``)."""

    TYPE: ClassVar[str] = "acks"
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (_ints("ids", MAX_ID), _ints("ns", SEQ_MAX),
                                               _millis("hts"))
    ids: tuple[int, ...]
    """The acknowledged message ids."""
    ns: tuple[int, ...]
    """Their host-wide sequence numbers, in the same order (same length as ``ids``)."""
    hts: int
    """Host clock in Unix milliseconds when this answer was made."""

    def __post_init__(self) -> None:
        if len(self.ids) != len(self.ns):
            reason = "acks.ids and acks.ns differ in length"
            raise LocalProtocolError(ErrorCode.INVALID_FIELD, reason)

    def split(self) -> tuple[Ack, ...]:
        """The same answer as one ``Ack`` per id."""
        return tuple(Ack(i, n, self.hts) for i, n in zip(self.ids, self.ns, strict=True))


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
        FieldSpec("n", int, True, 1, SEQ_MAX),
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
class GiveawayRules:
    """A giveaway's rules and state: sent on join and whenever the giveaway changes state."""

    TYPE: ClassVar[str] = "rules"
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (
        _text("g", MAX_TOKEN, low=1), _text("state", 16, low=1), _text("text", MAX_RULES_TEXT),
        _millis("open_ms", required=False), _millis("close_ms", required=False),
        _text("commit", MAX_TOKEN, required=False),
    )
    g: str
    """The giveaway id: tap with this target to enter."""
    state: str
    """``draft``, ``open``, ``closed``, ``drawn`` or ``announced``."""
    text: str
    """The rules as plain text, to show as they are."""
    open_ms: int | None = None
    """Start of the entry window (host Unix ms), once open."""
    close_ms: int | None = None
    """End of the entry window (host Unix ms), once open: show a countdown to it."""
    commit: str | None = None
    """Hex sha256 of the secret draw seed, published when the giveaway opens."""


@dataclass(frozen=True, slots=True)
class Winners:
    """The draw's result, sent to every viewer when the winners are announced."""

    TYPE: ClassVar[str] = "winners"
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (
        _text("g", MAX_TOKEN, low=1), _text("text", MAX_RULES_TEXT),
        _text("seed", MAX_TOKEN * 2), _text("entries", MAX_TOKEN),
    )
    g: str
    """The giveaway id."""
    text: str
    """The winners, one line per prize (tier, prize, identity), as plain text."""
    seed: str
    """The revealed draw seed (hex); its sha256 is the ``commit`` of the rules message."""
    entries: str
    """Hex hash of the frozen entry list the winners were drawn from."""


@dataclass(frozen=True, slots=True)
class Won:
    """Sent to a winner's viewer: you won; claim the prize (``claim``) before the deadline."""

    TYPE: ClassVar[str] = "won"
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (
        _text("g", MAX_TOKEN, low=1), _text("tier", MAX_TOKEN * 2, low=1),
        _text("prize", MAX_TEXT, low=1), _millis("deadline_ms"),
    )
    g: str
    """The giveaway id."""
    tier: str
    """The prize tier won."""
    prize: str
    """The prize."""
    deadline_ms: int
    """Claim before this host time (Unix ms)."""


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """The host refused a message, or could not understand it."""

    TYPE: ClassVar[str] = "error"
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (
        FieldSpec("code", int, True, 1, 255),
        _text("reason", MAX_TEXT),
        FieldSpec("ref", int, False, 0, MAX_ID),
        _ints("refs", MAX_ID, required=False),
    )
    code: int
    """An :class:`~rtc_interact.errors.ErrorCode` value."""
    reason: str
    """Human-readable reason."""
    ref: int | None = None
    """The id of the offending message when it could be read, else absent."""
    refs: tuple[int, ...] | None = None
    """For a refused ``taps`` message: the ids refused for this reason (``ref`` is the first)."""


Upstream = Tap | Taps | Comment | Ping | Claim
Request = Tap | Comment | Ping | Claim
"""Upstream messages that expect one answer each (a ``taps`` bundle is how several travel)."""
Downstream = (Welcome | Ack | Acks | Pong | CommentPosted | Announcement | GiveawayRules | Winners
              | Won | ErrorReply)
Message = Upstream | Downstream

UPSTREAM_TYPES: dict[str, type[Upstream]] = {c.TYPE: c for c in (Tap, Taps, Comment, Ping, Claim)}
DOWNSTREAM_TYPES: dict[str, type[Downstream]] = {
    c.TYPE: c for c in (Welcome, Ack, Acks, Pong, CommentPosted, Announcement, GiveawayRules,
                        Winners, Won, ErrorReply)
}
