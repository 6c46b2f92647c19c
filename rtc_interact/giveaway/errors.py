"""Errors of the giveaway feature, all inside the one hierarchy of :mod:`rtc_interact.errors`.

Refusals of an entry (not eligible, outside the window, ...) are *values*
(:class:`rtc_interact.giveaway.core.Refused`), not exceptions: the host answers them on the wire.
Their wire codes are in :class:`rtc_interact.errors.ErrorCode` (9-13).
The exceptions here are for misuse of the API, blocked compliance findings, claims and stores.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ConfigurationError, RtcInteractError

if TYPE_CHECKING:
    from .compliance import Finding


class GiveawayError(RtcInteractError):
    """Base class of giveaway errors."""


class RulesError(GiveawayError, ConfigurationError):
    """The rules of a giveaway are invalid (a missing title, a tier with no prize, ...)."""


class ComplianceBlocked(GiveawayError):
    """Opening was refused: blocking compliance findings were not acknowledged."""

    def __init__(self, findings: tuple[Finding, ...]) -> None:
        ids = ", ".join(f.rule_id for f in findings)
        super().__init__(f"blocking compliance findings not acknowledged: {ids}")
        self.findings = findings


class InvalidTransition(GiveawayError):
    """The giveaway is not in a state that allows this step (e.g. draw before close)."""


class ClaimRefused(GiveawayError):
    """A prize claim was refused; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ClaimDeadlinePassed(ClaimRefused):
    """The claim came after the claim deadline."""


class NotAWinner(ClaimRefused):
    """The identity that claimed did not win a prize in this giveaway."""


class ResultFormatError(GiveawayError):
    """A published result file cannot be read (bad JSON, missing or mistyped fields)."""


class StoreError(GiveawayError):
    """The durable store failed or is closed."""
