import { randomBytes } from "node:crypto";
import {
  RETRYABLE_SERVER_API_CODES,
  type ServerApiAction,
  type ServerApiData,
  type ServerApiEnvelope,
  type ServerApiParams,
  SIGNATURE_VERSION,
  serverApiSignature,
} from "../../protocol/server-api.ts";

// How a partner backend should call the vendor's server-side KTV REST API (`GET /?Action=...`):
//
// - Signing: every attempt gets a fresh SignatureNonce and Timestamp and its own Signature, lowercase hex
//   md5(AppId + SignatureNonce + ServerSecret + Timestamp) ("每次调用接口都需要生成新的签名").
// - Clock skew: the server refuses a Timestamp more than 10 minutes from its own clock (100000004). The answer
//   carries the server's clock in its HTTP Date header, so on 100000004 the client takes the offset from it,
//   keeps it for every later call, re-signs and tries once more. A second 100000004, or none Date header to
//   learn from, is the caller's problem (their clock or a proxy), reported as is. Skew under 10 minutes is
//   never corrected: the server accepts it, and a Date header only has whole seconds.
// - Retry: 320000002 (over the QPS) and 320050002 (system busy), HTTP 5xx answers that are not the API's
//   envelope, timeouts and connection failures are retried with capped exponential backoff and "equal
//   jitter": with cap = min(maxDelayMs, baseDelayMs * 2^(n-1)), delay = cap/2 + random(0, cap/2); at most
//   `maxAttempts` attempts in all. Why not full jitter (random(0, cap)): the vendor counts its 200/s in whole
//   seconds, so a refused backend must wait into the next second, and full jitter may draw near-zero waits
//   until the budget is spent inside the same second. The fixed half guarantees 125 + 250 + 500 + 1000 =
//   1875 ms over the default four retries, past any second boundary; the random half still spreads a fleet
//   refused in the same second instead of having them retry in lock step. Every request is a GET that reads,
//   so retrying is always safe.
// - Never retried: signature errors (100000005: a wrong secret stays wrong), illegal params, invalid ids,
//   vendor errors; the other system errors (320050000/3/4) ask for the vendor's support, not a retry.

export interface ServerApiClientOptions {
  /** The API's base URL: https://ktv-api.zego.im or the simulator's, e.g. http://127.0.0.1:7400 */
  baseUrl: string;
  appId: number;
  /** The app's 32-character ServerSecret (the one that also signs its token04 tokens). */
  serverSecret: string;
  /** The UserId common param (required by the vendor). */
  userId: string;
  roomId?: string;
  /** VendorId common param; default 0 (left out of the query). */
  vendorId?: number;
  /** Attempts per call in all, first included (default 5). */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Per-attempt timeout (default 10 s). */
  timeoutMs?: number;
  // Seams for tests and simulations: the clock (ms), the wait, the jitter source, the nonce.
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  nonce?: () => string;
  fetch?: typeof fetch;
}

/** Per-call overrides of the common params. */
export interface CallOptions {
  userId?: string;
  roomId?: string;
  vendorId?: number;
}

/** One call's outcome, success or not, with what it took. */
export interface CallResult<T> {
  envelope: ServerApiEnvelope<T> | null;
  /** HTTP status of the last attempt (0: no answer). */
  status: number;
  attempts: number;
  /** Time waited between attempts, ms. */
  backoffMs: number;
  /** Why the last attempt had no envelope (timeout, connection refused, a non-JSON body). */
  transportError?: string;
}

export class ServerApiCallError extends Error {
  constructor(
    readonly action: string,
    /** The API's Code, or 0 when no envelope came back (see transportError). */
    readonly code: number,
    message: string,
    readonly requestId: string | undefined,
    readonly attempts: number,
    readonly transportError?: string,
  ) {
    super(`${action}: ${code ? `${code} ` : ""}${message}`);
    this.name = "ServerApiCallError";
  }
}

const DEFAULTS = { maxAttempts: 5, baseDelayMs: 250, maxDelayMs: 2000, timeoutMs: 10_000 };

export class ServerApiClient {
  /** What the client adds to its own clock to get the server's (learned from a 100000004 answer), ms. */
  clockOffsetMs = 0;
  private readonly o: Required<
    Pick<ServerApiClientOptions, "maxAttempts" | "baseDelayMs" | "maxDelayMs" | "timeoutMs">
  > &
    ServerApiClientOptions;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly nonce: () => string;
  private readonly fetch: typeof fetch;

