"""WHEP-style HTTP signaling (RFC 9725 semantics, for playback): server routes and a client.

* ``POST {path}`` with ``Content-Type: application/sdp`` and ``Authorization: Bearer <token>``:
  the body is the viewer's SDP offer; the answer is ``201 Created`` with the SDP answer and a
  ``Location`` header naming the session resource.
* ``PATCH {location}`` with ``application/trickle-ice-sdpfrag``: trickled candidates, ``204``.
* ``DELETE {location}``: leave, ``200``.

The other way round, for the browser page (``offer_for``): the host makes the offer and the
session while serving the page, and the viewer sends its answer with ``PATCH {location}`` and
``Content-Type: application/sdp`` (``204``; ``409`` for a second answer). The page's ICE checks
then leave beside that PATCH instead of a round trip after a POST (docs/PROTOCOL.md).

Errors are plain text with the right status: 400 bad SDP, 401 bad token (with
``WWW-Authenticate: Bearer``), 404 unknown session, 415 wrong content type, 503 host full.

Events may ride on the offer: header ``Rtc-Interact-Events`` holds base64url (no padding) of a
msgpack array of ``bin`` items, each one event-channel message. The host handles them as if
they had arrived on the channel and returns the replies the same way in ``Rtc-Interact-Replies``
on the 201. So a tap made while connecting is answered after one HTTP round trip.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urljoin

import aiohttp
import msgpack
from aiohttp import web

from ..errors import AuthenticationError, SignalingError, TokenError
from ..tokens import Claims, Role, verify

EVENTS_HEADER = "Rtc-Interact-Events"
REPLIES_HEADER = "Rtc-Interact-Replies"
MAX_EARLY_EVENTS = 16
SDP = "application/sdp"
SDPFRAG = "application/trickle-ice-sdpfrag"
MAX_SDP_BYTES = 64 * 1024


class SessionRefused(Exception):
    """Raised by a session handler to refuse an offer with an HTTP status and a message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class TrickleCandidate:
    """One line of a trickle-ice-sdpfrag body."""

    mid: str | None
    """The ``a=mid`` in force for this line, if any."""
    candidate: str | None
    """The candidate attribute value (after ``a=candidate:``); None for end-of-candidates."""


class SdpHook(Protocol):
    """Rewrites SDP on its way through the signaling server (tests and benchmarks only).

    The link emulator uses it to put itself between the peers by rewriting their candidates.
    """

    async def on_offer(self, sdp: str) -> str:
        """The viewer's SDP (its offer, or its answer to the host's offer) as the host should
        see it."""

    async def on_answer(self, sdp: str) -> str:
        """The host's SDP (its answer, or its offer in the page) as the viewer should see it."""

    async def on_trickle(self, fragment: str) -> str:
        """A trickled candidate fragment (PATCH body) as the host should see it."""


class SessionHandler(Protocol):
    """What the signaling routes need from the host."""

    async def open_session(self, offer_sdp: str, claims: Claims,
                           early: tuple[bytes, ...]) -> tuple[str, str, tuple[bytes, ...]]:
        """Accept an offer and handle ``early`` messages; (session id, answer, replies)."""

    async def offer_session(self, claims: Claims) -> tuple[str, str]:
        """Make a session from the host's side; (session id, the host's offer)."""

    async def accept_answer(self, session_id: str, answer_sdp: str) -> bool:
        """Apply the viewer's answer to ``offer_session``; False if the session is unknown."""

    async def add_candidates(self, session_id: str, candidates: list[TrickleCandidate]) -> bool:
        """Apply trickled candidates; False if the session is unknown."""

    async def close_session(self, session_id: str) -> bool:
        """End a session; False if it is unknown."""


@dataclass(frozen=True, slots=True)
class HostOffer:
    """The host's offer for a viewer that answers it (the page)."""

    sdp: str
    """The SDP offer."""
    location: str
    """Path of the session resource: the answer, candidates and DELETE go there."""


OfferMaker = Callable[[str], Awaitable[HostOffer]]
"""Makes the host's offer and session for a viewer token (``add_whep_routes`` returns one)."""


def parse_sdpfrag(body: str) -> list[TrickleCandidate]:
    """Candidates and end-of-candidates markers of an SDP fragment, in order."""
    found: list[TrickleCandidate] = []
    mid: str | None = None
    for raw in body.splitlines():
        line = raw.strip()
        if line.startswith("a=mid:"):
            mid = line[6:]
        elif line.startswith("a=candidate:"):
            found.append(TrickleCandidate(mid, line[12:]))
        elif line == "a=end-of-candidates":
            found.append(TrickleCandidate(mid, None))
    return found


