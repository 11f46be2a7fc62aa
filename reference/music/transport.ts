import { type Envelope, isEnvelope } from "../../protocol/envelope.ts";
import { vendorRouteIndex } from "../../protocol/vendor-routes.ts";
import { ZegoError } from "../errors.ts";
import { defaultRequest, type HttpAnswer, type HttpRequest } from "./http.ts";
import { backoffDelay, parseRetryAfter, type RetryPolicy, retryPolicy } from "./retry.ts";

// The one way the reference client talks to the vendor API: auth headers, a timeout on every attempt, the
// envelope parsed and checked, and transient failures retried with bounded backoff. What may be retried
// depends on the call's `delivery`:
//
//   "idempotent"  reads and searches: retried on any transient failure (no answer, 429, 5xx, 1017097/1017098).
//   "once"        requestResource (every call bills once) and getSharedResource (one free fetch per user):
//                 retried ONLY when the first attempt provably did not take effect, i.e.
//                   - the connection was never established (ECONNREFUSED, connect timeout, DNS: nothing was
//                     sent), or
//                   - the server answered with an error envelope (429/5xx or code 1017097/1017098): the vendor
//                     reports a non-zero code only when nothing was billed or issued.
//                 An attempt that was sent but got no answer (reset, timeout, dropped connection) is NOT
//                 retried: it may have billed. The caller gets 1017098 and decides with the user.

export type Delivery = "idempotent" | "once";

export type TokenProvider = () => string | Promise<string>;

/** pino-compatible subset; the default logs nothing (a library does not write to stdout on its own). */
export interface Logger {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export const silentLogger: Logger = { warn() {}, debug() {} };

export interface TransportOptions {
  /** The simulator, e.g. http://127.0.0.1:7400 */
  baseUrl: string;
  appId: number;
  /** 64 hex chars; or use `token`. */
  appSign?: string;
  /** token04 per request (called each time, so a provider can renew). */
  token?: TokenProvider;
  /**
   * Token mode: the vendor refused the token as expired (1002078). Renew the credentials the `token` provider
   * hands out (the app re-mints and calls renewToken) and resolve true to send the call once more with the new
   * token, false to give the caller the refusal. Called at most once per call: a refusal is no effect, so even a
   * billable ("once") call may be sent again.
   */
  onTokenExpired?: (code: number) => Promise<boolean>;
  /** Per attempt, for JSON calls (default 10 s). */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /**
   * A WHATWG fetch to send every request (vendor calls and downloads) through: a test's stub, an app's
   * instrumented fetch. Absent: undici's request() on the thread's shared Agent, or the global fetch when an
   * interceptor replaced it (looked up per call, so test interceptors installed later apply): see http.ts.
   */
  fetch?: typeof fetch;
  /** The HTTP exchange itself (http.ts), instead of `fetch`: e.g. undiciRequest(aDispatcher). */
  request?: HttpRequest;
  /**
   * Told of every piece of a download's body as it arrives (resumes and cut attempts included), before it is
   * checked or written: the exact bytes the client pulled from the CDN.
   */
  onDownloadBytes?: (n: number) => void;
  logger?: Logger;
}

export interface VendorRequest {
  method: "GET" | "POST";
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  delivery: Delivery;
  session?: string;
  signal?: AbortSignal;
}

export interface VendorAnswer<T = unknown> {
  status: number;
  envelope: Envelope<T>;
  /** The response body exactly as received (the SDK hands some results to the app as JSON strings). */
  text: string;
}

type Attempt =
  | { kind: "answer"; answer: VendorAnswer; retryAfterMs: number | undefined }
  | { kind: "no-answer"; neverSent: boolean; error: unknown }
  | { kind: "unusable"; status: number; why: string };

/** Error codes of a connect phase that failed: the request bytes never left this host. */
const CONNECT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/** True when a fetch failure provably happened before anything was sent (see the header). */
export function neverSent(err: unknown): boolean {
  // Walk cause chains and AggregateError members (happy-eyeballs tries several addresses); bounded depth.
  const stack: unknown[] = [err];
  for (let i = 0; i < 16 && stack.length > 0; i++) {
    const e = stack.pop();
    if (typeof e !== "object" || e === null) continue;
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && CONNECT_CODES.has(code)) return true;
    const cause = (e as { cause?: unknown }).cause;
    if (cause !== undefined) stack.push(cause);
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors)) stack.push(...errors.slice(0, 8));
  }
  return false;
}

