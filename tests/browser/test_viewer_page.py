"""The host's viewer page in real Chromium: video, taps, comments, host messages."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from rtc_interact import Announcement, Host, TapReceived, ViewerLeft
from rtc_interact.bench import report
from rtc_interact.bench.browser import (
    READY,
    connect_chromium,
    new_viewer_context,
    viewer_page_url,
    wait_for,
)
from rtc_interact.bench.harness import linked_host
from rtc_interact.bench.runner import BenchPlan, run
from rtc_interact.linkemu import get_profile
from rtc_interact.transport.aiortc_dtls import false_started

pytestmark = pytest.mark.timeout(90)

VIDEO_STATS = """async () => {
  const report = await window.rtcInteract.state.pc.getStats();
  const out = {decoded: 0, local: null, remote: null};
  let pair = null;
  report.forEach(s => {
    if (s.type === "inbound-rtp" && s.kind === "video") out.decoded = s.framesDecoded || 0;
    if (s.type === "transport") pair = report.get(s.selectedCandidatePairId);
  });
  if (pair) {
    out.local = report.get(pair.localCandidateId).address;
    out.remote = report.get(pair.remoteCandidateId).address;
  }
  return out;
}"""


async def open_page(browser: Browser, host: Host, identity: str,
                    host_offer: bool = True) -> Page:
    """A fresh context with the page open and its event channel up."""
    url = viewer_page_url(host.url, host.mint_token(identity), host_offer)
    page = await (await new_viewer_context(browser, url)).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(url)
    await wait_for(page, READY, 20)
    assert await page.evaluate("window.rtcInteract.state.error") is None
    assert errors == []
    return page


async def video_stats(page: Page, min_frames: int) -> dict[str, Any]:
    """getStats() once at least ``min_frames`` frames were decoded (bounded wait)."""
    for _ in range(200):
        stats: dict[str, Any] = await page.evaluate(VIDEO_STATS)
        if stats["decoded"] >= min_frames:
            return stats
        await asyncio.sleep(0.05)
    raise AssertionError(f"fewer than {min_frames} frames decoded in 10 s: {stats}")


@pytest.mark.parametrize("host_offer", [True, False], ids=["host-offer", "page-offer"])
async def test_page_plays_video_over_loopback_and_reads_the_stamp(
        browser: Browser, web_host: Host, artifacts: Path, host_offer: bool) -> None:
    page = await open_page(browser, web_host, "alice", host_offer)
    local_sdp = await page.evaluate("window.rtcInteract.state.pc.localDescription.sdp")
    # answering the host's offer, Chromium is the DTLS server, and the host false-starts
    # (aiortc_dtls); offering, it leaves the choice to the host, which takes the server's role
    assert ("a=setup:passive" in local_sdp) is host_offer
    stats = await video_stats(page, 10)
    (session,) = web_host._sessions.values()
    assert false_started(session.pc) is host_offer
    # The host is reached at 127.0.0.1 only. (Chromium may answer from a socket bound to another
    # local address of this machine; that traffic stays on the loopback device too.)
    assert stats["remote"] == "127.0.0.1"
    g2g = await wait_for(page, "window.rtcInteract.state.g2g.length >= 5 && "
                               "window.rtcInteract.state.g2g", 10)
    assert all(0 <= ms < 2000 for ms in g2g)  # stamps decoded (a bad read fails the CRC)
    marks = await page.evaluate("window.rtcInteract.state.marks")
    # (the answer's promise and the channel's open event may be run in either order)
    assert marks["connect_start"] <= marks["offer"] < min(marks["signaling"], marks["channel_open"])
    # media may flow as soon as DTLS is done; the channel also needs SCTP's handshake, so on
    # loopback either can come first
    assert marks["offer"] < marks["first_frame"]
    # the rest of the page's code starts only once the channel is open (boot.js), and the video
    # is attached before it (the host's offer brings the track before the <video> is parsed)
    assert marks["channel_open"] <= marks["scripts"]
    assert marks["video"] <= marks["scripts"]
    await expect(page.locator("#debug")).to_contain_text("decoded")
    await page.screenshot(path=artifacts / f"video-{'host' if host_offer else 'page'}-offer.png")


@pytest.mark.parametrize("host_offer", [True, False], ids=["host-offer", "page-offer"])
async def test_a_refused_token_is_shown_at_once(browser: Browser, web_host: Host,
                                                host_offer: bool) -> None:
    url = viewer_page_url(web_host.url, "not-a-token", host_offer)
    page = await (await new_viewer_context(browser, url)).new_page()
    await page.goto(url)
    error = await wait_for(page, "window.rtcInteract && window.rtcInteract.state.error", 10)
    assert "401" in error, error
    marks = await page.evaluate("window.rtcInteract.state.marks")
    # no answer: the page's code ran without waiting for a channel that cannot open
    assert "scripts" in marks and "channel_open" not in marks and "signaling" not in marks
    await expect(page.locator("#log")).to_contain_text("connect failed")


async def test_tap_is_acknowledged_and_recorded_by_the_host(
        browser: Browser, web_host: Host, artifacts: Path) -> None:
    page = await open_page(browser, web_host, "bob")
    await page.click("#tap")
    await expect(page.locator("#tap-status")).to_contain_text("tap #1 acknowledged")
    async with asyncio.timeout(5):
        async for event in web_host.events():
            if isinstance(event, TapReceived):
                break
    assert event.identity == "bob" and event.n == 1
    await page.screenshot(path=artifacts / "tap.png")



SENT_WITHIN_THE_CALL = """async () => {
  const fast = window.rtcInteract.state.fast, send = fast.send;
  let sent = 0;
  fast.send = (data) => { sent++; return send.call(fast, data); };
  const acked = window.rtcInteract.tap();
  const within = sent;  // before anything else could run on this thread
  await acked;
  fast.send = send;
  return within;
}"""


async def test_a_tap_leaves_within_the_call_not_on_a_timer(browser: Browser,
                                                          web_host: Host) -> None:
    """The first copy is sent at once: a timer of 0 ms waited 0.4 ms (p50) here, 1.9 (p90)."""
    page = await open_page(browser, web_host, "quick")
    assert await page.evaluate(SENT_WITHIN_THE_CALL) == 1

async def test_comment_from_one_page_shows_up_in_another(
        browser: Browser, web_host: Host, artifacts: Path) -> None:
    alice = await open_page(browser, web_host, "alice")
    bob = await open_page(browser, web_host, "bob")
    await alice.fill("#comment-text", "hello from alice")
    await alice.click("#comment-send")
    await expect(bob.locator("#comments")).to_contain_text("alice: hello from alice")
    await expect(alice.locator("#comments")).to_contain_text("alice: hello from alice")
    await bob.screenshot(path=artifacts / "comment.png")


async def test_draw_result_from_the_host_appears(
        browser: Browser, web_host: Host, artifacts: Path) -> None:
    page = await open_page(browser, web_host, "carol")
    await wait_for(page, "window.rtcInteract.state.identity", 5)  # welcome arrived
    reached = await web_host.broadcast(Announcement("draw", "winner: carol (tier 1)"))
    assert reached == 1
    await expect(page.locator("#announcements")).to_contain_text("[draw] winner: carol (tier 1)")
    await page.screenshot(path=artifacts / "draw.png")


async def receive(page: Page, message: dict[str, Any]) -> None:
    """Feed ``message`` through the page's msgpack decoder and dispatcher."""
    await page.evaluate("m => window.rtcInteract.receive(window.rtcInteract.encode(m))", message)


