"""Static routes of the browser viewer page: ``/`` (the page) and ``/viewer/*`` (its files).

The page needs one third-party file, the msgpack library's browser bundle. ``make setup`` installs
it with npm (``package.json`` at the repository root) and copies it to ``web/vendor/`` so that it
ships in the wheel; the host serves it from there and never from a CDN, so the page works with no
internet access.

``/`` serves ``index.html`` with ``boot.js`` and the stylesheet inlined (``render_page``): what the
page needs before the answer is one response small enough to arrive in TCP's first window
(``FIRST_WINDOW_BYTES``), its first script starts connecting as soon as it is parsed, and the
signaling POST finds the page's HTTP connection idle. The held scripts
(``data-after-signaling``: msgpack and ``viewer.js``, about 38 kB) stay references that boot.js
fetches once the answer is in and runs once the event channel is open. Inlined too, they made
the page ~50 kB, about three windows of TCP slow start on a long path, so the POST could leave
while the page's connection was still busy. (The link emulator's TCP relay has no slow start;
there an A/B of the two pages was within noise, ``benchmarks/RESULTS.md`` §7.3.)
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from pathlib import Path

from aiohttp import web

from ..errors import ConfigurationError, TokenError
from ..transport.signaling import OfferMaker, SessionRefused

log = logging.getLogger(__name__)
WEB_DIR = Path(__file__).resolve().parent
MSGPACK_BUNDLE = WEB_DIR / "vendor" / "msgpack.min.js"
_NODE_BUNDLE = Path("node_modules/@msgpack/msgpack/dist.umd/msgpack.min.js")
_FILES = {
    "boot.js": "text/javascript",
    "viewer.js": "text/javascript",
    "viewer.css": "text/css",
}
_NO_CACHE = {"Cache-Control": "no-cache"}
_BOOT_SCRIPT = re.compile(r"<script[^>]*\bdata-whep=")
"""The page's first script (boot.js): the host's offer goes right before it."""
FIRST_WINDOW_BYTES = 14_000
"""What TCP's initial window (10 segments of ~1448 bytes) carries in one round trip, less room
for the response headers: the page itself must fit."""


def find_msgpack_bundle(web_dir: Path = WEB_DIR) -> Path:
    """The msgpack bundle the page loads; ConfigurationError saying how to install it if absent."""
    candidates = [web_dir / "vendor" / "msgpack.min.js",
                  web_dir.parent.parent / _NODE_BUNDLE]  # a source checkout after `npm ci`
    for path in candidates:
        if path.is_file():
            return path
    raise ConfigurationError(
        "the browser viewer page needs the msgpack bundle, which is not installed "
        f"(looked for {candidates[0]}); run `make setup` in the repository "
        "(it runs `npm ci` and copies @msgpack/msgpack's dist.umd/msgpack.min.js there)"
    )


_REFERENCE = re.compile(r'<script src="/viewer/(?P<script>[\w.]+)"(?P<attrs>[^>]*)></script>'
                        r'|<link rel="stylesheet" href="/viewer/(?P<style>[\w.]+)">')


def compact_js(text: str) -> str:
    """``text`` without its whole-line ``//`` comments and indentation, which are a third of
    boot.js and would push the page past the first window. (Our inlined scripts have no
    template literal or string spanning lines, where this would change the value.)"""
    lines = (line.strip() for line in text.splitlines())
    return "".join(line + "\n" for line in lines if line and not line.startswith("//"))


def render_page(web_dir: Path, whep_path: str, inline: bool = True) -> str:
    """``index.html`` for ``whep_path``; with ``inline``, each ``<script src="/viewer/...">``
    but the held ones (``data-after-signaling``), and each stylesheet ``<link>``, is replaced
    by the file's text (kept as a reference if that text could end the element early)."""

    def file_text(name: str) -> str | None:
        path = web_dir / name
        return path.read_text(encoding="utf-8") if name in _FILES and path.is_file() else None

    def replace(match: re.Match[str]) -> str:
        script = match["script"]
        if script and "data-after-signaling" in match["attrs"]:
            return match[0]
        text = file_text(script or match["style"])
        closing = "</script" if script else "</style"
        if text is None or closing in text.lower():
            return match[0]
        if script:
            return f"<script{match['attrs']}>\n{compact_js(text)}</script>"
        return f"<style>\n{text}</style>"

    html = (web_dir / "index.html").read_text(encoding="utf-8")
    if inline:
        html = _REFERENCE.sub(replace, html)
    return html.replace("{{WHEP_PATH}}", whep_path)


