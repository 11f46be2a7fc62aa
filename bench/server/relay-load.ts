import { build } from "hdr-histogram-js";
import { WebSocket } from "ws";
import {
  Codec,
  encodeFrame,
  MAX_FRAME_BYTES,
  MEDIA_PATH,
  nowMicros,
  streamHash,
} from "../../protocol/media.ts";

// The load of the media relay case (bench/cases/media-relay.ts), in its own process: rooms of one publisher and
// L players over real WebSockets, black-box (the simulator's documented media protocol, or the bare relay's
// one-line role message). Commands on stdin, one JSON answer per line on stdout:
//   connect N          have N rooms connected (publisher logged in and publishing, players playing), 8 rooms
//                      at a time
//   probe P SECONDS [SETTLE_MS]
//                      P publishers send a 10 ms PCM frame (48 kHz stereo, 1,952 bytes) every 10 ms, staggered
//                      over the period; after SETTLE_MS (default 500) of settling, frames captured during SECONDS count: relay lag
//                      = receipt time - the capture time in the frame header (one clock: this process), lost =
//                      never received within 0.15 s of the window. Answers offered/delivered frames/s and lag percentiles.
//   quit
// Usage: relay-load.ts sim|bare URL LISTENERS
// RELAY_LOAD_OPUS=1 sends what a pipeline VU publishes instead (rooms-250): a 160-byte Opus packet every 20 ms.

const [kind, baseUrl, listenersArg] = process.argv.slice(2);
if ((kind !== "sim" && kind !== "bare") || !baseUrl || !listenersArg) {
  console.error("usage: relay-load.ts sim|bare URL LISTENERS");
  process.exit(2);
}
const LISTENERS = Number(listenersArg);
const APP = { app_id: 1000000001, app_sign: "0123456789abcdef".repeat(4) };
const OPUS = process.env.RELAY_LOAD_OPUS === "1";
const PERIOD_MS = OPUS ? 20 : 10;
const PAYLOAD = new Uint8Array(OPUS ? 160 : 480 * 2 * 2).map((_, i) => (i * 31) & 255);

interface Room {
  stream: string;
  hash: number;
  pub: WebSocket;
  seq: number;
}

const rooms: Room[] = [];
let window = { from: Number.POSITIVE_INFINITY, to: Number.POSITIVE_INFINITY };
const hist = build({
  lowestDiscernibleValue: 1,
  highestTrackableValue: 60_000_000,
  numberOfSignificantValueDigits: 3,
});
let received = 0;
let lastError: string | null = null;

function open(): Promise<WebSocket> {
  const ws = new WebSocket(baseUrl!.replace(/^http/, "ws") + (kind === "sim" ? MEDIA_PATH : "/"), {
    perMessageDeflate: false,
  });
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

let reqSeq = 0;
/** Sends a control message and waits for its answer (the simulator's reply echoing req_id, the bare relay's ok). */
function ask(ws: WebSocket, msg: Record<string, unknown>, expect: string): Promise<void> {
  const req_id = `q${++reqSeq}`;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${expect} within 10 s`)), 10_000);
    const on = (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      const m = JSON.parse(data.toString()) as { type?: string; req_id?: string; ok?: boolean };
      if (kind === "bare" ? m.ok : m.req_id === req_id) {
        clearTimeout(timer);
        ws.off("message", on);
        if (kind === "sim" && m.type !== expect) reject(new Error(`expected ${expect}, got ${data}`));
        else resolve();
      }
    };
    ws.on("message", on);
    ws.send(JSON.stringify(kind === "sim" ? { ...msg, req_id } : msg));
  });
}

async function join(room: string, user: string): Promise<WebSocket> {
  const ws = await open();
  if (kind === "sim") await ask(ws, { type: "login", room_id: room, user_id: user, ...APP }, "login_ok");
  return ws;
}

function listen(ws: WebSocket): void {
  ws.on("close", (code: number) => {
    lastError = `a player's socket closed ${code}`;
  });
  ws.on("message", (data: Buffer, isBinary: boolean) => {
    if (!isBinary) return;
    const now = nowMicros();
    const captured = data.readDoubleLE(12);
    if (captured < window.from || captured >= window.to) return;
    received++;
    hist.recordValue(Math.max(1, Math.round(now - captured)));
  });
}

