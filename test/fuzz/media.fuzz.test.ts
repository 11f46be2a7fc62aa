import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import {
  Codec,
  encodeFrame,
  FRAME_HEADER_BYTES,
  MAX_FRAME_BYTES,
  MEDIA_PATH,
  nowMicros,
  parseServerMessage,
  streamHash,
} from "../../protocol/media.ts";
import type { Simulator } from "../../simulator/app.ts";
import type { MediaHub } from "../../simulator/media/hub.ts";
import { DEV_APP } from "../../simulator/options.ts";
import { testSimulator } from "../sim.ts";
import {
  casesFor,
  cpuSeconds,
  errorLog,
  heapAfterGc,
  heapGrowthProblem,
  runBatches,
  seedFor,
  timeoutFor,
} from "./harness.ts";

// The media WebSocket: sockets that each send a random script of control messages (well-formed ones over a
// small pool of rooms, users and streams, so logins collide, streams are taken and players wait; and junk: not
// JSON, wrong types, unknown fields, oversized strings, invalid UTF-8) and binary frames (valid ones on
// published streams, corrupt headers, truncated, over the size limit). Every text message the server sends is a
// documented server message; every control message gets exactly one answer unless the socket is closed, and then
// only with a close code that says why (kicked after a `kicked`, too big, bad UTF-8); no answer is an internal
// error (1002099); nothing at error level in the log; heap flat after a warm-up; still serving at the end.

const SOCKETS_PER_BATCH = 8;
// A case is one message; a socket sends up to 10 (6 on average with its login), counted as 6 here.
const MESSAGES_PER_SOCKET = 6;
const CASES = casesFor("media", SOCKETS_PER_BATCH * MESSAGES_PER_SOCKET);
const SOCKETS = CASES / MESSAGES_PER_SOCKET;
const ANSWER_MS = 5_000;

const log = errorLog();
let sim: Simulator;

beforeAll(async () => {
  sim = await testSimulator({ logLevel: "error", logStream: log.stream });
});
afterAll(async () => {
  await sim?.close();
});

/** The media hub (the context types it as its reset seam only). */
const hub = () => sim.ctx.media as unknown as MediaHub;

const ROOMS = ["fz-r1", "fz-r2", "fz-r3"];
const USERS = ["fz-u1", "fz-u2", "fz-u3", "fz-u4", "fz-u5", "fz-u6"];
const STREAMS = ["fz-s1", "fz-s2", "fz-s3", "fz-s4"];
const str = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom("", "a".repeat(5000), "bad id!", "\u0000") },
);
const reqId = fc.oneof(fc.constant(undefined), fc.integer(), fc.string({ maxLength: 70 }), fc.constant(1.5));

const login = fc.record({
  type: fc.constant("login"),
  req_id: reqId,
  room_id: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...ROOMS) }, str),
  user_id: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...USERS) }, str),
  app_id: fc.oneof({ weight: 8, arbitrary: fc.constant(DEV_APP.app_id) }, fc.integer()),
  app_sign: fc.oneof({ weight: 8, arbitrary: fc.constant(DEV_APP.app_sign) }, str),
});
const streamMsg = fc.record({
  type: fc.constantFrom("publish", "stop_publish", "play", "stop_play", "get_stream_stats"),
  req_id: reqId,
  stream_id: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...STREAMS) }, str),
});
const other = fc.oneof(
  fc.record({
    type: fc.constant("logout"),
    req_id: reqId,
    room_id: fc.option(fc.constantFrom(...ROOMS), { nil: undefined }),
  }),
  fc.record({ type: fc.constant("ping"), req_id: reqId, t: fc.option(fc.double(), { nil: undefined }) }),
  fc.record({ type: fc.constant("renew_token"), req_id: reqId, token: str }),
);
const junkText = fc.oneof(
  fc.string({ maxLength: 100 }),
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
  fc
    .record({
      type: fc.oneof(fc.string({ maxLength: 12 }), fc.integer()),
      extra: fc.anything({ maxDepth: 1 }),
    })
    .map((v) => JSON.stringify(v)),
  streamMsg.map((m) => JSON.stringify({ ...m, unknown_field: 1 })),
);

