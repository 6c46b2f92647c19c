// rtc-interact page bootstrap: the first script of the page (the host inlines it at the top of
// <head>), so that connecting starts before anything else of the page is parsed, loaded or
// compiled. It does the whole signaling, with trickle ICE: opened as /?token=..., the page
// carries the host's offer (window.rtcOffer, put in by the host) and PATCHes its answer to the
// session the host made; opened as /#token=..., it makes the offer and POSTs it (WHEP).
// viewer.js adopts what it made through window.rtcBoot. Times called "marks" are ms since the
// page started loading (performance.now()).
"use strict";

window.rtcBoot = (() => {
  const marks = {};
  const mark = (name) => {
    if (marks[name] === undefined) marks[name] = performance.now();
  };
  const log = [];  // [ms, text] until viewer.js shows them
  const note = (text) => log.push([performance.now(), text]);

  const params = new URLSearchParams(location.hash.slice(1));
  const query = new URLSearchParams(location.search);
  const token = query.get("token") || params.get("token") || "";
  const hostOffer = window.rtcOffer || null;
  const whepUrl = new URL(params.get("whep") || document.currentScript.dataset.whep,
                          location.href);
  const loopback = /^(127\.|localhost$|\[::1\]$)/.test(whepUrl.hostname);

  // On loopback only 127.0.0.1 candidates are offered: the host listens there and nowhere else.
  const keepCandidate = (line) =>
    !loopback || / udp \d+ 127\.\d+\.\d+\.\d+ \d+ typ /i.test(line);

  const filterSdp = (sdp) =>
    sdp.split("\r\n").filter((l) => !l.startsWith("a=candidate:") || keepCandidate(l))
      .join("\r\n");

  class Trickle {
    // Queues candidates until the session exists, then PATCHes them in small batches.
    constructor() { this.location = null; this.queue = []; this.timer = null; }

    add(candidate) {
      if (candidate && (!candidate.candidate || !keepCandidate(" " + candidate.candidate))) return;
      this.queue.push(candidate
        ? `a=mid:${candidate.sdpMid}\r\na=candidate:${candidate.candidate.replace(/^candidate:/, "")}`
        : "a=end-of-candidates");
      this.schedule();
    }

    start(location) { this.location = location; this.schedule(); }

    schedule() {
      if (this.location && this.queue.length && this.timer === null) {
        this.timer = setTimeout(() => this.flush(), 0);
      }
    }

    flush() {
      this.timer = null;
      const body = this.queue.splice(0).join("\r\n") + "\r\n";
      fetch(this.location, {
        method: "PATCH", body,
        headers: { Authorization: `Bearer ${token}`,
                   "Content-Type": "application/trickle-ice-sdpfrag" },
      }).then((r) => { if (r.status !== 204) note(`PATCH answered ${r.status}`); },
              (e) => note(`PATCH failed: ${e}`));
    }
  }

  const boot = { marks, log, token, pc: null, events: null, fast: null, stream: null,
                 early: [], signaled: null, session: null, leave };

  function leave() {
    // Close the connection and DELETE the session, so that the host stops sending video now
    // rather than when ICE consent runs out; resolves when the host has answered.
    if (boot.pc) boot.pc.close();
    const session = boot.session;
    boot.session = null;
    if (!session) return Promise.resolve();
    return fetch(session, { method: "DELETE", keepalive: true,
                            headers: { Authorization: `Bearer ${token}` } })
      .then(() => {}, (e) => note(`DELETE failed: ${e}`));
  }

  function sendSdp(url, method, sdp) {
    return fetch(url, { method, body: filterSdp(sdp),
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/sdp" } });
  }

  async function signal(pc, trickle) {
    // The offer leaves as soon as it exists: applying it locally (tens of ms in Chromium) runs
    // beside the POST instead of before it. Its SDP is the same (candidates trickle anyway).
    const offer = await pc.createOffer();
    mark("offer");
    const applied = pc.setLocalDescription(offer).then(() => mark("local"));
    const posted = sendSdp(whepUrl, "POST", offer.sdp)
      .then((response) => { mark("answer"); return response; });
    const [response] = await Promise.all([posted, applied]);
    const body = await response.text();
    if (response.status !== 201) throw new Error(`${whepUrl} answered ${response.status}: ${body}`);
    boot.session = new URL(response.headers.get("Location"), whepUrl);
    trickle.start(boot.session);
    await pc.setRemoteDescription({ type: "answer", sdp: body });
    mark("signaling");
  }

  async function answer(pc, trickle, offer) {
    // The host's offer came with the page: answer it. The ICE checks leave as soon as the
    // answer is applied, beside the PATCH that takes it to the host.
    if (offer.error) throw new Error(`${location.origin} answered ${offer.error}`);
    boot.session = new URL(offer.location, location.href);
    await pc.setRemoteDescription({ type: "offer", sdp: offer.sdp });
    mark("offer");
    // As the DTLS server (a=setup:passive, RFC 5763 section 5): the host, as client, starts the
    // handshake at our first ICE check and sends video right after its Finished, a round trip
    // before a server could (docs/PROTOCOL.md). A browser refusing the change answers its way.
    const { sdp } = await pc.createAnswer();
    const passive = sdp.replace(/^a=setup:active(?=\r?$)/gm, "a=setup:passive");
    await pc.setLocalDescription({ type: "answer", sdp: passive }).catch(
      () => pc.setLocalDescription());
    mark("local");
    const response = await sendSdp(boot.session, "PATCH", pc.localDescription.sdp);
    mark("answer");
    if (response.status !== 204) {
      throw new Error(`${boot.session} answered ${response.status}: ${await response.text()}`);
    }
    trickle.start(boot.session);
    mark("signaling");
  }

  function preferVp8(transceiver) {
    // The host sends VP8 only; offering just VP8 (and its retransmissions) instead of every
    // codec Chromium has makes the offer a third as long and both sides' descriptions cheaper.
    const capabilities = RTCRtpReceiver.getCapabilities && RTCRtpReceiver.getCapabilities("video");
    const codecs = capabilities ? capabilities.codecs.filter(
      (c) => /^video\/(vp8|rtx)$/i.test(c.mimeType)) : [];
    if (transceiver.setCodecPreferences && codecs.some((c) => /vp8/i.test(c.mimeType))) {
      transceiver.setCodecPreferences(codecs);
    }
  }

  const HELD_MAX_MS = 3000;  // the held scripts run by then even if the channel has not opened

  function fetchHeldScripts() {
    // The rest of the page's code (msgpack, viewer.js) is fetched once the answer is in, so
    // that signaling has the page's thread and HTTP connection to itself; the fetch then runs
    // beside ICE and DTLS. Each script's text, in page order.
    return Array.from(document.querySelectorAll("script[data-after-signaling]"), (held) =>
      fetch(held.src).then((r) => {
        if (!r.ok) throw new Error(`${held.src} answered ${r.status}`);
        return r.text();
      }).then((text) => [held, `${text}\n//# sourceURL=${held.src}`]));
  }

  function whenChannelOpen() {
    // Resolves when the event channel is open, the connection failed or HELD_MAX_MS passed.
    // Compiling and starting the held scripts takes the page's one thread for tens of ms;
    // done while DTLS and SCTP come up, it delayed the channel's open event and the first
    // frame's callback by 10-50 ms on loopback (benchmarks/RESULTS.md §17.2).
    return new Promise((resolve) => {
      const { pc, events } = boot;
      if (!pc || !events || events.readyState === "open") return resolve();
      events.addEventListener("open", resolve);
      pc.addEventListener("connectionstatechange", () => {
        if (["failed", "closed"].includes(pc.connectionState)) resolve();
      });
      setTimeout(resolve, HELD_MAX_MS);
    });
  }

  async function runHeldScripts(signaled) {
    // Without an answer they run at once: viewer.js shows what went wrong.
    const texts = fetchHeldScripts();
    if (signaled) await whenChannelOpen();
    for (const item of texts) {
      const script = document.createElement("script");
      try {
        const [held, text] = await item;
        script.text = text;
        held.replaceWith(script);
      } catch (e) {
        const debug = document.getElementById("debug");
        if (debug) debug.textContent = `could not load the page's scripts: ${e}`;
        return;
      }
    }
    mark("scripts");
  }

  function playEarly(stream) {
    // Attach the video now, so that the player is ready before the first packet, and mark the
    // first frame shown; viewer.js (run once the channel is open) takes the element over.
    const video = document.getElementById("video");
    if (!video) return;
    video.srcObject = stream;
    mark("video");
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(() => mark("first_frame"));
  }

  function whenParsed(run) {
    if (document.readyState === "loading") addEventListener("DOMContentLoaded", run);
    else run();
  }

  function start() {
    mark("connect_start");
    // The same session as the Python viewer: two pre-negotiated channels (docs/PROTOCOL.md)
    // and one receive-only video transceiver.
    const pc = new RTCPeerConnection({ iceServers: [] });
    const events = pc.createDataChannel("rtc-interact/events", { negotiated: true, id: 0 });
    const fast = pc.createDataChannel("rtc-interact/fast",
      { negotiated: true, id: 1, ordered: false, maxRetransmits: 0 });
    if (!hostOffer) preferVp8(pc.addTransceiver("video", { direction: "recvonly" }));
    const trickle = new Trickle();
    pc.onicecandidate = (e) => trickle.add(e.candidate);
    pc.addEventListener("iceconnectionstatechange", () => {
      if (["connected", "completed"].includes(pc.iceConnectionState)) mark("ice");
    });
    pc.addEventListener("connectionstatechange", () => {
      if (pc.connectionState === "connected") mark("dtls");
    });
    pc.addEventListener("track", (e) => {
      boot.stream = e.streams[0] || new MediaStream([e.track]);
      e.track.addEventListener("unmute", () => mark("rtp"), { once: true });  // first packet
      // the host's offer makes this event come before the body (and the video) is parsed
      whenParsed(() => playEarly(boot.stream));
    });
    for (const channel of [events, fast]) {
      channel.binaryType = "arraybuffer";
      channel.onmessage = (e) => boot.early.push([channel, e.data]);  // until viewer.js takes over
    }
    events.addEventListener("open", () => mark("channel_open"));
    Object.assign(boot, { pc, events, fast });
    boot.signaled = hostOffer ? answer(pc, trickle, hostOffer) : signal(pc, trickle);
  }

  if (!token) {
    boot.signaled = Promise.reject(new Error("no token: open this page as /?token=<viewer token>"));
  } else {
    try {
      start();
    } catch (e) {
      boot.signaled = Promise.reject(e);
    }
  }
  boot.signaled.catch(() => {});  // viewer.js reports it
  const runRest = (signaled) => whenParsed(() => runHeldScripts(signaled));
  boot.signaled.then(() => runRest(true), () => runRest(false));
  addEventListener("pagehide", leave);
  return boot;
})();