/** Room r: its publisher logged in and publishing, its LISTENERS players playing. */
async function openRoom(r: number): Promise<Room> {
  const stream = `bench-${r}`;
  const pub = await join(`relay-${r}`, `singer-${r}`);
  await ask(pub, kind === "sim" ? { type: "publish", stream_id: stream } : { publish: stream }, "publish_ok");
  // A frame the relay refuses is answered with an error message: kept, so a step that delivered nothing says why.
  pub.on("message", (data: Buffer, isBinary: boolean) => {
    if (!isBinary && data.includes('"error"')) lastError = data.toString().slice(0, 200);
  });
  pub.on("close", (code: number) => {
    lastError = `publisher ${r} closed ${code}`;
  });
  await Promise.all(
    Array.from({ length: LISTENERS }, async (_, i) => {
      const ws = await join(`relay-${r}`, `fan-${r}-${i}`);
      await ask(ws, kind === "sim" ? { type: "play", stream_id: stream } : { play: stream }, "play_ok");
      listen(ws);
    }),
  );
  return { stream, hash: streamHash(stream), pub, seq: 0 };
}

/** Connecting is set-up, never inside a step's window: 8 rooms at a time (one by one took seconds at 64). */
async function connect(n: number): Promise<void> {
  while (rooms.length < n) {
    const base = rooms.length;
    const batch = Math.min(8, n - base);
    rooms.push(...(await Promise.all(Array.from({ length: batch }, (_, k) => openRoom(base + k)))));
  }
}

// One buffer for every send: ws copies a Buffer it is given into the masked frame before send() returns.
const out = Buffer.allocUnsafe(MAX_FRAME_BYTES);

function send(room: Room): number {
  const captureUs = nowMicros();
  const n = encodeFrame(
    out,
    {
      flags: 0,
      codec: OPUS ? Codec.Opus : Codec.PcmS16le,
      streamHash: room.hash,
      seq: room.seq++,
      captureUs,
      sampleRate: 48_000,
      channels: 2,
    },
    PAYLOAD,
  );
  room.pub.send(out.subarray(0, n), { binary: true });
  return captureUs;
}

async function probe(p: number, seconds: number, settleMs: number) {
  await connect(p);
  hist.reset();
  received = 0;
  lastError = null;
  const active = rooms.slice(0, p);
  const t0 = performance.now();
  const due = active.map((_, i) => t0 + (i * PERIOD_MS) / p);
  const fromUs = nowMicros() + settleMs * 1000;
  window = { from: fromUs, to: fromUs + seconds * 1e6 };
  let sentInWindow = 0;
  const endAt = t0 + settleMs + seconds * 1000;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      for (let i = 0; i < active.length; i++) {
        while (due[i]! <= now && due[i]! < endAt) {
          const c = send(active[i]!);
          if (c >= window.from && c < window.to) sentInWindow++;
          due[i]! += PERIOD_MS;
        }
      }
      if (now >= endAt) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  // Stragglers: a frame later than this is far past the 20 ms bound. Were > 1% of the window's frames lost by
  // this cut (only the last 150 ms of captures can be), > 1% would lag > 150 ms and the p99 fail the step anyway.
  await new Promise((r) => setTimeout(r, 150));
  window = { from: Number.POSITIVE_INFINITY, to: Number.POSITIVE_INFINITY };
  const expected = sentInWindow * LISTENERS;
  return {
    rooms: p,
    listeners: LISTENERS,
    offered_fps: (p * LISTENERS * 1000) / PERIOD_MS,
    delivered_fps: received / seconds,
    expected,
    received,
    p50_us: hist.getValueAtPercentile(50),
    p99_us: received > 0 ? hist.getValueAtPercentile(99) : null,
    ...(lastError ? { last_error: lastError } : {}),
  };
}

let queue = Promise.resolve();
let buf = "";
process.stdin.on("data", (c: Buffer) => {
  buf += c.toString();
  let nl = buf.indexOf("\n");
  while (nl >= 0) {
    const line = buf.slice(0, nl).trim();
    buf = buf.slice(nl + 1);
    nl = buf.indexOf("\n");
    queue = queue.then(async () => {
      const [cmd, a, b, c] = line.split(/\s+/);
      try {
        if (cmd === "connect") {
          await connect(Number(a));
          process.stdout.write(`${JSON.stringify({ connected: rooms.length })}\n`);
        } else if (cmd === "probe") {
          const settle = c === undefined ? 500 : Number(c);
          if (!(Number(a) >= 1 && Number(b) > 0 && settle >= 0)) throw new Error(`bad probe: ${line}`);
          process.stdout.write(`${JSON.stringify(await probe(Number(a), Number(b), settle))}\n`);
        } else if (cmd === "quit") {
          for (const ws of [...rooms.map((r) => r.pub)]) ws.terminate();
          process.exit(0);
        } else throw new Error(`unknown command ${line}`);
      } catch (e) {
        process.stdout.write(`${JSON.stringify({ error: (e as Error).message })}\n`);
      }
    });
  }
});
