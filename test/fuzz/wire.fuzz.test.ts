import { connect } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Simulator } from "../../simulator/app.ts";
import { DEV_APP } from "../../simulator/options.ts";
import { testSimulator } from "../sim.ts";
import { answerProblem, casesFor, cpuSeconds, errorLog, runBatches, seedFor, timeoutFor } from "./harness.ts";

// Malformed HTTP/1.1 on a raw socket, the requests no HTTP client library will send: broken request lines,
// bad versions, headers without colons or with NULs, conflicting Content-Length, chunked bodies with bad sizes
// and oversized chunk extensions (413), headers over node's limit (431), optionally behind a good pipelined
// request, and always followed by a good request. Every answer on the wire is a whole HTTP response in the
// vendor's envelope below 500; when the server closes the connection, it first answered (no silent drop) and
// its last answer said `Connection: close`; the pipelined good request before the bad one is answered whole.

const BATCH = 10;
const CASES = casesFor("wire", BATCH);
const WAIT_MS = 3_000;

const log = errorLog();
let sim: Simulator;
let port: number;

beforeAll(async () => {
  sim = await testSimulator({ logLevel: "error", logStream: log.stream, bodyLimit: 16 * 1024 });
  port = Number(new URL(sim.url).port);
});
afterAll(async () => {
  await sim?.close();
});

const SENTINEL = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
const GOOD = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-First: 1\r\n\r\n";
const AUTH = `X-App-Id: ${DEV_APP.app_id}\r\nX-App-Sign: ${DEV_APP.app_sign}\r\n`;

const bytes = (max: number) => fc.string({ maxLength: max, unit: "binary-ascii" });
const method = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("GET", "POST", "PUT", "HEAD", "DELETE") },
  { weight: 1, arbitrary: fc.constantFrom("get", "G ET", "", "P\u0000ST", "PRI", "X".repeat(300)) },
  { weight: 1, arbitrary: bytes(10).filter((m) => m.toUpperCase() !== "CONNECT") },
);
const target = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      "/v1/music/init",
      "/healthz",
      "/v1/music/extended",
      "/admin/ledger",
      "/?Action=DescribeTags",
      "/v1/music/download/r1",
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "*",
      "http://127.0.0.1/healthz",
      "",
      "/a b",
      "/%",
      "/\u0001",
      `/${"p".repeat(20_000)}`,
    ),
  },
  { weight: 1, arbitrary: bytes(30).map((s) => `/${s}`) },
);
const version = fc.oneof(
  { weight: 5, arbitrary: fc.constant("HTTP/1.1") },
  fc.constantFrom("HTTP/1.0", "HTTP/2.0", "HTTP/1.x", "HTTP/9.9", "http/1.1", "", "HTTP/1.1 extra"),
);
const header = fc.oneof(
  fc.constantFrom(
    "Host: 127.0.0.1",
    "Host: evil.example",
    "Content-Type: application/json",
    "Content-Type: text/plain",
    "Connection: keep-alive",
    "Connection: close",
    "Origin: http://evil.example",
    "X-Ktv-Admin: 1",
    "Expect: 100-continue",
    "Upgrade: websocket",
    "NoColonHere",
    "Bad Name: x",
    "X-Nul: a\u0000b",
    " Folded: x",
    "X-Obs: a\r\n continued",
    "Content-Length: 5",
    "Content-Length: -1",
    "Content-Length: 1, 2",
    "Transfer-Encoding: gzip",
    `X-Huge: ${"h".repeat(20_000)}`,
  ),
  fc
    .tuple(fc.stringMatching(/^[A-Za-z-]{1,12}$/), bytes(40))
    .map(([k, v]) => `${k}: ${v.replace(/[\r\n]/g, "")}`),
);
const body = fc.oneof(
  fc.constant(null),
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
  fc.constantFrom('{"user_id":"wire"}', "{", ""),
);
const framing = fc.constantFrom(
  "length",
  "length",
  "chunked",
  "chunked-bad-size",
  "chunked-huge-ext",
  "none",
);

const wireCase = fc.record({
  pipelinedFirst: fc.boolean(),
  auth: fc.boolean(),
  method,
  target,
  version,
  headers: fc.array(header, { maxLength: 5 }),
  manyHeaders: fc.oneof({ weight: 20, arbitrary: fc.constant(false) }, fc.constant(true)),
  body,
  framing,
});
type WireCase = ReturnType<typeof wireCase.generate>["value"];

