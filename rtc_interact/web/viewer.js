// rtc-interact browser viewer: the msgpack event channels of docs/PROTOCOL.md on the connection
// boot.js started (WHEP-style signaling with trickle ICE), and a reader for the frame stamp the
// host's test pattern burns in. Times called "marks" are ms since the page started loading
// (performance.now()).
"use strict";

(() => {
  const { encode, decode } = window.MessagePack;
  const $ = (id) => document.getElementById(id);
  const wallMs = () => performance.timeOrigin + performance.now();

  // the controls and panels, kept out of the parsed page (index.html), go in first
  for (const later of document.querySelectorAll("template[data-later]")) {
    later.replaceWith(later.content);
  }

  const boot = window.rtcBoot;
  const state = {
    marks: boot.marks, identity: null, viewer: null, rtt: null, srtt: null, rttvar: null,
    clockOffset: null, g2g: [], frames: 0, framesDecoded: 0, taps: [], comments: [],
    announcements: [], rules: null, winners: null, log: [], error: null, shownMs: null,
    entry: null, won: null, playoutTargetMs: null,
  };

  const mark = (name) => {
    if (state.marks[name] === undefined) state.marks[name] = performance.now();
  };

  function log(text, ms = performance.now()) {
    state.log.push(text);
    appendItem($("log"), `${(ms / 1000).toFixed(2)}s ${text}`);
  }

  function appendItem(list, text, keep = 100) {
    const item = document.createElement("li");
    item.textContent = text;
    list.append(item);
    while (list.children.length > keep) list.firstElementChild.remove();
    list.scrollTop = list.scrollHeight;
    return item;
  }

  // ---------------------------------------------------------------- the connection (boot.js)

  function adopt(boot) {
    // boot.js, the page's first script, has started connecting; take over its channels,
    // receiving what arrived before this script ran.
    const { pc, events, fast } = boot;
    state.pc = pc; state.events = events; state.fast = fast;
    for (const [ms, text] of boot.log.splice(0)) log(text, ms);
    pc.addEventListener("iceconnectionstatechange", () => log(`ice ${pc.iceConnectionState}`));
    pc.addEventListener("connectionstatechange", () => log(`connection ${pc.connectionState}`));
    if (boot.stream) showVideo(boot.stream);
    pc.addEventListener("track", () => showVideo(boot.stream));
    for (const channel of [events, fast]) {
      channel.onmessage = (e) => receive(new Uint8Array(e.data), channel);
    }
    for (const [channel, data] of boot.early.splice(0)) receive(new Uint8Array(data), channel);
    if (events.readyState === "open") onChannelOpen();
    else events.addEventListener("open", onChannelOpen);
  }

  let watching = false;

  function showVideo(stream) {
    const video = $("video");
    if (video.srcObject !== stream) video.srcObject = stream;  // boot.js may have attached it
    if (!watching) {
      watching = true;
      watchFrames(video);
    }
  }

  // ---------------------------------------------------------------- event channel

  let nextId = 1;
  const pending = new Map();  // id -> {resolve, reject, sent, retries, timer, kind}

  function send(message, channel) {
    const data = encode({ v: 1, ...message });
    if (channel.readyState === "open") channel.send(data);
  }

  // When the copies of a fast-path message leave (ms after the first), as the Python viewer's
  // RetransmitPolicy.copy_offsets_s: two close together, the rest spread past a loss burst.
  const COPY_OFFSETS_MS = [0, 2, 27, 77];

  function request(message, channel, kind, redundant) {
    const id = nextId++;
    const entry = { kind, sent: performance.now(), retries: 0, timer: null };
    const done = new Promise((resolve, reject) => { entry.resolve = resolve; entry.reject = reject; });
    pending.set(id, entry);
    const transmit = (offsets) => {
      for (const ms of offsets) {
        const copy = () => pending.has(id) && send({ ...message, id }, channel);
        if (ms > 0) setTimeout(copy, ms);
        else copy();  // now: a timer of 0 still waits its turn (0.4 ms p50, 1.9 ms p90 here)
      }
    };
    const retransmit = () => {
      if (!pending.has(id)) return;
      if (performance.now() - entry.sent > 20000) {
        pending.delete(id);
        entry.reject(new Error(`${kind} ${id}: no answer in 20 s`));
        return;
      }
      entry.retries++;
      transmit([0]);
      entry.timer = setTimeout(retransmit, Math.min(2000, rto() * 2 ** entry.retries));
    };
    transmit(redundant ? COPY_OFFSETS_MS : [0]);
    if (redundant) {  // the reliable channel needs no retransmission of ours
      entry.timer = setTimeout(retransmit, COPY_OFFSETS_MS.at(-1) + rto());
    }
    return done;
  }

  const rto = () => (state.srtt === null ? 200 : Math.max(40, state.srtt + 4 * state.rttvar));

  function rttSample(ms) {  // RFC 6298
    state.rtt = ms;
    if (state.srtt === null) {
      state.srtt = ms; state.rttvar = ms / 2;
    } else {
      state.rttvar = 0.75 * state.rttvar + 0.25 * Math.abs(state.srtt - ms);
      state.srtt = 0.875 * state.srtt + 0.125 * ms;
    }
  }

  function settle(id, ok, value) {
    const entry = pending.get(id);
    if (!entry) return null;  // a redundant copy, or an answer we stopped waiting for
    pending.delete(id);
    clearTimeout(entry.timer);
    const rtt = performance.now() - entry.sent;
    if (entry.retries === 0 && entry.kind !== "comment") rttSample(rtt);
    if (ok) entry.resolve({ ...value, rtt }); else entry.reject(value);
    return entry;
  }

  const handlers = {
    welcome(m) {
      state.identity = m.identity; state.viewer = m.viewer;
      log(`welcome: ${m.identity} (session ${m.viewer})`);
    },
    ack(m) { settle(m.id, true, { n: m.n, hts: m.hts, g: m.g, e: m.e, eh: m.eh }); },
    acks(m) { (m.ids || []).forEach((id, i) => settle(id, true, { n: m.ns[i], hts: m.hts })); },
    pong(m) { onPong(m); },
    error(m) {
      const text = `error ${m.code}: ${m.reason}`;
      if (m.ref === undefined || !settle(m.ref, false, new Error(text))) log(text);
    },
    commented(m) {
      state.comments.push(m);
      appendItem($("comments"), `${m.author}: ${m.text}`);
    },
    announce(m) {
      state.announcements.push(m);
      appendItem($("announcements"), m.topic ? `[${m.topic}] ${m.text}` : m.text);
    },
    rules(m) { showRules(m.rules && typeof m.rules === "object" ? m.rules : m); },
    winners(m) {
      if (typeof m.text === "string") {  // the host's form: one line per prize
        showWinners(m.text.split("\n").filter(Boolean).map((line) => ({ line })));
        log(`draw: seed ${m.seed}, entries ${m.entries} (check with 'rtc-interact giveaway verify')`);
      } else {
        showWinners(Array.isArray(m.winners) ? m.winners : []);
      }
    },
    won(m) {
      state.won = m;
      const until = new Date(Number(m.deadline_ms)).toLocaleString();
      $("claim-note").textContent = `You won ${m.tier}: ${m.prize}! Claim before ${until}.`;
      $("claim-form").hidden = false;
    },
  };

  function receive(bytes, channel) {
    let message;
    try {
      message = decode(bytes);
    } catch (e) {
      log(`undecodable message (${bytes.length} bytes): ${e.message}`);
      return;
    }
    if (message === null || typeof message !== "object" || Array.isArray(message)) {
      log("message is not a map");
      return;
    }
    const handler = Object.hasOwn(handlers, message.t) ? handlers[message.t] : null;
    if (!handler) {
      log(`unknown message type ${JSON.stringify(message.t)}: ${summarise(message)}`);
      return;
    }
    try {
      handler(message, channel);
    } catch (e) {
      log(`could not show ${message.t}: ${e.message}`);
    }
  }

  const summarise = (m) =>
    JSON.stringify(m, (k, v) => (typeof v === "bigint" ? v.toString() : v)).slice(0, 200);

  function onChannelOpen() {
    $("tap").disabled = false;
    $("comment-send").disabled = false;
    $("tap-status").textContent = "ready";
    ping();
    setInterval(ping, 2000);
  }

  // ---------------------------------------------------------------- ping, clock, taps, comments

  const pings = new Map();
  const clockSamples = [];

  function ping() {
    const id = nextId++;
    pings.set(id, performance.now());
    send({ t: "ping", id, ts: Math.round(wallMs()) }, state.fast);
  }

  function onPong(m) {
    const sent = pings.get(m.id);
    if (sent === undefined) return;
    pings.delete(m.id);
    const rtt = performance.now() - sent;
    rttSample(rtt);
    clockSamples.push({ rtt, offset: m.hts - (m.ts + wallMs()) / 2 });
    if (clockSamples.length > 16) clockSamples.shift();
    state.clockOffset = clockSamples.reduce((a, b) => (b.rtt < a.rtt ? b : a)).offset;
  }

  const openGiveaway = () => (state.rules && state.rules.state === "open" ? state.rules.g : "");

  async function tap(target = openGiveaway()) {
    const status = $("tap-status");
    status.className = "status";
    status.textContent = "tapping...";
    const message = { t: "tap", target };
    // a giveaway judges the tap by the frame on screen (docs/GIVEAWAY.md): send its stamp
    if (target && state.shownMs !== null) message.mts = state.shownMs;
    try {
      const ack = await request(message, state.fast, "tap", true);
      state.taps.push(ack);
      status.className = "status acked";
      status.textContent = ack.e !== undefined
        ? `entered ${ack.g}: entry #${ack.e} (receipt ${String(ack.eh).slice(0, 12)}...)`
        : `tap #${ack.n} acknowledged in ${ack.rtt.toFixed(1)} ms`;
      if (ack.e !== undefined) state.entry = ack;
      return ack;
    } catch (e) {
      status.textContent = `tap failed: ${e.message}`;
      throw e;
    }
  }

  async function comment(text) {
    return request({ t: "comment", text }, state.events, "comment", false);
  }

  async function claim(name, address, contact) {
    const g = state.won ? state.won.g : "";
    return request({ t: "claim", g, name, address, contact }, state.events, "claim", false);
  }

  // ---------------------------------------------------------------- giveaway panel

  function showRules(rules) {
    state.rules = rules;
    $("rules").textContent = typeof rules.text === "string" ? rules.text : summarise(rules);
    $("winners").replaceChildren();
    tickCountdown();
  }

  function showWinners(winners) {
    state.winners = winners;
    const list = $("winners");
    list.replaceChildren();
    for (const w of winners) {
      const tier = w && w.tier !== undefined ? `${w.tier}: ` : "";
      const who = w && w.identity !== undefined ? w.identity : summarise(w);
      appendItem(list, w && w.line !== undefined ? w.line : `${tier}${who}`, 1000);
    }
    $("countdown").textContent = winners.length ? "Winners drawn" : "No winners";
  }

  function tickCountdown() {
    const rules = state.rules;
    const out = $("countdown");
    if (!rules || state.winners) return;
    const now = wallMs() + (state.clockOffset || 0);  // host clock
    const secs = (ms) => `${Math.max(0, ms / 1000).toFixed(1)} s`;
    if (Number.isFinite(rules.open_ms) && now < rules.open_ms) {
      out.textContent = `Opens in ${secs(rules.open_ms - now)}`;
    } else if (Number.isFinite(rules.close_ms) && now < rules.close_ms) {
      out.textContent = `Open: closes in ${secs(rules.close_ms - now)}`;
    } else {
      out.textContent = Number.isFinite(rules.close_ms) ? "Closed: waiting for the draw" : "";
    }
  }

  // ---------------------------------------------------------------- video, stamp, debug overlay

  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d", { willReadFrequently: true });

  function crc8(bytes) {  // poly 0x07, init 0xFF (docs/PROTOCOL.md section 8)
    let crc = 0xff;
    for (const byte of bytes) {
      crc ^= byte;
      for (let i = 0; i < 8; i++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
    }
    return crc;
  }

  function readStamp(video) {
    // Two rows of 44 blocks; read each block's centre half, threshold luma at 125.5 (of 16..235,
    // which the browser's YUV to RGB conversion maps to 0..255, so 127.5 in RGB terms).
    const width = video.videoWidth;
    const size = Math.floor(Math.floor(width / 44) / 2) * 2;
    if (size < 4 || video.videoHeight < 2 * size) return null;
    canvas.width = 44 * size; canvas.height = 2 * size;
    ctx.drawImage(video, 0, 0, canvas.width, canvas.height, 0, 0, canvas.width, canvas.height);
    const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    const bytes = new Uint8Array(11);
    const lo = Math.floor(size / 4), hi = size - Math.floor(size / 4);
    for (let bit = 0; bit < 88; bit++) {
      const x0 = (bit % 44) * size, y0 = Math.floor(bit / 44) * size;
      let sum = 0, count = 0;
      for (let y = y0 + lo; y < y0 + hi; y++) {
        for (let x = x0 + lo; x < x0 + hi; x++) {
          const p = (y * canvas.width + x) * 4;
          sum += 0.299 * pixels[p] + 0.587 * pixels[p + 1] + 0.114 * pixels[p + 2];
          count++;
        }
      }
      if (sum / count > 127.5) bytes[bit >> 3] |= 0x80 >> (bit & 7);
    }
    if (crc8(bytes.subarray(0, 10)) !== bytes[10]) return null;
    let ms = 0;
    for (let i = 4; i < 10; i++) ms = ms * 256 + bytes[i];
    const frame = ((bytes[0] << 24) >>> 0) + (bytes[1] << 16) + (bytes[2] << 8) + bytes[3];
    return { frame, captureMs: ms };
  }

  // Frames shown (wall ms, width, stamp) since a benchmark last called takeShown(); bounded.
  const SHOWN_MAX = 4000;
  let shown = [];
  const takeShown = () => { const out = shown; shown = []; return out; };

  function watchFrames(video) {
    if (!("requestVideoFrameCallback" in video)) {
      log("this browser has no requestVideoFrameCallback: no frame stamps");
      return;
    }
    const onFrame = (now) => {
      mark("first_frame");
      state.frames++;
      const stamp = readStamp(video);
      // for a benchmark reading this page: every frame shown, until it takes them
      if (shown.length >= SHOWN_MAX) shown.shift();
      shown.push({ t: performance.timeOrigin + now, w: video.videoWidth,
                   f: stamp ? stamp.frame : null, c: stamp ? stamp.captureMs : null });
      if (stamp) {
        state.shownMs = stamp.captureMs;
        const g2g = (wallMs() % 2 ** 48) - stamp.captureMs;
        if (g2g > -5000 && g2g < 120000) {
          state.g2g.push(g2g);
          if (state.g2g.length > 300) state.g2g.shift();
        }
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }

  const median = (xs) => {
    if (!xs.length) return null;
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)];
  };

  // Playout delay, as the Python viewer's FrameBuffer (ReceiveConfig.playout_*): Chromium's
  // jitter buffer holds only the network's jitter, so a frame waiting for a retransmitted packet
  // is a round trip late, a freeze on a 160-220 ms path. While packets go missing (and
  // LOSS_MEMORY_MS after), ask it to hold a round trip less PLAYOUT_MARGIN_MS (at most
  // PLAYOUT_MAX_MS), so that one retransmission lands in time; on a clean link, nothing.
  const PLAYOUT_MARGIN_MS = 30, PLAYOUT_MAX_MS = 200, LOSS_MEMORY_MS = 30000;
  const playout = { missing: 0, lastLossMs: -Infinity, targetMs: null };

  function playoutTarget(missing, rttS, nowMs) {
    if (missing > playout.missing) playout.lastLossMs = nowMs;
    playout.missing = Math.max(playout.missing, missing);
    if (nowMs - playout.lastLossMs > LOSS_MEMORY_MS || !(rttS > 0)) return null;
    return Math.round(Math.min(PLAYOUT_MAX_MS, Math.max(0, rttS * 1000 - PLAYOUT_MARGIN_MS)));
  }

  function applyPlayout(targetMs) {
    const receiver = state.pc.getReceivers().find((r) => r.track && r.track.kind === "video");
    if (!receiver || targetMs === playout.targetMs) return;
    if (targetMs !== null && playout.targetMs !== null &&
        Math.abs(targetMs - playout.targetMs) < 10) return;
    playout.targetMs = targetMs;
    if ("jitterBufferTarget" in receiver) receiver.jitterBufferTarget = targetMs;
    else if ("playoutDelayHint" in receiver) receiver.playoutDelayHint = (targetMs || 0) / 1000;
  }

  async function refreshStats() {
    if (!state.pc) return;
    const report = await state.pc.getStats();
    let missing = 0, rttS = null;
    report.forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") {
        state.framesDecoded = s.framesDecoded || 0;
        missing = (s.nackCount || 0) + Math.max(0, s.packetsLost || 0);
      }
      if (s.type === "transport" && s.selectedCandidatePairId) {
        const pair = report.get(s.selectedCandidatePairId);
        if (pair) rttS = pair.currentRoundTripTime;
      }
    });
    // The least of the ICE pair's last round trip and the pings' (the last 16): a single reading
    // can be long (one check or ping held up at a busy host; CI once read 230 ms on a 150 ms
    // path, and the playout target went to its maximum).
    const readings = [rttS, ...clockSamples.map((c) => c.rtt / 1000)].filter((x) => x > 0);
    rttS = readings.length ? Math.min(...readings) : null;
    applyPlayout(playoutTarget(missing, rttS, performance.now()));
    state.playoutTargetMs = playout.targetMs;
  }

  function drawDebug() {
    const fmt = (v, unit = " ms") => (v === null || v === undefined ? "-" : `${v.toFixed(1)}${unit}`);
    const m = state.marks;
    const lines = ["stage (ms from page start)"];
    for (const name of ["offer", "signaling", "ice", "dtls", "channel_open", "first_frame"]) {
      lines.push(`${name.padEnd(13)}${fmt(m[name], "")}`);
    }
    lines.push(`rtt          ${fmt(state.rtt)}`);
    lines.push(`g2g p50      ${fmt(median(state.g2g.slice(-30)))}`);
    lines.push(`playout      ${fmt(state.playoutTargetMs)}`);
    lines.push(`frames       ${state.framesDecoded} decoded`);
    $("debug").textContent = lines.join("\n");
  }

  // ---------------------------------------------------------------- start

  $("tap").addEventListener("click", () => tap().catch(() => {}));
  $("comment-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = $("comment-text");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    comment(text).catch((err) => log(`comment refused: ${err.message}`));
  });
  setInterval(() => { tickCountdown(); drawDebug(); refreshStats().catch(() => {}); }, 250);

  $("claim-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const value = (id) => $(id).value.trim();
    claim(value("claim-name"), value("claim-address"), value("claim-contact"))
      .then(() => { $("claim-note").textContent = "Claim received."; $("claim-form").hidden = true; })
      .catch((err) => { $("claim-note").textContent = `claim refused: ${err.message}`; });
  });

  window.rtcInteract = {
    state, tap, comment, claim, receive: (bytes) => receive(bytes, null), encode, takeShown,
    leave: boot.leave,
  };
  boot.signaled.catch((e) => {
    state.error = String(e.message || e);
    log(`connect failed: ${state.error}`);
  });
  if (boot.pc) adopt(boot);
})();