/** The vendor's "token expired" (spec §5, 1002078): renewable, unlike the other token refusals. */
export const TOKEN_EXPIRED = 1002078;

/** Transient by HTTP status or vendor code: worth another attempt after a pause. */
export function isTransient(status: number, code: number): boolean {
  return status === 429 || status >= 500 || code === 1017097 || code === 1017098;
}

/** How one attempt ended: a success answer, an error answer (status or vendor code), or no whole answer. */
export const ATTEMPT_OK = 0;
export const ATTEMPT_ERROR = 1;
export const ATTEMPT_NO_ANSWER = 2;
export type AttemptOutcome = typeof ATTEMPT_OK | typeof ATTEMPT_ERROR | typeof ATTEMPT_NO_ANSWER;

/**
 * Told of every attempt, retries included, the transport and the download make: the route (an index into
 * protocol/vendor-routes.ts VENDOR_ROUTES), how it ended, and how long it took (ms, to the end of the body).
 * Numbers only, so an observer that counts into arrays allocates nothing per request. "No answer" means the
 * request may or may not have reached the vendor (a timeout, a reset, a cut body, the caller's abort).
 */
export type VendorAttemptObserver = (route: number, outcome: AttemptOutcome, ms: number) => void;

// One per thread: a load-test worker installs its counters once and every client it runs reports to them.
let threadObserver: VendorAttemptObserver | null = null;

/** Installs (or, with null, removes) this thread's observer of vendor attempts. */
export function observeVendorAttempts(observer: VendorAttemptObserver | null): void {
  threadObserver = observer;
}

/** Reports one attempt to this thread's observer, if any (for code that calls the vendor without `call`). */
export function reportVendorAttempt(route: number, outcome: AttemptOutcome, ms: number): void {
  if (threadObserver !== null && route >= 0) threadObserver(route, outcome, ms);
}

function outcomeOf(a: Attempt): AttemptOutcome {
  if (a.kind === "no-answer") return ATTEMPT_NO_ANSWER;
  if (a.kind === "unusable") return ATTEMPT_ERROR;
  return a.answer.status < 300 && a.answer.envelope.code === 0 ? ATTEMPT_OK : ATTEMPT_ERROR;
}

export class VendorTransport {
  readonly baseUrl: string;
  readonly appId: number;
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  readonly logger: Logger;
  private readonly appSign: string | undefined;
  private readonly token: TokenProvider | undefined;
  private readonly onTokenExpired: TransportOptions["onTokenExpired"];
  /** The HTTP exchange every request of this client goes through (vendor calls and downloads). */
  readonly http: HttpRequest;
  readonly onDownloadBytes: ((n: number) => void) | undefined;

