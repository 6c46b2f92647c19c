"""Configuration of hosts and viewers: frozen dataclasses validated on construction."""

from __future__ import annotations

from dataclasses import dataclass, field

from .datachannel.hostcore import Limits
from .datachannel.reliable import RetransmitPolicy
from .errors import ConfigurationError
from .media.ladder import Ladder
from .transport.abr import AbrConfig
from .transport.signaling import SdpHook


@dataclass(frozen=True, slots=True)
class AdvancedSettings:
    """Expert knobs; the defaults suit almost everyone."""

    ice_addresses: tuple[str, ...] | None = None
    """Addresses to offer as ICE host candidates; None: loopback when the peer is on loopback,
    otherwise every interface address aioice finds."""
    retransmit: RetransmitPolicy = field(default_factory=RetransmitPolicy)
    """Redundancy and retransmission of taps, acks and pings on the fast channel."""
    clock_interval_s: float = 2.0
    """Viewer only: seconds between clock-sync pings (0 turns them off)."""
    sdp_hook: SdpHook | None = None
    """Host only: rewrites offers and answers in signaling (the link emulator's hook)."""


@dataclass(frozen=True, slots=True)
class VideoConfig:
    """The test-pattern source the host creates when the app gives none."""

    width: int = 640
    """Frame width in pixels."""
    height: int = 360
    """Frame height in pixels."""
    fps: float = 30.0
    """Frames per second."""
    encode_once: bool = True
    """Encode each frame once per ladder rung and send the same packets to every viewer
    (False: aiortc's stock path, one encoder per viewer, kept for comparison)."""
    ladder: Ladder | None = None
    """Rungs to encode when ``encode_once``; None: ``media.ladder.default_ladder`` of the
    source's frame size (this size for the test pattern) at ``fps``."""
    abr: AbrConfig | None = field(default_factory=AbrConfig)
    """Per-viewer adaptive bitrate on the ladder path (each viewer starts on the middle rung and
    moves with its estimate); None: every viewer stays on the rung it is given."""


@dataclass(frozen=True, slots=True)
class HostConfig:
    """How a :class:`~rtc_interact.Host` listens and what it allows."""

    secret: str
    """Shared secret that signs viewer tokens (at least 32 bytes; see ``tokens.new_secret``)."""
    bind: str = "127.0.0.1"
    """Address the HTTP signaling server listens on."""
    port: int = 8080
    """TCP port of the signaling server; 0 picks a free one."""
    path: str = "/whep"
    """URL path of the WHEP endpoint."""
    limits: Limits = field(default_factory=Limits)
    """Per-viewer rate limits."""
    video: VideoConfig = field(default_factory=VideoConfig)
    """Test pattern used when no source track is given."""
    max_viewers: int = 256
    """Offers beyond this many open sessions get 503."""
    events_buffer: int = 10_000
    """Events kept for ``Host.events()``; older ones are dropped (and counted) when full."""
    giveaway_store: str | None = None
    """SQLite file that keeps giveaways and their entries (created if missing; a restarted host
    carries on from it). None: no giveaways."""
    advanced: AdvancedSettings = field(default_factory=AdvancedSettings)
    """Expert settings."""

    def __post_init__(self) -> None:
        if len(self.secret.encode()) < 32:
            raise ConfigurationError("HostConfig.secret must be at least 32 bytes")
        if not 0 <= self.port <= 65535:
            raise ConfigurationError(f"port {self.port} outside 0..65535")
        if not self.path.startswith("/"):
            raise ConfigurationError(f"path must start with '/', got {self.path!r}")
        if self.max_viewers < 1 or self.events_buffer < 1:
            raise ConfigurationError("max_viewers and events_buffer must be at least 1")


@dataclass(frozen=True, slots=True)
class ViewerConfig:
    """How a :class:`~rtc_interact.Viewer` connects."""

    connect_timeout_s: float = 15.0
    """Time allowed from ``connect()`` until the event channel is open."""
    request_timeout_s: float = 10.0
    """Time allowed for a tap or comment to be acknowledged."""
    receive_video: bool = True
    """Ask for the video track (False: events only)."""
    frame_buffer: int = 4
    """Decoded frames kept for ``frames()``; the oldest is dropped when full."""
    events_buffer: int = 1000
    """Host messages kept for ``events()``; the oldest is dropped when full."""
    advanced: AdvancedSettings = field(default_factory=AdvancedSettings)
    """Expert settings."""

    def __post_init__(self) -> None:
        if self.connect_timeout_s <= 0 or self.request_timeout_s <= 0:
            raise ConfigurationError("timeouts must be positive")
        if self.frame_buffer < 1 or self.events_buffer < 1:
            raise ConfigurationError("buffers must hold at least 1 item")
