import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import fc from "fast-check";
import { isEnvelope } from "../../protocol/envelope.ts";

// What the fuzz files share: how many cases each runs, fast-check driven in parallel batches, the simulator's
// error log, heap after a real GC, and the "vendor's envelope" check.
//
// Budget: CI runs 10^4 cases in all, split between the files by SHARE below; `KTV_FUZZ_RUNS=100000` runs that
// many in all, in the same proportions (`npm run fuzz:long`). The cases are cheap because every file starts one
// simulator, talks to it over a few keep-alive connections, and sends a batch of cases at once (one fast-check
// run = one batch, so a failure still shrinks to the request that broke it).

/** Each file's part of the total (they add up to 1). */
export const SHARE = {
  routes: 0.42,
  serverApi: 0.2,
  admin: 0.13,
  media: 0.2,
  wire: 0.05,
} as const;

export const CI_TOTAL = 10_000;

export function totalCases(): number {
  const env = process.env.KTV_FUZZ_RUNS;
  if (env === undefined || env === "") return CI_TOTAL;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 100)
    throw new Error(`KTV_FUZZ_RUNS must be an integer >= 100, got "${env}"`);
  return n;
}

/** A test's timeout: its CI figure, stretched in proportion for the long form. */
export function timeoutFor(ciMs: number): number {
  return Math.round(ciMs * Math.max(1, totalCases() / CI_TOTAL));
}

/** The cases one file runs: its share of the total, a whole number of batches. */
export function casesFor(part: keyof typeof SHARE, batch: number): number {
  return Math.max(batch, Math.round((totalCases() * SHARE[part]) / batch) * batch);
}

/** A fixed seed per file (reproducible CI), or KTV_FUZZ_SEED to explore. */
export function seedFor(fileSeed: number): number {
  const env = process.env.KTV_FUZZ_SEED;
  return env ? Number(env) + fileSeed : fileSeed;
}

/**
 * Runs `cases` cases of `arb` through `check`, `batch` at a time concurrently. A failing batch shrinks like any
 * fast-check array (down to the one case that fails); the error names the seed to replay it with.
 */
export async function runBatches<T>(
  arb: fc.Arbitrary<T>,
  o: { cases: number; batch: number; seed: number },
  check: (c: T, index: number) => Promise<void>,
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.array(arb, { minLength: o.batch, maxLength: o.batch }), async (batch) => {
      // Settle the whole batch before failing: a case still in flight must not overlap the next (shrinking) run.
      const settled = await Promise.allSettled(batch.map((c, i) => check(c, i)));
      for (const r of settled) if (r.status === "rejected") throw r.reason;
    }),
    { numRuns: Math.ceil(o.cases / o.batch), seed: o.seed, endOnFailure: false },
  );
}

/**
 * Collects the simulator's pino lines at level error or above (an "unexpected error" the server caught, a media
 * message that threw): the fuzzers assert it stays empty, which catches a crash the answer itself hides.
 */
export function errorLog(): { stream: { write(line: string): void }; lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    stream: {
      write(line: string) {
        // pino writes one JSON object per line; level 50 = error, 60 = fatal.
        const m = /"level":(\d+)/.exec(line);
        if (m && Number(m[1]) >= 50) lines.push(line.slice(0, 2000));
      },
    },
  };
}

let gcFn: (() => void) | undefined;
/** A full GC (the flag is set at run time, so no test process needs --expose-gc). */
function gc(): void {
  if (!gcFn) {
    setFlagsFromString("--expose-gc");
    gcFn = runInNewContext("gc") as () => void;
  }
  gcFn();
}

/** Heap used after full GCs, bytes (two passes: the first frees what finalizers the second collects). */
export async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().heapUsed;
}

/**
 * The heap bound of a fuzz file: after a warm-up (first batches: code paths compiled, caches and pools filled),
 * heap after GC may grow by at most `fixed` bytes plus `perCase` bytes per later case (state the simulator keeps
 * on purpose: sessions, resources, rooms). Returns a message when exceeded, else null.
 */
export function heapGrowthProblem(
  warm: number,
  end: number,
  cases: number,
  bound: { fixed: number; perCase: number },
): string | null {
  const limit = bound.fixed + bound.perCase * cases;
  const grew = end - warm;
  return grew <= limit
    ? null
    : `heap after GC grew ${(grew / 1e6).toFixed(2)} MB over ${cases} cases (bound ${(limit / 1e6).toFixed(2)} MB = ${bound.fixed / 1e6} MB + ${bound.perCase} B/case)`;
}

/** Non-JSON answers the simulator gives on purpose: audio, the metrics text, the docs page, the fault events (NDJSON), an empty body. */
const NON_JSON_OK = /^(audio\/wav|text\/plain; version=0\.0\.4|text\/html|text\/plain|application\/x-ndjson)/;

/**
 * Why an HTTP answer is not in the vendor's form, or null: a status below 500, a JSON body that is the SDK
 * envelope (or, for the server API on `/`, its PascalCase envelope), or one of the known non-JSON bodies.
 */
export function answerProblem(
  a: { status: number; headers: Record<string, string | string[] | undefined>; text: string },
  o: { serverApi?: boolean; method?: string } = {},
): string | null {
  if (a.status >= 500) return `status ${a.status}`;
  const type = String(a.headers["content-type"] ?? "");
  // A HEAD answer carries the GET answer's headers and no body.
  if (a.text === "" && (a.status === 304 || a.status === 204 || o.method === "HEAD")) return null;
  if (type.startsWith("application/json")) {
    let body: unknown;
    try {
      body = JSON.parse(a.text);
    } catch {
      return `JSON content type, body not JSON: ${a.text.slice(0, 200)}`;
    }
    if (isEnvelope(body)) return null;
    if (o.serverApi && isServerApiEnvelope(body)) return null;
    // /healthz ({ok}) and /openapi.json answer their own documented JSON.
    if (typeof body === "object" && body !== null && ("ok" in body || "openapi" in body)) return null;
    return `not an envelope: ${a.text.slice(0, 300)}`;
  }
  if (NON_JSON_OK.test(type)) return null;
  return `unexpected content-type "${type}" on ${a.status}: ${a.text.slice(0, 200)}`;
}

export function isServerApiEnvelope(x: unknown): boolean {
  if (typeof x !== "object" || x === null) return false;
  const e = x as Record<string, unknown>;
  return (
    Object.keys(e).join() === "Code,Message,RequestId,Data" &&
    Number.isInteger(e.Code) &&
    typeof e.Message === "string" &&
    typeof e.RequestId === "string" &&
    (e.Code === 0 ? e.Data !== null : e.Data === null)
  );
}

/** CPU seconds this process spent since `from` (process.cpuUsage()), user + system. */
export function cpuSeconds(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1e6;
}

/** Printable ASCII without CR/LF (a header value undici will send as is). */
export const headerValue = fc
  .string({ maxLength: 60, unit: "binary-ascii" })
  .map((s) => s.replace(/[^\x20-\x7e]/g, "").trim());