type Step =
  | { t: "text"; text: string }
  | { t: "badUtf8" }
  | { t: "frame"; stream: string; seq: number; corrupt: number | null }
  | { t: "bytes"; size: number; fill: number }
  | { t: "tooBig" };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .oneof(login, streamMsg, streamMsg, other)
      .map((m) => ({ t: "text" as const, text: JSON.stringify(m) })),
  },
  { weight: 2, arbitrary: junkText.map((text) => ({ t: "text" as const, text })) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("frame" as const),
      stream: fc.constantFrom(...STREAMS),
      seq: fc.nat(1000),
      corrupt: fc.option(fc.nat(FRAME_HEADER_BYTES - 1), { nil: null }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant("bytes" as const), size: fc.nat(200), fill: fc.nat(255) }),
  },
  { weight: 1, arbitrary: fc.constant({ t: "badUtf8" as const }) },
  { weight: 1, arbitrary: fc.constant({ t: "tooBig" as const }) },
);

const script = fc.record({
  login: fc.option(fc.record({ room: fc.constantFrom(...ROOMS), user: fc.constantFrom(...USERS) }), {
    nil: null,
    freq: 3,
  }),
  steps: fc.array(step, { minLength: 1, maxLength: 9 }),
});
type Script = ReturnType<typeof script.generate>["value"];

const payload = new Uint8Array(960 * 2 * 2); // 20 ms of 48 kHz stereo s16
const frameBuf = new Uint8Array(FRAME_HEADER_BYTES + payload.length);

function frameBytes(s: Extract<Step, { t: "frame" }>): Buffer {
  const n = encodeFrame(
    frameBuf,
    {
      flags: 0,
      codec: Codec.PcmS16le,
      streamHash: streamHash(s.stream),
      seq: s.seq,
      captureUs: nowMicros(),
      sampleRate: 48_000,
      channels: 2,
    },
    payload,
  );
  const b = Buffer.from(frameBuf.subarray(0, n));
  if (s.corrupt !== null) b[s.corrupt] = (b[s.corrupt]! + 0x55) & 0xff;
  return b;
}

// Close codes a socket may end with, and why: kicked (a `kicked` message came first), message too big,
// invalid UTF-8 in a text message.
const CLOSE_OK = new Set([4000, 1009, 1007]);

function isStatsRequest(text: string): boolean {
  try {
    const v = JSON.parse(text);
    return typeof v === "object" && v !== null && !Array.isArray(v) && v.type === "get_stream_stats";
  } catch {
    return false;
  }
}