async def test_rules_countdown_winners_and_unknown_messages_render(
        browser: Browser, web_host: Host, artifacts: Path) -> None:
    page = await open_page(browser, web_host, "dave")
    now = await page.evaluate("Date.now()")
    rules = {"text": "One entry per viewer; winners drawn live at the close.\n"
                     "Tags like <b>this</b> stay plain text.",
             "open_ms": now - 1000, "close_ms": now + 60_000}
    await receive(page, {"v": 1, "t": "rules", "rules": rules})
    await expect(page.locator("#rules")).to_have_text(rules["text"])  # plain text, not HTML
    await expect(page.locator("#countdown")).to_contain_text("closes in")
    await page.click("#tap")
    await expect(page.locator("#tap-status")).to_contain_text("acknowledged")
    await expect(page.locator("#debug")).not_to_contain_text(" 0 decoded")
    await page.screenshot(path=artifacts / "viewer.png")
    winners = [{"tier": 1, "identity": "dave"}, {"tier": 2, "identity": "x"}]
    await receive(page, {"v": 1, "t": "winners", "winners": winners})
    await expect(page.locator("#winners li")).to_have_text(["1: dave", "2: x"])
    await receive(page, {"v": 1, "t": "poll", "question": "?"})
    await page.evaluate("window.rtcInteract.receive(new Uint8Array([0xc1]))")  # never-used byte
    await expect(page.locator("#log")).to_contain_text('unknown message type "poll"')
    await expect(page.locator("#log")).to_contain_text("undecodable message")
    await page.click("#tap")  # still working after all that
    await expect(page.locator("#tap-status")).to_contain_text("tap #2 acknowledged")


