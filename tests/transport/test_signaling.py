from __future__ import annotations

import aiohttp
import pytest

from rtc_interact import Host
from rtc_interact.tokens import mint, new_secret
from rtc_interact.transport.signaling import SDP, SDPFRAG, TrickleCandidate, parse_sdpfrag
from rtc_interact.viewer import Viewer


def test_parse_sdpfrag_keeps_mid_and_end_marker() -> None:
    body = ("a=ice-ufrag:abcd\r\na=mid:0\r\n"
            "a=candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host\r\na=end-of-candidates\r\n")
    assert parse_sdpfrag(body) == [
        TrickleCandidate("0", "1 1 udp 2130706431 127.0.0.1 5000 typ host"),
        TrickleCandidate("0", None),
    ]


async def _post(url: str, body: str, headers: dict[str, str]) -> tuple[int, str, dict[str, str]]:
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as r:
        return r.status, await r.text(), dict(r.headers)


@pytest.mark.parametrize(("auth", "says"), [
    (None, "missing"),
    ("Bearer nonsense", "invalid token"),
    ("forged", "signature"),
    ("expired", "expired"),
])
async def test_bad_tokens_get_401_with_a_reason(host: Host, auth: str | None, says: str) -> None:
    tokens = {"forged": mint(new_secret(), "eve"), "expired": mint(host.config.secret, "x",
                                                                   now=1000, ttl_s=1)}
    headers = {"Content-Type": SDP}
    if auth is not None:
        headers["Authorization"] = auth if auth.startswith("Bearer") else f"Bearer {tokens[auth]}"
    status, text, response_headers = await _post(host.url, "v=0\r\n", headers)
    assert status == 401
    assert says in text
    assert response_headers["WWW-Authenticate"] == "Bearer"


async def test_viewer_with_forged_token_raises_authentication_error(host: Host) -> None:
    from rtc_interact.errors import AuthenticationError

    with pytest.raises(AuthenticationError, match="401"):
        async with Viewer.connect(host.url, token=mint(new_secret(), "eve")):
            pass


async def test_wrong_content_type_and_bad_sdp(host: Host) -> None:
    auth = {"Authorization": f"Bearer {host.mint_token('v')}"}
    status, _, _ = await _post(host.url, "v=0", {**auth, "Content-Type": "text/plain"})
    assert status == 415
    status, text, _ = await _post(host.url, "hello", {**auth, "Content-Type": SDP})
    assert status == 400
    status, text, _ = await _post(host.url, "v=0\r\nm=nonsense\r\n", {**auth, "Content-Type": SDP})
    assert status == 400 and "offer" in text


async def test_unknown_session_is_404_and_patch_is_accepted(host: Host) -> None:
    token = host.mint_token("v")
    auth = {"Authorization": f"Bearer {token}"}
    base = host.url + "/sessions/"
    async with aiohttp.ClientSession() as http:
        async with http.delete(base + "nope", headers=auth) as r:
            assert r.status == 404
        async with Viewer.connect(host.url, token=token) as viewer:
            location = viewer._location
            assert location is not None and location.startswith(base)
            frag = "a=mid:0\r\na=end-of-candidates\r\n"
            async with http.patch(location, data=frag,
                                  headers={**auth, "Content-Type": SDPFRAG}) as r:
                assert r.status == 204
            assert (await viewer.tap()).n == 1



def test_early_events_header_round_trips_and_rejects_garbage() -> None:
    from rtc_interact.transport.signaling import pack_messages, unpack_messages

    messages = (b"\x81\xa1v\x01", b"")
    assert unpack_messages(pack_messages(messages)) == messages
    assert unpack_messages("kA") == ()
    for bad in ("!!!", pack_messages([b"x"] * 17), "kaFh"):
        with pytest.raises(ValueError):
            unpack_messages(bad)


async def test_bad_events_header_is_400(host: Host) -> None:
    headers = {"Authorization": f"Bearer {host.mint_token('v')}", "Content-Type": SDP,
               "Rtc-Interact-Events": "%%%"}
    status, text, _ = await _post(host.url, "v=0\r\n", headers)
    assert status == 400 and "Rtc-Interact-Events" in text