/** Runs one socket's script; resolves with the problems seen (empty when the socket behaved). */
async function runScript(sc: Script): Promise<string[]> {
  const problems: string[] = [];
  const ws = new WebSocket(sim.url.replace(/^http/, "ws") + MEDIA_PATH, { perMessageDeflate: false });
  let answers = 0;
  const seen: string[] = [];
  let kicked = false;
  let wake: (() => void) | null = null;
  let closeCode: number | null = null;
  ws.on("message", (data, isBinary) => {
    if (isBinary) return;
    const text = data.toString();
    const p = parseServerMessage(text);
    if (!p.ok) {
      problems.push(`undocumented server message: ${text.slice(0, 200)}`);
    } else {
      const m = p.msg;
      if (m.type === "kicked") kicked = true;
      if (m.type === "error" && m.code === 1002099) problems.push(`internal error: ${text.slice(0, 300)}`);
      // Pushed, not answers: notifications, frame-error reports, and the periodic stream_stats a publisher gets
      // (so get_stream_stats and its answers are left out of the count).
      const notification =
        m.type === "kicked" || m.type.startsWith("room_") || m.type === "token_will_expire";
      const stats = m.type === "stream_stats" || (m.type === "error" && m.op === "get_stream_stats");
      if (!notification && !stats && !(m.type === "error" && m.op === "frame")) answers++;
      seen.push(text.slice(0, 160));
    }
    wake?.();
  });
  const closed = new Promise<void>((resolve) =>
    ws.on("close", (code) => {
      closeCode = code;
      wake?.();
      resolve();
    }),
  );
  ws.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  let texts = 0;
  const send = (data: string | Buffer, binary: boolean) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(data, { binary });
  };
  if (sc.login) {
    send(
      JSON.stringify({
        type: "login",
        room_id: sc.login.room,
        user_id: sc.login.user,
        app_id: DEV_APP.app_id,
        app_sign: DEV_APP.app_sign,
      }),
      false,
    );
    texts++;
    send(
      JSON.stringify({ type: "publish", stream_id: STREAMS[USERS.indexOf(sc.login.user) % STREAMS.length] }),
      false,
    );
    texts++;
  }
  let closesIt = false;
  for (const s of sc.steps) {
    if (s.t === "text") {
      send(s.text, false);
      if (!isStatsRequest(s.text)) texts++;
    } else if (s.t === "badUtf8") {
      send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), false);
      closesIt = true;
    } else if (s.t === "frame") send(frameBytes(s), true);
    else if (s.t === "bytes") send(Buffer.alloc(s.size, s.fill), true);
    else {
      send(Buffer.alloc(MAX_FRAME_BYTES + 1), true);
      closesIt = true;
    }
    if (closesIt) break;
  }
  // Every control message is answered (or the socket was closed, for a reason).
  const deadline = performance.now() + ANSWER_MS;
  while (answers < texts && closeCode === null && performance.now() < deadline) {
    await new Promise<void>((r) => {
      const t = setTimeout(r, 50);
      wake = () => {
        clearTimeout(t);
        r();
      };
    });
    wake = null;
  }
  if (closeCode === null && !closesIt) {
    if (answers !== texts)
      problems.push(
        `${texts} control messages, ${answers} answers within ${ANSWER_MS} ms: ${seen.join(" | ")}`,
      );
    ws.close(1000);
  }
  await closed;
  if (closeCode !== 1000 && closeCode !== 1005) {
    if (!CLOSE_OK.has(closeCode!)) problems.push(`closed with ${closeCode}`);
    if (closeCode === 4000 && !kicked) problems.push("closed 4000 without a kicked message");
    if (!closesIt && closeCode !== 4000) problems.push(`closed with ${closeCode} without a reason sent`);
  }
  return problems;
}

describe(`fuzz: ${CASES} random media WebSocket messages over ${SOCKETS} sockets`, () => {
  it(
    "only documented server messages, one answer per control message, closes with a reason, heap flat",
    async () => {
      const cpu0 = process.cpuUsage();
      const warm = SOCKETS_PER_BATCH * MESSAGES_PER_SOCKET * 5;
      const check = async (sc: Script) => {
        const problems = await runScript(sc);
        expect(problems, JSON.stringify(sc).slice(0, 1500)).toEqual([]);
      };
      await runBatches(
        script,
        { cases: warm / MESSAGES_PER_SOCKET, batch: SOCKETS_PER_BATCH, seed: seedFor(31) },
        check,
      );
      const heapWarm = await heapAfterGc();
      await runBatches(
        script,
        { cases: (CASES - warm) / MESSAGES_PER_SOCKET, batch: SOCKETS_PER_BATCH, seed: seedFor(32) },
        check,
      );
      const heapEnd = await heapAfterGc();
      const cpu = cpuSeconds(cpu0);
      const counters = hub().deps.metrics.counters;
      console.log(
        `fuzz media: ${CASES} messages on ${SOCKETS} sockets, ${cpu.toFixed(2)} s CPU (simulator + client), heap after GC ${(heapWarm / 1e6).toFixed(1)} -> ${(heapEnd / 1e6).toFixed(1)} MB, frames received ${counters.framesReceived}, dropped malformed ${counters.droppedMalformed}, not publisher ${counters.droppedNotPublisher}`,
      );
      expect(log.lines, log.lines.join("\n")).toEqual([]);
      expect(heapGrowthProblem(heapWarm, heapEnd, CASES - warm, { fixed: 4e6, perCase: 300 })).toBeNull();
      // Valid frames were relayed and corrupt ones refused (the generator reaches both paths).
      expect(counters.framesReceived).toBeGreaterThan(0);
      expect(counters.droppedMalformed).toBeGreaterThan(0);
      // No socket left behind, and a fresh one is served.
      expect(hub().peers.size).toBe(0);
      expect(
        await runScript({
          login: { room: "fz-r1", user: "fz-u1" },
          steps: [{ t: "text", text: '{"type":"ping"}' }],
        }),
      ).toEqual([]);
    },
    timeoutFor(180_000),
  );
});