function requestBytes(c: WireCase): string {
  let head = `${c.method} ${c.target}${c.version ? ` ${c.version}` : ""}\r\n`;
  // Without Host, node itself answers an HTTP/1.1 request 400 with an empty body (see the known gap below).
  if (!c.headers.some((h) => /^host:/i.test(h)) && !(c as { noHost?: boolean }).noHost)
    head += "Host: 127.0.0.1\r\n";
  if (c.auth) head += AUTH;
  for (const h of c.headers) head += `${h}\r\n`;
  if (c.manyHeaders) for (let i = 0; i < 3000; i++) head += `X-H${i}: ${i}\r\n`;
  const b = c.body ?? "";
  switch (c.framing) {
    case "length":
      return `${head}Content-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}`;
    case "chunked":
      return `${head}Transfer-Encoding: chunked\r\n\r\n${b ? `${Buffer.byteLength(b).toString(16)}\r\n${b}\r\n` : ""}0\r\n\r\n`;
    case "chunked-bad-size":
      return `${head}Transfer-Encoding: chunked\r\n\r\nzz\r\n${b}\r\n0\r\n\r\n`;
    case "chunked-huge-ext":
      return `${head}Transfer-Encoding: chunked\r\n\r\n1;ext=${"e".repeat(20_000)}\r\nx\r\n0\r\n\r\n`;
    default:
      return `${head}\r\n`;
  }
}

interface Parsed {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** Splits what the server wrote into whole responses; `rest` is an unfinished tail (a cut response). */
function parseResponses(raw: Buffer, headRequests: boolean[]): { responses: Parsed[]; rest: number } {
  const out: Parsed[] = [];
  let at = 0;
  while (at < raw.length) {
    const end = raw.indexOf("\r\n\r\n", at);
    if (end < 0) break;
    const lines = raw.subarray(at, end).toString("latin1").split("\r\n");
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "")?.[1] ?? Number.NaN);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(":");
      headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    let bodyStart = end + 4;
    // An interim answer (100 Continue): no body, and the final answer follows.
    if (status >= 100 && status < 200) {
      at = bodyStart;
      continue;
    }
    let text = "";
    // A HEAD answer has no body, unless the request never parsed (a client error answered before it had a
    // method): then the envelope follows, and the connection closes right after it.
    const len = Number(headers["content-length"] ?? 0);
    const clientError = raw.length === end + 4 + len && headers.connection?.toLowerCase() === "close";
    const isHead = headRequests[out.length] === true && !clientError;
    if (isHead || status === 304 || status === 204) {
      // no body
    } else if (headers["transfer-encoding"] === "chunked") {
      let p = bodyStart;
      const parts: Buffer[] = [];
      for (;;) {
        const le = raw.indexOf("\r\n", p);
        if (le < 0) return { responses: out, rest: raw.length - at };
        const size = Number.parseInt(raw.subarray(p, le).toString("latin1"), 16);
        if (size === 0) {
          p = le + 4;
          break;
        }
        parts.push(raw.subarray(le + 2, le + 2 + size));
        p = le + 2 + size + 2;
      }
      text = Buffer.concat(parts).toString("utf8");
      bodyStart = p;
    } else {
      if (raw.length < bodyStart + len) return { responses: out, rest: raw.length - at };
      text = raw.subarray(bodyStart, bodyStart + len).toString("utf8");
      bodyStart += len;
    }
    out.push({ status, headers, text });
    at = bodyStart;
  }
  return { responses: out, rest: raw.length - at };
}

