"""Encoder CPU per rung, temporal layers on/off: 300 frames of the test pattern, 3 repeats each, interleaved."""
import asyncio, time, statistics as st, json, av
from rtc_interact.media.sources import TestPatternTrack
from rtc_interact.media.ladder import _open_codec, default_ladder
ladder = default_ladder(640, 360, 30)
async def grab(n, w, h):
    t = TestPatternTrack(w, h, 30.0); return [(await t.recv()).to_ndarray(format="yuv420p").copy() for _ in range(n)]
frames = {r: asyncio.run(grab(300, r.width, r.height)) for r in ladder.rungs}
res = {False: [], True: []}; kb = {False: [], True: []}
for rep in range(3):
    for layers in (False, True):
        cpu = 0.0; bits = 0
        for r in ladder.rungs:
            c = _open_codec(r, 8, layers)
            vf = [av.VideoFrame.from_ndarray(a, format="yuv420p") for a in frames[r]]
            t0 = time.process_time()
            for i, f in enumerate(vf):
                f.pts = i * 3000; f.time_base = c.time_base
                bits += sum(p.size for p in c.encode(f)) * 8
            cpu += time.process_time() - t0
        res[layers].append(cpu / 10); kb[layers].append(bits / 10 / 1000)
out = {("layers" if k else "plain"): {"cores_median": round(st.median(v), 4), "cores": [round(x, 4) for x in v], "kbps_all_rungs": [round(x) for x in kb[k]]} for k, v in res.items()}
print(json.dumps(out, indent=1))
