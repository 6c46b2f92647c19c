"""The one error hierarchy of rtc-interact.

Every error the SDK raises derives from :class:`RtcInteractError`. Wire-level problems carry an
:class:`ErrorCode`, the same number that travels in an ``error`` message (see docs/PROTOCOL.md).
"""

from __future__ import annotations

import enum


class ErrorCode(enum.IntEnum):
    """Codes carried by ``error`` messages on the event channel."""

    MALFORMED = 1
    UNSUPPORTED_VERSION = 2
    UNKNOWN_TYPE = 3
    INVALID_FIELD = 4
    TOO_LARGE = 5
    RATE_LIMITED = 6
    NOT_ALLOWED = 7
    INTERNAL = 8
    NOT_ELIGIBLE = 9
    OUTSIDE_WINDOW = 10
    GIVEAWAY_NOT_OPEN = 11
    CONDITION_NOT_MET = 12
    CLAIM_REFUSED = 13


class RtcInteractError(Exception):
    """Base class of every error raised by rtc-interact."""


class ConfigurationError(RtcInteractError, ValueError):
    """A configuration value, argument or profile is invalid."""


class ProtocolError(RtcInteractError):
    """A message on the event channel broke the protocol."""

    def __init__(self, code: ErrorCode, reason: str, ref_id: int | None = None) -> None:
        super().__init__(f"{code.name}: {reason}")
        self.code = code
        self.reason = reason
        self.ref_id = ref_id


class LocalProtocolError(ProtocolError):
    """We were about to send something the protocol forbids."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something the protocol forbids."""


class RequestRejected(RtcInteractError):
    """The host answered a request of ours with an ``error`` message."""

    def __init__(self, code: ErrorCode, reason: str) -> None:
        super().__init__(f"{code.name}: {reason}")
        self.code = code
        self.reason = reason


class RateLimited(RequestRejected):
    """The host refused a request because this viewer sends too fast."""


class TransportError(RtcInteractError):
    """The peer connection, signaling or network failed."""


class SignalingError(TransportError):
    """The signaling server answered with an error or could not be reached."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AuthenticationError(SignalingError):
    """The signaling server refused the token (HTTP 401)."""


class ConnectTimeout(TransportError, TimeoutError):
    """A connection stage did not finish in time."""


class RequestTimeout(RtcInteractError, TimeoutError):
    """A request (a tap, a comment) was not acknowledged in time."""


class TokenError(RtcInteractError):
    """A token is missing, malformed, forged, expired or has the wrong role."""


class ClosedError(RtcInteractError):
    """The host or viewer is closed, or the session ended."""