/** Sends one case; the problems seen (empty when the server behaved). */
function exchange(c: WireCase): Promise<{ problems: string[]; statuses: number[] }> {
  const bad = requestBytes(c);
  const payload = (c.pipelinedFirst ? GOOD : "") + bad + SENTINEL;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = connect(port, "127.0.0.1");
    let serverClosed = false;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      s.destroy();
    }, WAIT_MS);
    const heads = c.pipelinedFirst ? [false, c.method === "HEAD"] : [c.method === "HEAD"];
    const done = () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks);
      const { responses, rest } = parseResponses(raw, heads);
      const problems: string[] = [];
      for (const [i, r] of responses.entries()) {
        if (!Number.isFinite(r.status))
          problems.push(`unparseable status line in ${raw.toString("latin1").slice(0, 200)}`);
        const p = answerProblem(
          { status: r.status, headers: r.headers, text: r.text },
          { serverApi: true, method: heads[i] ? "HEAD" : "GET" },
        );
        if (p) problems.push(p);
      }
      if (rest > 0 && !timedOut) problems.push(`a response cut short: ${raw.toString("latin1").slice(-200)}`);
      if (c.pipelinedFirst && (responses[0]?.status !== 200 || !responses[0]?.text.includes('"ok"'))) {
        problems.push(
          `the good request before the bad one was not answered first and whole: ${raw.toString("latin1").slice(0, 300)}`,
        );
      }
      const answered = responses.length - (c.pipelinedFirst ? 1 : 0);
      if (serverClosed) {
        if (answered < 1) problems.push("connection dropped without an answer to the bad request");
        const last = responses.at(-1);
        if (last && last.headers.connection?.toLowerCase() !== "close") {
          problems.push(`closed after a ${last.status} that did not say Connection: close`);
        }
      }
      resolve({
        problems: problems.map((p) => `${p} | request: ${JSON.stringify(bad.slice(0, 300))}`),
        statuses: responses.map((r) => r.status),
      });
    };
    s.on("data", (d: Buffer) => {
      chunks.push(d);
      // The sentinel answered: the server kept the connection and understood the rest. Done.
      const raw = Buffer.concat(chunks).toString("latin1");
      if (
        raw.endsWith('{"ok":true}') &&
        (raw.match(/HTTP\/1\.1 /g)?.length ?? 0) >= 1 + (c.pipelinedFirst ? 1 : 0) + 1
      ) {
        s.end();
      }
    });
    s.on("end", () => {
      serverClosed = !s.writableEnded;
    });
    s.on("error", () => {});
    s.on("close", done);
    s.on("connect", () => s.write(payload));
  });
}

describe(`fuzz: ${CASES} malformed HTTP requests on raw sockets`, () => {
  it(
    "every answer whole and in the envelope, Connection: close before any close, no silent drop",
    async () => {
      const cpu0 = process.cpuUsage();
      const statuses = new Map<number, number>();
      await runBatches(wireCase, { cases: CASES, batch: BATCH, seed: seedFor(41) }, async (c) => {
        const r = await exchange(c);
        expect(r.problems).toEqual([]);
        for (const st of r.statuses) statuses.set(st, (statuses.get(st) ?? 0) + 1);
      });
      console.log(
        `fuzz wire: ${CASES} cases, ${cpuSeconds(cpu0).toFixed(2)} s CPU (simulator + client), statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`,
      );
      // Malformed (400), oversized headers (431) and chunk extensions (413) were all reached.
      for (const st of [200, 400, 413, 431])
        expect(statuses.get(st), `status ${st} never seen`).toBeGreaterThan(0);
      expect(log.lines, log.lines.join("\n")).toEqual([]);
      const health = await fetch(`${sim.url}/healthz`);
      expect(health.status).toBe(200);
    },
    timeoutFor(120_000),
  );
});

const plain = (o: Partial<WireCase>): WireCase =>
  ({
    pipelinedFirst: false,
    auth: false,
    method: "GET",
    target: "/healthz",
    version: "HTTP/1.1",
    headers: [],
    manyHeaders: false,
    body: null,
    framing: "none",
    ...o,
  }) as WireCase;

// Two answers node:http would give before Fastify sees the request (the fuzzer found both): a Host-less
// HTTP/1.1 request (node's requireHostHeader: 400 with an empty body) and CONNECT (no 'connect' listener: the
// socket destroyed without a word). simulator/app.ts answers both in the envelope and closes.
describe("answered in the envelope, not by node:http", () => {
  it("an HTTP/1.1 request without Host: 400 in the envelope, Connection: close", async () => {
    const r = await exchange({ ...plain({}), noHost: true } as WireCase);
    expect(r.problems).toEqual([]);
    expect(r.statuses).toEqual([400]);
  });
  it("an HTTP/1.0 request without Host is served", async () => {
    const r = await exchange({ ...plain({ version: "HTTP/1.0" }), noHost: true } as WireCase);
    expect(r.problems).toEqual([]);
    expect(r.statuses[0]).toBe(200);
  });
  it("a CONNECT request: 405 in the envelope, Connection: close", async () => {
    const r = await exchange(plain({ method: "CONNECT", target: "127.0.0.1:443" }));
    expect(r.problems).toEqual([]);
    expect(r.statuses).toEqual([405]);
  });
});