async def test_a_real_giveaway_rules_entry_winners_and_claim(
        browser: Browser, tmp_path: Path, artifacts: Path) -> None:
    from rtc_interact import HostConfig, Limits, RateLimit, VideoConfig, new_secret
    from rtc_interact.giveaway import PrizeTier, Rules

    config = HostConfig(secret=new_secret(), port=0, video=VideoConfig(640, 360, 30),
                        limits=Limits(taps=RateLimit(1000, 1000)),
                        giveaway_store=str(tmp_path / "gw.db"))
    rules = Rules(giveaway_id="launch", title="Launch-day giveaway", window_s=60.0,
                  tiers=(PrizeTier("Grand prize", "Espresso machine", 1, 400.0, "EUR"),),
                  regions=("DE",), organizer="Example Coffee GmbH")
    async with Host(config) as host:
        await host.giveaways.create(rules)
        await host.giveaways.open("launch")
        url = viewer_page_url(host.url, host.mint_token("erin", region="DE"))
        page = await (await new_viewer_context(browser, url)).new_page()
        await page.goto(url)
        await wait_for(page, READY, 20)
        await expect(page.locator("#rules")).to_contain_text("Espresso machine")
        await expect(page.locator("#countdown")).to_contain_text("closes in")
        await video_stats(page, 5)
        await page.click("#tap")
        await expect(page.locator("#tap-status")).to_contain_text("entered launch: entry #1")
        entry = host.giveaways.get("launch").entries[0]
        assert entry.identity == "erin" and entry.media_ts_ms is not None  # stamp sent
        await page.screenshot(path=artifacts / "giveaway.png")
        await host.giveaways.finish("launch")
        await expect(page.locator("#winners li")).to_have_text(["Grand prize #1: erin (entry 1)"])
        await expect(page.locator("#claim-note")).to_contain_text("You won Grand prize")
        for field, value in (("name", "Erin"), ("address", "Berlin"), ("contact", "e@x.test")):
            await page.fill(f"#claim-{field}", value)
        await page.click("#claim-form button")
        await expect(page.locator("#claim-note")).to_have_text("Claim received.")
        await page.close()


async def left(host: Host) -> ViewerLeft:
    """The next ViewerLeft (bounded: the host would otherwise notice only when ICE consent
    expires, after 30 s)."""
    async with asyncio.timeout(10):
        async for event in host.events():
            if isinstance(event, ViewerLeft):
                return event
    raise AssertionError("events() ended")


async def test_leave_ends_the_session_on_the_host(browser: Browser, web_host: Host) -> None:
    page = await open_page(browser, web_host, "frank")
    await wait_for(page, "window.rtcInteract.state.identity", 5)
    await page.evaluate("window.rtcInteract.leave()")
    event = await left(web_host)
    assert event.identity == "frank"
    assert (await web_host.stats()).viewers == ()


async def test_closing_the_page_leaves(browser: Browser, web_host: Host) -> None:
    page = await open_page(browser, web_host, "grace")
    await wait_for(page, "window.rtcInteract.state.identity", 5)
    await page.close()
    assert (await left(web_host)).identity == "grace"


async def test_bench_runs_the_page_as_the_viewer_of_the_video_suite() -> None:
    """Chromium through an emulated link: every frame it showed is timed and its stamp read."""
    plan = BenchPlan(profiles=("rtt150",), suites=("video",), video_s=5,
                     implementations=("chromium",))
    doc = await run(plan, progress=False)
    video = doc["results"][0]["video"]["chromium"]
    assert video["survived"] is True and video["corrupt_frames"] == 0
    assert video["frames"] >= 60 and video["fps"]["mean"] >= 12
    assert video["g2g_ms"]["p50"] >= 75  # at least the one-way delay: stamps read and timed
    chromium = video["viewer_receiver"]  # Chromium's own counters
    assert chromium["connection_state"] == "connected"
    assert chromium["framesDecoded"] >= video["frames"] - 5  # shown frames were decoded ones
    assert video["keyframes"] == chromium["keyFramesDecoded"] >= 1
    assert "freezeCount" in chromium
    assert "chromium" in report.table(doc["results"]).splitlines()[0]


async def test_page_holds_a_round_trip_of_playout_once_packets_go_missing() -> None:
    """On a lossy 150 ms path the page asks Chromium's jitter buffer for a round trip less the
    margin, so a frame waiting for one retransmission is not a freeze."""
    async with linked_host("chromium", get_profile("rtt150-loss2"), seed=1) as link:
        session = await connect_chromium(link.url, link.token)
        try:
            target = await wait_for(session.page,
                                    "window.rtcInteract.state.playoutTargetMs", 15)
            receiver = await session.page.evaluate(
                "window.rtcInteract.state.pc.getReceivers()"
                ".find(r => r.track.kind === 'video').jitterBufferTarget")
        finally:
            await session.aclose()
    assert 150 - 30 - 15 <= target <= 150 - 30 + 40  # RTT (plus jitter, checks) less 30 ms
    assert receiver == target