def pack_messages(messages: Sequence[bytes]) -> str:
    """Messages as a header value: base64url, no padding, of a msgpack array of bin."""
    packed: bytes = msgpack.packb(list(messages), use_bin_type=True)
    return base64.urlsafe_b64encode(packed).rstrip(b"=").decode()


def unpack_messages(value: str) -> tuple[bytes, ...]:
    """The inverse of pack_messages; ValueError on anything malformed or too long."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        items = msgpack.unpackb(raw, raw=True, max_array_len=MAX_EARLY_EVENTS,
                                max_bin_len=8192, max_str_len=0, max_map_len=0)
    except (binascii.Error, ValueError, msgpack.UnpackException) as exc:
        raise ValueError(f"bad {EVENTS_HEADER} header: {exc}") from None
    if not isinstance(items, list) or not all(isinstance(i, bytes) for i in items):
        raise ValueError(f"{EVENTS_HEADER} must be a msgpack array of bin")
    return tuple(items)


def _text(status: int, message: str, **headers: str) -> web.Response:
    return web.Response(status=status, text=message + "\n", headers=headers)


def _claims(request: web.Request, secret: str) -> Claims:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise TokenError("missing 'Authorization: Bearer <token>' header")
    return verify(secret, header[7:].strip(), require=Role.VIEWER)


class _WhepRoutes:
    """The request handlers, bound to one host's session handler, secret and hook."""

    def __init__(self, handler: SessionHandler, secret: str, path: str,
                 sdp_hook: SdpHook | None) -> None:
        self.handler, self.secret, self.path, self.hook = handler, secret, path, sdp_hook

    async def authed(self, request: web.Request) -> web.StreamResponse:
        """Check the bearer token, then dispatch on the method."""
        try:
            claims = _claims(request, self.secret)
        except TokenError as exc:
            return _text(401, f"unauthorized: {exc}", **{"WWW-Authenticate": "Bearer"})
        if request.method == "POST":
            return await self.post(request, claims)
        if request.method == "PATCH":
            return await self.patch(request)
        return await self.delete(request)

    async def post(self, request: web.Request, claims: Claims) -> web.StreamResponse:
        """An offer (with optional early events) becomes a session and an answer."""
        if request.content_type != SDP:
            return _text(415, f"expected Content-Type {SDP}, got {request.content_type!r}")
        if (request.content_length or 0) > MAX_SDP_BYTES:
            return _text(413, f"offer larger than {MAX_SDP_BYTES} bytes")
        offer = await request.text()
        if not offer.startswith("v=0"):
            return _text(400, "body is not an SDP offer (must start with 'v=0')")
        try:
            early = unpack_messages(request.headers.get(EVENTS_HEADER, "kA"))
        except ValueError as exc:
            return _text(400, str(exc))
        if self.hook is not None:
            offer = await self.hook.on_offer(offer)
        try:
            session_id, answer, replies = await self.handler.open_session(offer, claims, early)
        except SessionRefused as exc:
            return _text(exc.status, exc.message)
        if self.hook is not None:
            answer = await self.hook.on_answer(answer)
        headers = {"Location": f"{self.path}/sessions/{session_id}", "ETag": f'"{session_id}"'}
        if replies:
            headers[REPLIES_HEADER] = pack_messages(replies)
        return web.Response(status=201, text=answer, content_type=SDP, headers=headers)

    async def offer_for(self, token: str) -> HostOffer:
        """The host's offer and session for the viewer holding ``token`` (the page load);
        TokenError for a bad token, SessionRefused when the host cannot take a viewer."""
        claims = verify(self.secret, token, require=Role.VIEWER)
        session_id, sdp = await self.handler.offer_session(claims)
        if self.hook is not None:
            sdp = await self.hook.on_answer(sdp)
        return HostOffer(sdp, f"{self.path}/sessions/{session_id}")

    async def patch(self, request: web.Request) -> web.StreamResponse:
        """Trickled candidates, or the answer to the host's offer."""
        if request.content_type == SDP:
            return await self.answer(request)
        if request.content_type != SDPFRAG:
            return _text(415, f"expected Content-Type {SDPFRAG} or {SDP}, "
                              f"got {request.content_type!r}")
        fragment = await request.text()
        if self.hook is not None:
            fragment = await self.hook.on_trickle(fragment)
        candidates = parse_sdpfrag(fragment)
        if not await self.handler.add_candidates(request.match_info["sid"], candidates):
            return _text(404, "no such session")
        return web.Response(status=204)

    async def answer(self, request: web.Request) -> web.StreamResponse:
        """The viewer's answer to the offer it got with the page."""
        if (request.content_length or 0) > MAX_SDP_BYTES:
            return _text(413, f"answer larger than {MAX_SDP_BYTES} bytes")
        sdp = await request.text()
        if not sdp.startswith("v=0"):
            return _text(400, "body is not an SDP answer (must start with 'v=0')")
        if self.hook is not None:
            sdp = await self.hook.on_offer(sdp)
        try:
            known = await self.handler.accept_answer(request.match_info["sid"], sdp)
        except SessionRefused as exc:
            return _text(exc.status, exc.message)
        return web.Response(status=204) if known else _text(404, "no such session")

    async def delete(self, request: web.Request) -> web.StreamResponse:
        """Leave."""
        if not await self.handler.close_session(request.match_info["sid"]):
            return _text(404, "no such session")
        return _text(200, "session closed")


