import { check } from "k6";
import exec from "k6/execution";
import { Counter, Trend } from "k6/metrics";
import type { Options } from "k6/options";
import { clearInterval, setInterval, setTimeout } from "k6/timers";
import { WebSocket } from "k6/websockets";
import { APP_ID, APP_SIGN, TARGET } from "./lib/vendor.ts";

// The media server as a room of singers and listeners loads it: each VU is one publisher with KTV_PLAYERS
// players in its room, all on the simulator's media WebSocket (wire-api.md "Media server"). The publisher
// logs in, publishes its stream and sends one 20 ms frame of 48 kHz mono PCM every 20 ms for KTV_SECONDS (real
// time pace: k6/timers), each with the protocol's 32-byte header and its capture timestamp; every player logs
// in, plays the stream and measures the relay latency of each frame from that timestamp (e2e_latency_ms, the
// Node runner's name; one clock, so it is exact on one machine and as good as the clocks' sync across two).
//
//   KTV_VUS publishers (default 2), KTV_PLAYERS per publisher (default 2), KTV_SECONDS (default 5), and
//   lib/vendor.ts's KTV_TARGET, KTV_APP_ID, KTV_APP_SIGN, KTV_PREFIX.
//   k6 run -e KTV_TARGET=http://127.0.0.1:7400 -e KTV_VUS=50 scenarios/k6/media.ts

const PREFIX = __ENV.KTV_PREFIX ?? "k6media";
const PLAYERS = Number(__ENV.KTV_PLAYERS ?? 2);
const SECONDS = Number(__ENV.KTV_SECONDS ?? 5);
const FRAME_MS = 20;
const SAMPLE_RATE = 48_000;
const SAMPLES = (SAMPLE_RATE * FRAME_MS) / 1000;
const HEADER = 32;

export const options: Options = {
  scenarios: {
    rooms: {
      executor: "per-vu-iterations",
      vus: Number(__ENV.KTV_VUS ?? 2),
      iterations: 1,
      maxDuration: "2m",
    },
  },
  thresholds: {
    checks: ["rate==1"],
    e2e_latency_ms: ["p(95)<250"],
    media_frames_received: ["count>0"],
  },
};

const e2eLatency = new Trend("e2e_latency_ms", true);
const published = new Counter("media_bytes_published");
const received = new Counter("media_bytes_received");
const framesReceived = new Counter("media_frames_received");

const MEDIA_URL = `${TARGET.replace(/^http/, "ws")}/v1/media`;

/** FNV-1a of the stream id (ASCII here), the frame header's stream hash. */
function streamHash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i) & 0xff;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** One frame: the 32-byte little-endian header (protocol/media.ts) and a quiet PCM payload. */
function frame(hash: number, seq: number, first: boolean): ArrayBuffer {
  const payload = SAMPLES * 2;
  const buf = new ArrayBuffer(HEADER + payload);
  const v = new DataView(buf);
  v.setUint8(0, 0x4b); // magic "K"
  v.setUint8(1, 1); // version
  v.setUint8(2, first ? 1 : 0); // DISCONTINUITY on the first frame
  v.setUint8(3, 0); // PCM s16le
  v.setUint32(4, hash, true);
  v.setUint32(8, seq >>> 0, true);
  v.setFloat64(12, Date.now() * 1000, true); // capture time, µs since the epoch
  v.setUint32(20, SAMPLE_RATE, true);
  v.setUint32(24, payload, true);
  v.setUint8(28, 1); // mono
  return buf;
}

interface Reply {
  type: string;
  code?: number;
}

/** A socket logged in to `room` as `user`; resolves once login_ok came (or rejects with the error). */
function connect(user: string, room: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(MEDIA_URL);
    ws.binaryType = "arraybuffer";
    let ready = false;
    ws.addEventListener("open", () => {
      ws.send(
        JSON.stringify({
          type: "login",
          room_id: room,
          user_id: user,
          app_id: Number(APP_ID),
          app_sign: APP_SIGN,
        }),
      );
    });
    ws.addEventListener("message", (e) => {
      if (ready || !("data" in e) || typeof e.data !== "string") return;
      const m = JSON.parse(e.data) as Reply;
      if (m.type === "login_ok") {
        ready = true;
        resolve(ws);
      } else if (m.type === "error") reject(new Error(`login of ${user}: ${e.data}`));
    });
    ws.addEventListener("error", (e) => {
      if (!ready) reject(new Error(`media socket of ${user}: ${"error" in e ? e.error : "error"}`));
    });
  });
}

/** Sends `msg` and resolves with the reply of type `ok` (rejects on an error reply). */
function ask(ws: WebSocket, msg: object, ok: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = false;
    ws.addEventListener("message", (e) => {
      if (done || !("data" in e) || typeof e.data !== "string") return;
      const m = JSON.parse(e.data) as Reply;
      if (m.type === ok) {
        done = true;
        resolve();
      } else if (m.type === "error") {
        done = true;
        reject(new Error(`${JSON.stringify(msg)}: ${e.data}`));
      }
    });
    ws.send(JSON.stringify(msg));
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export default async function media(): Promise<void> {
  // exec.vu.idInTest, not __VU: unique over every instance of a segmented run.
  const vu = exec.vu.idInTest;
  const room = `${PREFIX}-room${vu}-${__ITER}`;
  const stream = `${PREFIX}_v${vu}_${__ITER}`;
  const publisher = await connect(`${PREFIX}-v${vu}`, room);
  await ask(publisher, { type: "publish", stream_id: stream }, "publish_ok");

  const players: WebSocket[] = [];
  const got: number[] = [];
  for (let k = 0; k < PLAYERS; k++) {
    const p = await connect(`${PREFIX}-v${vu}-p${k}`, room);
    const n = k;
    got.push(0);
    p.addEventListener("message", (e) => {
      if (!("data" in e) || typeof e.data === "string") return;
      const data = e.data as ArrayBuffer;
      const v = new DataView(data);
      e2eLatency.add(Date.now() - v.getFloat64(12, true) / 1000);
      received.add(data.byteLength);
      framesReceived.add(1);
      got[n]!++;
    });
    await ask(p, { type: "play", stream_id: stream }, "play_ok");
    players.push(p);
  }

  // Real-time pace: one frame per 20 ms for SECONDS.
  const hash = streamHash(stream);
  const total = Math.round((SECONDS * 1000) / FRAME_MS);
  let seq = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const f = frame(hash, seq, seq === 0);
      publisher.send(f);
      published.add(f.byteLength);
      seq++;
      if (seq >= total) {
        clearInterval(timer);
        resolve();
      }
    }, FRAME_MS);
  });
  await sleep(200); // the last frames' relay
  check(got, { "every player received most frames": (g) => g.every((n) => n >= total * 0.9) });
  for (const p of players) p.close();
  publisher.close();
}