  constructor(options: ServerApiClientOptions) {
    if (!Number.isInteger(options.appId) || options.appId < 1 || options.appId > 0xffffffff) {
      throw new RangeError("appId must be a non-zero uint32");
    }
    if (options.serverSecret.length !== 32) throw new RangeError("serverSecret must be 32 characters");
    if (options.userId === "") throw new RangeError("userId must not be empty");
    this.o = { ...DEFAULTS, ...options };
    if (!(this.o.maxAttempts >= 1)) throw new RangeError("maxAttempts must be at least 1");
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = options.random ?? Math.random;
    this.nonce = options.nonce ?? (() => randomBytes(8).toString("hex"));
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  /** The signed URL of one attempt (fresh nonce and Timestamp). */
  url(action: string, params: ServerApiParams = {}, call: CallOptions = {}): string {
    const ts = Math.floor((this.now() + this.clockOffsetMs) / 1000);
    const nonce = this.nonce();
    const q = new URLSearchParams({
      Action: action,
      AppId: String(this.o.appId),
      SignatureNonce: nonce,
      Timestamp: String(ts),
      Signature: serverApiSignature(this.o.appId, nonce, this.o.serverSecret, ts),
      SignatureVersion: SIGNATURE_VERSION,
      UserId: call.userId ?? this.o.userId,
    });
    const room = call.roomId ?? this.o.roomId;
    if (room !== undefined) q.append("RoomId", room);
    const vendor = call.vendorId ?? this.o.vendorId;
    if (vendor !== undefined) q.append("VendorId", String(vendor));
    for (const [k, v] of Object.entries(params)) {
      if (Array.isArray(v)) for (const x of v) q.append(`${k}[]`, String(x));
      else q.append(k, String(v));
    }
    return `${this.o.baseUrl.replace(/\/+$/, "")}/?${q}`;
  }

  /** Equal jitter over a capped exponential: the wait before attempt `n + 1` after `n` failed ones. */
  backoff(n: number): number {
    const cap = Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** (n - 1));
    return Math.floor(cap / 2 + this.random() * (cap / 2));
  }

  /** Calls an action with retries; never throws for API or transport failures (see `call`). */
  async attempt<A extends ServerApiAction>(
    action: A,
    params: ServerApiParams = {},
    call: CallOptions = {},
  ): Promise<CallResult<ServerApiData[A]>> {
    let attempts = 0;
    let backoffMs = 0;
    let skewRetried = false;
    for (;;) {
      attempts++;
      const one = await this.once<ServerApiData[A]>(this.url(action, params, call));
      const result: CallResult<ServerApiData[A]> = { ...one, attempts, backoffMs };
      const code = one.envelope?.Code;
      if (code === 100000004 && !skewRetried && one.serverDateMs !== undefined) {
        // Re-sign against the server's clock right away: waiting would not bring the clocks closer.
        skewRetried = true;
        this.clockOffsetMs = one.serverDateMs - this.now();
        if (attempts < this.o.maxAttempts) continue;
      }
      const retryable =
        one.envelope === null
          ? one.status === 0 || one.status >= 500
          : RETRYABLE_SERVER_API_CODES.includes(one.envelope.Code);
      if (!retryable || attempts >= this.o.maxAttempts) return result;
      const wait = this.backoff(attempts);
      backoffMs += wait;
      await this.sleep(wait);
    }
  }

  /** Calls an action and answers its Data; throws ServerApiCallError for a non-zero Code or no answer. */
  async call<A extends ServerApiAction>(
    action: A,
    params: ServerApiParams = {},
    call: CallOptions = {},
  ): Promise<ServerApiData[A]> {
    const r = await this.attempt(action, params, call);
    const e = r.envelope;
    if (e && e.Code === 0 && e.Data !== null) return e.Data;
    if (e) throw new ServerApiCallError(action, e.Code, e.Message, e.RequestId, r.attempts);
    throw new ServerApiCallError(
      action,
      0,
      `no answer (${r.transportError ?? `HTTP ${r.status}`})`,
      undefined,
      r.attempts,
      r.transportError,
    );
  }

  private async once<T>(url: string): Promise<{
    envelope: ServerApiEnvelope<T> | null;
    status: number;
    serverDateMs?: number;
    transportError?: string;
  }> {
    let res: Response;
    try {
      res = await this.fetch(url, { signal: AbortSignal.timeout(this.o.timeoutMs) });
    } catch (e) {
      return { envelope: null, status: 0, transportError: (e as Error).message };
    }
    const date = Date.parse(res.headers.get("date") ?? "");
    const serverDateMs = Number.isFinite(date) ? date : undefined;
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      return { envelope: null, status: res.status, serverDateMs, transportError: (e as Error).message };
    }
    const envelope = parseEnvelope<T>(text);
    if (!envelope) {
      return {
        envelope: null,
        status: res.status,
        serverDateMs,
        transportError: `not the API's envelope: ${text.slice(0, 80)}`,
      };
    }
    return { envelope, status: res.status, serverDateMs };
  }
}

function parseEnvelope<T>(text: string): ServerApiEnvelope<T> | null {
  let x: unknown;
  try {
    x = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof x !== "object" || x === null) return null;
  const e = x as Record<string, unknown>;
  if (!Number.isInteger(e.Code) || typeof e.Message !== "string" || typeof e.RequestId !== "string")
    return null;
  return {
    Code: e.Code as number,
    Message: e.Message,
    RequestId: e.RequestId,
    Data: (e.Data ?? null) as T | null,
  };
}