  constructor(o: TransportOptions) {
    const url = new URL(o.baseUrl);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new RangeError(`baseUrl must be http(s), got ${o.baseUrl}`);
    }
    this.baseUrl = o.baseUrl.replace(/\/+$/, "");
    this.appId = o.appId;
    this.appSign = o.appSign;
    this.token = o.token;
    this.onTokenExpired = o.onTokenExpired;
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.retry = retryPolicy(o.retry);
    this.http = o.request ?? defaultRequest(o.fetch);
    this.onDownloadBytes = o.onDownloadBytes;
    this.logger = o.logger ?? silentLogger;
  }

  /** Whether an app sign or a token provider was configured (initCopyrightedMusic needs one: 1017009). */
  get hasCredentials(): boolean {
    return (this.appSign !== undefined && this.appSign !== "") || this.token !== undefined;
  }

  url(path: string, query?: Record<string, string>): string {
    const qs = query ? `?${new URLSearchParams(query).toString()}` : "";
    return `${this.baseUrl}${path}${qs}`;
  }

  async headers(session?: string): Promise<Record<string, string>> {
    const h: Record<string, string> = { "x-app-id": String(this.appId) };
    if (this.token) h.authorization = `Bearer ${await this.token()}`;
    else if (this.appSign) h["x-app-sign"] = this.appSign;
    if (session) h["x-session"] = session;
    return h;
  }

  /**
   * One vendor call with the retry rules of the header. Resolves to the envelope the server answered (a
   * vendor error code included); rejects with ZegoError 1017098 when no answer came, 1017010 when the answer
   * was not a vendor envelope, or the caller's abort reason.
   */
  async call<T = unknown>(req: VendorRequest): Promise<VendorAnswer<T>> {
    const p = this.retry;
    let renewed = false;
    for (let attempt = 0; ; attempt++) {
      const a = await this.attempt(req);
      if (!renewed && this.token && a.kind === "answer" && a.answer.envelope.code === TOKEN_EXPIRED) {
        renewed = true;
        if (await this.renewAfterExpiry(a.answer.envelope.code)) {
          attempt--; // the expiry was the credentials', not the service's: no transient attempt used
          continue;
        }
      }
      const retryable =
        a.kind === "answer"
          ? isTransient(a.answer.status, a.answer.envelope.code)
          : a.kind === "no-answer"
            ? req.delivery === "idempotent" || a.neverSent
            : req.delivery === "idempotent" && a.status >= 500;
      const delay =
        retryable && attempt + 1 < p.maxAttempts
          ? backoffDelay(attempt, p, a.kind === "answer" ? a.retryAfterMs : undefined)
          : null;
      if (delay === null) return settle<T>(a);
      this.logger.warn(
        { path: req.path, attempt: attempt + 1, delay_ms: delay, ...describe(a) },
        "vendor call failed, retrying",
      );
      await p.sleep(delay, req.signal);
    }
  }

  /**
   * The app's renewal after a refusal with 1002078 (`onTokenExpired`); false without one or when it failed.
   * Also for the download (download.ts), whose requests the token authenticates too.
   */
  async renewAfterExpiry(code: number): Promise<boolean> {
    if (!this.onTokenExpired) return false;
    try {
      return await this.onTokenExpired(code);
    } catch (err) {
      this.logger.warn({ code, err: errorText(err) }, "token renewal after an expired-token refusal failed");
      return false;
    }
  }

  private async attempt(req: VendorRequest): Promise<Attempt> {
    req.signal?.throwIfAborted();
    if (threadObserver === null) return this.send(req);
    const route = vendorRouteIndex(req.path, (req.body as { command?: unknown } | undefined)?.command);
    const t0 = performance.now();
    try {
      const a = await this.send(req);
      reportVendorAttempt(route, outcomeOf(a), performance.now() - t0);
      return a;
    } catch (err) {
      // The caller's abort while the request was out: it may have reached the vendor.
      reportVendorAttempt(route, ATTEMPT_NO_ANSWER, performance.now() - t0);
      throw err;
    }
  }

  private async send(req: VendorRequest): Promise<Attempt> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    const headers = await this.headers(req.session);
    let body: string | undefined;
    if (req.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(req.body);
    }
    let res: HttpAnswer;
    let text: string;
    try {
      res = await this.http(this.url(req.path, req.query), { method: req.method, headers, body, signal });
      text = await res.text();
    } catch (error) {
      // The caller's own abort is not a network failure: let it through untouched.
      if (req.signal?.aborted) throw req.signal.reason;
      return { kind: "no-answer", neverSent: neverSent(error), error };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { kind: "unusable", status: res.status, why: `HTTP ${res.status}: body is not JSON` };
    }
    if (!isEnvelope(parsed)) {
      return { kind: "unusable", status: res.status, why: `HTTP ${res.status}: not a vendor envelope` };
    }
    return {
      kind: "answer",
      answer: { status: res.status, envelope: parsed, text },
      retryAfterMs: parseRetryAfter(res.header("retry-after")),
    };
  }
}

function settle<T>(a: Attempt): VendorAnswer<T> {
  if (a.kind === "answer") return a.answer as VendorAnswer<T>;
  if (a.kind === "no-answer") throw new ZegoError(1017098, errorText(a.error));
  throw new ZegoError(1017010, a.why);
}

function describe(a: Attempt): object {
  if (a.kind === "answer") return { status: a.answer.status, code: a.answer.envelope.code };
  if (a.kind === "no-answer") return { error: errorText(a.error), never_sent: a.neverSent };
  return { status: a.status, why: a.why };
}

export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
  return `${err.message}${cause}`;
}
