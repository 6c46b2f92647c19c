"""rtc-interact: low-latency interaction (taps, comments, giveaways) beside live WebRTC video."""

from __future__ import annotations

import logging

from .config import AdvancedSettings, HostConfig, VideoConfig, ViewerConfig
from .datachannel.clock import ClockEstimate
from .datachannel.hostcore import Limits
from .datachannel.messages import Announcement, CommentPosted, ErrorReply, Welcome
from .datachannel.ratelimit import RateLimit
from .datachannel.reliable import RetransmitPolicy
from .errors import (
    AuthenticationError,
    ClosedError,
    ConfigurationError,
    ConnectTimeout,
    ErrorCode,
    ProtocolError,
    RateLimited,
    RequestRejected,
    RequestTimeout,
    RtcInteractError,
    SignalingError,
    TokenError,
    TransportError,
)
from .events import CommentReceived, MessageRejected, TapReceived, ViewerJoined, ViewerLeft
from .host import Host, HostStats
from .media.sources import NumpyTrack, TestPatternTrack, file_track
from .media.stamp import FrameStamp
from .tokens import Role, mint, new_secret
from .viewer import ConnectTimings, Receipt, ReceivedFrame, Viewer, ViewerStats

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "AdvancedSettings", "Announcement", "AuthenticationError", "ClockEstimate", "ClosedError",
    "CommentPosted",
    "CommentReceived", "ConfigurationError", "ConnectTimeout", "ConnectTimings", "ErrorCode",
    "ErrorReply", "FrameStamp", "Host", "HostConfig", "HostStats", "Limits", "MessageRejected",
    "NumpyTrack", "ProtocolError", "RateLimit", "RateLimited", "Receipt", "ReceivedFrame",
    "RequestRejected", "RequestTimeout", "RetransmitPolicy", "Role", "RtcInteractError",
    "SignalingError",
    "TapReceived", "TestPatternTrack", "TokenError", "TransportError", "VideoConfig", "Viewer",
    "ViewerConfig", "ViewerJoined", "ViewerLeft", "ViewerStats", "Welcome", "__version__",
    "file_track", "mint", "new_secret",
]