def add_whep_routes(app: web.Application, handler: SessionHandler, secret: str,
                    path: str = "/whep", sdp_hook: SdpHook | None = None) -> OfferMaker:
    """Register POST {path}, PATCH and DELETE {path}/sessions/{id} on ``app``; returns what
    makes a host offer for a token (for the page, ``web.routes``)."""
    routes = _WhepRoutes(handler, secret, path, sdp_hook)
    app.router.add_post(path, routes.authed)
    app.router.add_patch(path + "/sessions/{sid}", routes.authed)
    app.router.add_delete(path + "/sessions/{sid}", routes.authed)
    return routes.offer_for


@dataclass(frozen=True, slots=True)
class WhepAnswer:
    """The host's reply to an offer."""

    sdp: str
    """The SDP answer."""
    location: str
    """Absolute URL of the session resource (for PATCH and DELETE)."""
    replies: tuple[bytes, ...] = ()
    """The host's replies to events sent with the offer."""


class WhepClient:
    """Client side of the signaling, over one aiohttp session (kept alive between requests)."""

    def __init__(self, url: str, token: str, timeout_s: float = 10.0) -> None:
        self.url = url
        self._auth = {"Authorization": f"Bearer {token}"}
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s))

    async def offer(self, sdp: str, early: Sequence[bytes] = ()) -> WhepAnswer:
        """POST the offer (with ``early`` event messages); AuthenticationError on 401."""
        headers = {**self._auth, "Content-Type": SDP}
        if early:
            headers[EVENTS_HEADER] = pack_messages(early)
        async with self._request("POST", self.url, sdp, headers) as response:
            body = await response.text()
            if response.status != 201:
                raise _http_error(response.status, body, self.url)
            location = response.headers.get("Location")
            if not location:
                raise SignalingError("201 answer without a Location header", 201)
            try:
                replies = unpack_messages(response.headers.get(REPLIES_HEADER, "kA"))
            except ValueError as exc:
                raise SignalingError(f"bad replies from the host: {exc}", 201) from None
            return WhepAnswer(body, urljoin(self.url, location), replies)

    async def warm(self) -> None:
        """Open the HTTP connection ahead of time (GET /health) so the offer skips the handshake."""
        async with self._request("GET", urljoin(self.url, "/health"), None, {}) as response:
            body = await response.text()  # read it all, or the connection is not kept alive
            if response.status != 200:
                raise _http_error(response.status, body, self.url)

    async def trickle(self, location: str, fragment: str) -> None:
        """PATCH trickled candidates to the session."""
        headers = {**self._auth, "Content-Type": SDPFRAG}
        async with self._request("PATCH", location, fragment, headers) as response:
            if response.status != 204:
                raise _http_error(response.status, await response.text(), location)

    async def leave(self, location: str) -> None:
        """DELETE the session (a 404 is fine: it is gone already)."""
        async with self._request("DELETE", location, None, self._auth) as response:
            if response.status not in (200, 204, 404):
                raise _http_error(response.status, await response.text(), location)

    def _request(self, method: str, url: str, body: str | None,
                 headers: dict[str, str]) -> _Request:
        return _Request(self._http, method, url, body, headers)

    async def aclose(self) -> None:
        """Close the HTTP connection pool (idempotent)."""
        await self._http.close()


class _Request:
    """``async with`` around one request that turns connection failures into SignalingError."""

    def __init__(self, http: aiohttp.ClientSession, method: str, url: str, body: str | None,
                 headers: dict[str, str]) -> None:
        self._args = (http, method, url, body, headers)
        self._response: aiohttp.ClientResponse | None = None

    async def __aenter__(self) -> aiohttp.ClientResponse:
        http, method, url, body, headers = self._args
        try:
            self._response = await http.request(method, url, data=body, headers=headers)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SignalingError(f"cannot reach {url}: {exc or type(exc).__name__}") from None
        return self._response

    async def __aexit__(self, *exc_info: object) -> None:
        if self._response is not None:
            self._response.release()


def _http_error(status: int, body: str, url: str) -> SignalingError:
    message = f"{url} answered {status}: {body.strip() or 'no reason given'}"
    if status == 401:
        return AuthenticationError(message, status)
    return SignalingError(message, status)