_LONGER_FINGERPRINT = re.compile(r"^a=fingerprint:sha-(?:384|512) [0-9A-F:]+\r?\n", re.M)


def offer_script(offer: dict[str, str]) -> str:
    """``offer`` (the host's SDP and session, or an error) as the page's ``window.rtcOffer``,
    in a script element that nothing in the values can end early. Of the certificate's
    fingerprints the SDP keeps sha-256, which browsers check: aiortc adds sha-384 and sha-512
    to each m-line, ~680 bytes that would push the page past TCP's first window."""
    if "a=fingerprint:sha-256 " in offer.get("sdp", ""):
        offer = {**offer, "sdp": _LONGER_FINGERPRINT.sub("", offer["sdp"])}
    text = json.dumps(offer).replace("<", "\\u003c")
    return f"<script>window.rtcOffer = {text};</script>\n"


class _Page:
    """Handlers serving the page (rendered once; with a token, the host's offer put in each
    time) and its files from ``web_dir``."""

    def __init__(self, web_dir: Path, bundle: Path, whep_path: str,
                 offer_for: OfferMaker | None) -> None:
        self.web_dir, self.bundle, self.offer_for = web_dir, bundle, offer_for
        self.html = render_page(web_dir, whep_path)
        boot = _BOOT_SCRIPT.search(self.html)
        if boot is None:
            raise ConfigurationError(f"{web_dir / 'index.html'} has no boot.js (data-whep)")
        self.boot_at = boot.start()

    async def index(self, request: web.Request) -> web.StreamResponse:
        """The page; for ``/?token=...`` with the host's offer for that viewer in it."""
        token = request.query.get("token")
        if token is None or self.offer_for is None:
            return web.Response(text=self.html, content_type="text/html", headers=_NO_CACHE)
        try:
            offer = dataclasses.asdict(await self.offer_for(token))
        except TokenError as exc:
            offer = {"error": f"401 unauthorized: {exc}"}
        except SessionRefused as exc:
            offer = {"error": f"{exc.status} {exc.message}"}
        html = self.html[:self.boot_at] + offer_script(offer) + self.html[self.boot_at:]
        headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
        return web.Response(text=html, content_type="text/html", headers=headers)

    async def static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name == "msgpack.min.js":
            path = self.bundle
        elif name in _FILES:
            path = self.web_dir / name
        else:
            raise web.HTTPNotFound(text="no such file\n")
        return web.Response(body=path.read_bytes(),
                            content_type=_FILES.get(name, "text/javascript"),
                            charset="utf-8", headers=_NO_CACHE)


def add_web_routes(app: web.Application, whep_path: str, web_dir: Path = WEB_DIR,
                   offer_for: OfferMaker | None = None) -> None:
    """Register ``GET /`` and ``GET /viewer/{name}``; with ``offer_for``, ``/?token=...`` carries
    the host's offer. Without the msgpack bundle the host still runs (the page is optional):
    ``/`` then answers 503 saying how to install it."""
    try:
        bundle = find_msgpack_bundle(web_dir)
    except ConfigurationError as exc:
        log.warning("browser viewer page disabled: %s", exc)
        missing = str(exc)

        async def unavailable(request: web.Request) -> web.StreamResponse:
            return web.Response(status=503, text=f"viewer page unavailable: {missing}\n")

        app.router.add_get("/", unavailable)
        return
    page = _Page(web_dir, bundle, whep_path, offer_for)
    app.router.add_get("/", page.index)
    app.router.add_get("/viewer/{name}", page.static)


def page_url(whep_url: str, token: str, host_offer: bool = True) -> str:
    """The address that opens the viewer page for ``token`` on the host at ``whep_url``: the
    host puts its offer in the page (``/?token=``), or, with ``host_offer`` False, the page
    makes the offer and POSTs it (``/#token=``: the token never reaches the host in the GET)."""
    origin = whep_url.split("/", 3)
    return f"{origin[0]}//{origin[2]}/{'?' if host_offer else '#'}token={token}"
