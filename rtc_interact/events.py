"""Typed events the host application receives from ``Host.events()``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ViewerJoined:
    """A viewer's event channel opened."""

    viewer_id: str
    """Session id the host gave this viewer."""
    identity: str
    """Identity from the viewer's token."""


@dataclass(frozen=True, slots=True)
class ViewerLeft:
    """A viewer left (DELETE, closed channel or failed connection)."""

    viewer_id: str
    """Session id of the viewer."""
    identity: str
    """Identity from the viewer's token."""
    reason: str
    """Why the session ended: 'deleted', 'closed', 'failed' or 'host-closed'."""


@dataclass(frozen=True, slots=True)
class TapReceived:
    """A viewer tapped; the host has already acknowledged it."""

    viewer_id: str
    """Session id of the viewer."""
    identity: str
    """Identity from the viewer's token."""
    tap_id: int
    """The viewer's message id for this tap."""
    target: str
    """What was tapped; empty for a plain tap."""
    n: int
    """Host-wide tap number, from 1."""
    host_ms: int
    """Host clock (Unix ms) when the tap was accepted."""


@dataclass(frozen=True, slots=True)
class CommentReceived:
    """A viewer commented; the comment was relayed to every viewer."""

    viewer_id: str
    """Session id of the viewer."""
    identity: str
    """Identity from the viewer's token."""
    text: str
    """The comment."""
    n: int
    """Host-wide comment number, from 1."""
    host_ms: int
    """Host clock (Unix ms) when the comment was accepted."""


@dataclass(frozen=True, slots=True)
class MessageRejected:
    """A viewer sent a message the host refused (malformed, too fast, ...)."""

    viewer_id: str
    """Session id of the viewer."""
    code: int
    """An :class:`~rtc_interact.errors.ErrorCode` value."""
    reason: str
    """What was wrong."""


HostEvent = ViewerJoined | ViewerLeft | TapReceived | CommentReceived | MessageRejected
