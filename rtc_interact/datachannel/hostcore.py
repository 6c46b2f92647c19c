"""Host side of one viewer's event channel, sans-IO.

``HostSessionCore.receive`` takes the raw bytes of one data-channel message and the current time and
returns what to reply, what to broadcast and which events the application should see. It never
raises for bad input: a bad message becomes an ``error`` reply, a counter and an event.
"""

from __future__ import annotations

import itertools
from collections import Counter, OrderedDict
from collections.abc import Container
from dataclasses import dataclass, field

from ..errors import ErrorCode, RemoteProtocolError
from ..events import CommentReceived, HostEvent, MessageRejected, TapReceived
from .codec import decode_upstream
from .messages import (
    Ack,
    Acks,
    Claim,
    Comment,
    CommentPosted,
    Downstream,
    ErrorReply,
    Ping,
    Pong,
    Tap,
    Taps,
)
from .ratelimit import RateLimit, TokenBucket


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-viewer rate limits."""

    taps: RateLimit = RateLimit(30.0, 60)
    """Taps per second and burst."""
    comments: RateLimit = RateLimit(2.0, 5)
    """Comments per second and burst."""
    pings: RateLimit = RateLimit(20.0, 40)
    """Pings per second and burst."""


REMEMBERED_TAPS = 65536
"""Acknowledged tap ids kept per viewer to answer duplicates (at 30 taps/s: 36 minutes)."""
DUPLICATE_QUIET_S = 0.1
"""A duplicate arriving this soon after the last answer to its id is a redundant copy (the
viewer spreads its copies over ``RetransmitPolicy.copy_span_s``, 77 ms by default), already
covered by that answer and its own copies: it gets no reply (a retransmission comes later)."""


class Sequencer:
    """Host-wide numbering of accepted taps and comments."""

    def __init__(self) -> None:
        self._taps = itertools.count(1)
        self._comments = itertools.count(1)

    def next_tap(self) -> int:
        """Number for the next accepted tap."""
        return next(self._taps)

    def next_comment(self) -> int:
        """Number for the next accepted comment."""
        return next(self._comments)


@dataclass(slots=True)
class Outcome:
    """What the adapter must do after one received message."""

    replies: list[Downstream] = field(default_factory=list)
    """Messages for this viewer."""
    broadcasts: list[Downstream] = field(default_factory=list)
    """Messages for every viewer."""
    events: list[HostEvent] = field(default_factory=list)
    """Events for the host application."""
    deferred: list[Tap | Claim] = field(default_factory=list)
    """Accepted requests whose answer needs I/O first (giveaway entries, claims): the adapter
    answers them later (a tap through :meth:`HostSessionCore.record`)."""


class HostSessionCore:
    """Protocol state of one viewer, as the host sees it."""

    def __init__(
        self, viewer_id: str, identity: str, limits: Limits, sequencer: Sequencer, now: float,
        deferred_targets: Container[str] = (),
    ) -> None:
        self.viewer_id = viewer_id
        self.identity = identity
        self._seq = sequencer
        self._deferred_targets = deferred_targets
        self._buckets = {
            Tap: TokenBucket(limits.taps, now),
            Comment: TokenBucket(limits.comments, now),
            Ping: TokenBucket(limits.pings, now),
            Claim: TokenBucket(limits.comments, now),
        }
        self.received: Counter[str] = Counter()
        """Accepted messages by type."""
        self.errors: Counter[ErrorCode] = Counter()
        """Refused messages by error code."""
        self.duplicates = 0
        """Taps received again (redundant copies, retransmissions) and answered from memory."""
        self._answered: OrderedDict[int, tuple[Ack, float]] = OrderedDict()

    def receive(self, data: bytes | str, now: float, wall_ms: int) -> Outcome:
        """Handle one message; ``now`` is monotonic seconds, ``wall_ms`` Unix milliseconds."""
        out = Outcome()
        try:
            message = decode_upstream(data)
        except RemoteProtocolError as exc:
            return self._refuse(out, exc.code, exc.reason, exc.ref_id)
        if isinstance(message, Tap):
            answer = self._tap(out, message, now, wall_ms)
            if answer is not None:
                out.replies.append(answer)
            return out
        if isinstance(message, Taps):
            return self._taps(out, message, now, wall_ms)
        if not self._buckets[type(message)].allow(now):
            reason = f"too many {message.TYPE} messages; slow down"
            return self._refuse(out, ErrorCode.RATE_LIMITED, reason, message.id)
        if isinstance(message, Claim):
            out.deferred.append(message)
            return out
        self.received[message.TYPE] += 1
        if isinstance(message, Comment):
            n = self._seq.next_comment()
            out.replies.append(Ack(id=message.id, n=n, hts=wall_ms))
            out.broadcasts.append(CommentPosted(n=n, author=self.identity, text=message.text,
                                                hts=wall_ms))
            out.events.append(CommentReceived(self.viewer_id, self.identity, message.text, n,
                                              wall_ms))
        else:
            out.replies.append(Pong(id=message.id, ts=message.ts, hts=wall_ms))
        return out

    def _tap(self, out: Outcome, tap: Tap, now: float, wall_ms: int) -> Ack | ErrorReply | None:
        """One tap, alone or from a ``taps`` message: its answer, or None to stay quiet (or to
        answer later, for a deferred target)."""
        tap_id = tap.id
        if tap_id in self._answered:
            self.duplicates += 1
            ack, answered_at = self._answered[tap_id]
            if now - answered_at < DUPLICATE_QUIET_S:
                return None
            self._answered[tap_id] = (ack, now)
            return ack
        if not self._buckets[Tap].allow(now):
            return self._reject(out, ErrorCode.RATE_LIMITED, "too many taps; slow down", tap_id)
        if tap.target and tap.target in self._deferred_targets:
            out.deferred.append(tap)
            return None
        ack, event = self.record(tap, now, wall_ms)
        out.events.append(event)
        return ack

    def record(self, tap: Tap, now: float, wall_ms: int, receipt: tuple[str, int, str] | None = None
               ) -> tuple[Ack, TapReceived]:
        """Number and remember an accepted tap; ``receipt`` (giveaway id, entry number, entry
        hash) goes into the ack of a giveaway entry."""
        self.received[Tap.TYPE] += 1
        n = self._seq.next_tap()
        g, e, eh = receipt or (None, None, None)
        ack = Ack(id=tap.id, n=n, hts=wall_ms, g=g, e=e, eh=eh)
        self._remember(ack, now)
        return ack, TapReceived(self.viewer_id, self.identity, tap.id, tap.target, n, wall_ms)

    def _taps(self, out: Outcome, message: Taps, now: float, wall_ms: int) -> Outcome:
        """A bundle: one ``acks`` for the accepted and repeated ids, one error per reason."""
        acks: list[Ack] = []
        refused: dict[tuple[int, str], list[int]] = {}
        for tap_id in dict.fromkeys(message.ids):
            answer = self._tap(out, Tap(tap_id, message.target), now, wall_ms)
            if isinstance(answer, Ack):
                acks.append(answer)
            elif answer is not None:
                refused.setdefault((answer.code, answer.reason), []).append(tap_id)
        if acks:
            out.replies.append(Acks(ids=tuple(a.id for a in acks), ns=tuple(a.n for a in acks),
                                    hts=wall_ms))
        for (code, reason), ids in refused.items():
            out.replies.append(ErrorReply(code=code, reason=reason, ref=ids[0], refs=tuple(ids)))
        return out

    def _remember(self, ack: Ack, now: float) -> None:
        self._answered[ack.id] = (ack, now)
        if len(self._answered) > REMEMBERED_TAPS:
            self._answered.popitem(last=False)

    def _refuse(self, out: Outcome, code: ErrorCode, reason: str, ref: int | None) -> Outcome:
        out.replies.append(self._reject(out, code, reason, ref))
        return out

    def _reject(self, out: Outcome, code: ErrorCode, reason: str, ref: int | None) -> ErrorReply:
        """Count a refusal and tell the application; returns the reply to send."""
        reply, event = self.refuse(code, reason, ref)
        out.events.append(event)
        return reply

    def refuse(self, code: ErrorCode, reason: str, ref: int | None
               ) -> tuple[ErrorReply, MessageRejected]:
        """Count a refusal (also one decided later, e.g. a giveaway entry); returns the reply and
        the event for the application."""
        self.errors[code] += 1
        return (ErrorReply(code=int(code), reason=reason, ref=ref),
                MessageRejected(self.viewer_id, int(code), reason))
