import http, { type Agent, type ClientRequest, type IncomingMessage } from "node:http";
import https from "node:https";
import type { Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { parseDuration } from "../load/duration.ts";
import { sharedModuleProto, UnsupportedApiError, unsupported } from "./errors.ts";
import type { Tags } from "./metrics.ts";
import { sampleTags, type VuState } from "./vu-state.ts";

// k6/http for one VU: http.asyncRequest (and its method shortcuts' async forms are not in k6, so only it) over
// Node's http/https with a keep-alive agent per VU (k6 keeps a connection pool per VU too). The response has
// k6's shape (status, headers with canonical names, body by responseType, json(), timings, error, error_code)
// and each request emits k6's samples: http_reqs, http_req_duration and its phases, http_req_failed (by
// expectedStatuses, 200-399 by default), data_sent, data_received, tagged method, url, name, status,
// expected_response, group, scenario and the request's own tags.
//
// The synchronous calls (http.get, http.post, ...) block k6's VU until the answer; here every VU shares one
// event loop, so they cannot be offered and fail loudly, pointing at http.asyncRequest. Phases are taken from
// the socket's events: blocked = until a socket is assigned, connecting = TCP connect of a new socket,
// tls_handshaking = TLS of a new socket, sending = until the request is flushed, waiting = to the response
// head, receiving = to the end of the body. Bytes are the socket's own counters before and after, so headers
// count as they do in k6.

type Body = string | ArrayBuffer | ArrayBufferView | Record<string, unknown> | null | undefined;

interface Params {
  headers?: Record<string, string>;
  tags?: Tags;
  timeout?: string | number;
  responseType?: "text" | "binary" | "none";
  responseCallback?: ExpectedStatuses;
  redirects?: number;
  [other: string]: unknown;
}

interface ExpectedStatuses {
  readonly ktvExpected: (status: number) => boolean;
}

const SUPPORTED_PARAMS = new Set([
  "headers",
  "tags",
  "timeout",
  "responseType",
  "responseCallback",
  "redirects",
]);
const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_EXPECTED: ExpectedStatuses = { ktvExpected: (s) => s >= 200 && s <= 399 };

/** Go's canonical header name, as k6's res.headers has it: content-type -> Content-Type. */
export function canonicalHeader(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_, d: string, c: string) => d + c.toUpperCase());
}

function bodyBytes(body: Body): Buffer | null {
  if (body === null || body === undefined) return null;
  if (typeof body === "string") return Buffer.from(body);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (typeof body === "object") {
    // k6 sends an object as a form (application/x-www-form-urlencoded); file parts are multipart, not here.
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(body)) {
      if (typeof v === "object" && v !== null)
        throw new UnsupportedApiError("http: multipart bodies (http.file)");
      form.append(k, String(v));
    }
    return Buffer.from(form.toString());
  }
  return Buffer.from(String(body));
}

export interface K6Response {
  status: number;
  status_text: string;
  proto: string;
  url: string;
  headers: Record<string, string>;
  body: string | ArrayBuffer | null;
  error: string;
  error_code: number;
  timings: Record<string, number>;
  remote_ip: string;
  remote_port: number;
  request: { method: string; url: string; headers: Record<string, string[]>; body: string };
  json(selector?: string): unknown;
}

/** The per-VU http module's own closer (a symbol: esbuild's interop copies own string-named members only). */
export const CLOSE_HTTP = Symbol("close k6/http");

function expectedStatuses(...list: (number | { min: number; max: number })[]): ExpectedStatuses {
  for (const x of list)
    if (
      typeof x !== "number" &&
      (typeof x !== "object" || x === null || typeof x.min !== "number" || typeof x.max !== "number")
    )
      throw new Error("http.expectedStatuses takes status numbers or {min, max} ranges");
  return {
    ktvExpected: (s) => list.some((x) => (typeof x === "number" ? s === x : s >= x.min && s <= x.max)),
  };
}

/** What every VU's k6/http shares: everything but asyncRequest and setResponseCallback. */
const HTTP_PROTO = sharedModuleProto("k6/http", {
  expectedStatuses,
  request: sync("request"),
  get: sync("get"),
  post: sync("post"),
  put: sync("put"),
  patch: sync("patch"),
  del: sync("del"),
  head: sync("head"),
  options: sync("options"),
  batch: unsupported("http.batch()", "issue http.asyncRequest calls and await Promise.all"),
  file: unsupported("http.file()"),
  cookieJar: unsupported("http.cookieJar()"),
  url: unsupported("http.url``"),
});

const PROTOCOLS = new Set(["http:", "https:"]);

/**
 * k6/http for one VU: its own asyncRequest and setResponseCallback over the shared members. Its keep-alive
 * agents (k6 keeps a connection pool per VU) are made on the first request of their scheme: a VU that only
 * speaks http never builds the https agent and its TLS session cache.
 */
export function createHttpModule(vu: VuState): { [CLOSE_HTTP](): void } & Record<string, unknown> {
  let plain: Agent | null = null;
  let secure: Agent | null = null;
  let callback: ExpectedStatuses = DEFAULT_EXPECTED;

  function asyncRequest(
    method: string,
    url: string,
    body?: Body,
    params?: Params | null,
  ): Promise<K6Response> {
    if (vu.init)
      throw new Error("http.asyncRequest cannot be called in the init context (k6 refuses it too)");
    const p = params ?? {};
    for (const k of Object.keys(p))
      if (!SUPPORTED_PARAMS.has(k)) throw new UnsupportedApiError(`http params.${k}`);
    if (p.redirects !== undefined && p.redirects !== 0)
      throw new UnsupportedApiError("http params.redirects (following redirects)", "set redirects: 0");
    const u = new URL(typeof url === "string" ? url : String(url));
    if (!PROTOCOLS.has(u.protocol)) throw new UnsupportedApiError(`http: the ${u.protocol} scheme`);
    let agent: Agent;
    if (u.protocol === "https:") {
      secure ??= new https.Agent({ keepAlive: true });
      agent = secure;
    } else {
      plain ??= new http.Agent({ keepAlive: true });
      agent = plain;
    }
    const timeout =
      p.timeout === undefined
        ? DEFAULT_TIMEOUT_MS
        : (parseDuration(p.timeout) as number) || DEFAULT_TIMEOUT_MS;
    const payload = bodyBytes(body);
    const headers: Record<string, string> = { "user-agent": "ktv-k6/0.1 (k6-compatible)" };
    for (const [k, v] of Object.entries(p.headers ?? {})) headers[k.toLowerCase()] = String(v);
    if (
      payload &&
      headers["content-type"] === undefined &&
      typeof body === "object" &&
      !ArrayBuffer.isView(body) &&
      !(body instanceof ArrayBuffer)
    )
      headers["content-type"] = "application/x-www-form-urlencoded";
    if (payload) headers["content-length"] = String(payload.length);
    const responseType = p.responseType ?? "text";
    const expected = p.responseCallback ?? callback;
    const m = method.toUpperCase();
    const signal = vu.signal;

    return new Promise<K6Response>((resolve, reject) => {
      const t0 = performance.now();
      let tSocket = t0;
      let tConnectStart = -1;
      let tConnected = -1;
      let tSecure = -1;
      let tSent = -1;
      let tHead = -1;
      let sock: Socket | null = null;
      let written0 = 0;
      let read0 = 0;
      let settled = false;
      const chunks: Buffer[] = [];
      let res: IncomingMessage | null = null;

      const req: ClientRequest = (u.protocol === "https:" ? https : http).request(u, {
        method: m,
        headers,
        agent,
        signal,
      });
      // k6's timeout bounds the whole request (connect to the body's end), not the socket's idle time.
      const timer = setTimeout(() => {
        const e = Object.assign(new Error("request timeout"), { code: "ETIMEDOUT" });
        req.destroy(e);
        (res as IncomingMessage | null)?.destroy(e);
      }, timeout);
      req.on("socket", (s: Socket) => {
        sock = s;
        tSocket = performance.now();
        written0 = s.bytesWritten;
        read0 = s.bytesRead;
        if (s.connecting) {
          tConnectStart = tSocket;
          s.once("connect", () => {
            tConnected = performance.now();
          });
          s.once("secureConnect", () => {
            tSecure = performance.now();
          });
        }
      });
      req.on("finish", () => {
        tSent = performance.now();
      });
      req.on("response", (r) => {
        res = r;
        tHead = performance.now();
        if (responseType === "none") r.resume();
        else r.on("data", (c: Buffer) => chunks.push(c));
        r.on("end", () => finish(null));
        r.on("error", (e) => finish(e));
      });
      req.on("error", (e) => finish(e));
      req.end(payload ?? undefined);

      function finish(err: Error | null): void {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (signal.aborted) {
          reject(signal.reason instanceof Error ? signal.reason : new Error("iteration interrupted"));
          return;
        }
        const tEnd = performance.now();
        const connectEnd = tConnected >= 0 ? tConnected : tSocket;
        const secureEnd = tSecure >= 0 ? tSecure : connectEnd;
        const sentAt = tSent >= 0 ? tSent : secureEnd;
        const headAt = tHead >= 0 ? tHead : tEnd;
        const timings = {
          blocked: Math.max(0, (tConnectStart >= 0 ? tConnectStart : tSocket) - t0),
          connecting: tConnectStart >= 0 && tConnected >= 0 ? tConnected - tConnectStart : 0,
          tls_handshaking: tSecure >= 0 ? tSecure - connectEnd : 0,
          sending: Math.max(0, sentAt - secureEnd),
          waiting: Math.max(0, headAt - sentAt),
          receiving: Math.max(0, tEnd - headAt),
          duration: 0,
        };
        timings.duration = timings.sending + timings.waiting + timings.receiving;
        const s = sock as Socket | null;
        const sent = s ? s.bytesWritten - written0 : 0;
        const received = s ? s.bytesRead - read0 : 0;
        const r = res as IncomingMessage | null;
        const status = err ? 0 : (r?.statusCode ?? 0);
        const resHeaders: Record<string, string> = {};
        if (r && !err)
          for (const [k, v] of Object.entries(r.headers))
            resHeaders[canonicalHeader(k)] = Array.isArray(v) ? v.join(", ") : String(v ?? "");
        const buf = Buffer.concat(chunks);
        const errorCode = err ? errorCodeOf(err) : 0;
        const response: K6Response = {
          status,
          status_text: r && !err ? `${status} ${r.statusMessage ?? ""}`.trim() : "",
          proto: r && !err ? `HTTP/${r.httpVersion}` : "",
          url: u.href,
          headers: resHeaders,
          body:
            err || responseType === "none"
              ? null
              : responseType === "binary"
                ? buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)
                : buf.toString("utf8"),
          error: err ? err.message : "",
          error_code: errorCode,
          timings,
          remote_ip: s?.remoteAddress ?? "",
          remote_port: s?.remotePort ?? 0,
          request: {
            method: m,
            url: u.href,
            headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [canonicalHeader(k), [v]])),
            body: payload ? payload.toString("utf8") : "",
          },
          json(selector?: string) {
            if (selector !== undefined)
              throw new UnsupportedApiError("Response.json(selector)", "parse and index the result instead");
            if (typeof response.body !== "string")
              throw new Error("the response has no text body to parse as JSON (responseType)");
            return JSON.parse(response.body);
          },
        };
        for (const fn of ["html", "submitForm", "clickLink"])
          (response as unknown as Record<string, unknown>)[fn] = unsupported(`Response.${fn}()`);
        emit(vu, m, u, p.tags, status, errorCode, expected.ktvExpected(status), timings, sent, received, r);
        resolve(response);
      }
    });
  }

  const mod = Object.create(HTTP_PROTO) as { [CLOSE_HTTP](): void } & Record<string, unknown>;
  mod.asyncRequest = asyncRequest;
  mod.setResponseCallback = (cb: ExpectedStatuses | null): void => {
    callback = cb ?? { ktvExpected: () => true };
  };
  mod[CLOSE_HTTP] = () => {
    plain?.destroy();
    secure?.destroy();
  };
  return mod;
}

function sync(name: string) {
  return unsupported(
    `http.${name}() (synchronous)`,
    `every VU shares one event loop here: use await http.asyncRequest("${name === "del" ? "DELETE" : name === "request" ? "<METHOD>" : name.toUpperCase()}", ...)`,
  );
}

function errorCodeOf(err: Error): number {
  // k6's error codes (docs: k6 error codes): 1050 request timeout, 1210 connection refused, 1000 the rest.
  const code = (err as { code?: string }).code;
  if (code === "ETIMEDOUT") return 1050;
  if (code === "ECONNREFUSED") return 1212;
  if (code === "ECONNRESET") return 1220;
  return 1000;
}

function emit(
  vu: VuState,
  method: string,
  u: URL,
  reqTags: Tags | undefined,
  status: number,
  errorCode: number,
  expected: boolean,
  t: Record<string, number>,
  sent: number,
  received: number,
  res: IncomingMessage | null,
): void {
  const url = u.href;
  const tags = sampleTags(vu, {
    method,
    url,
    name: url,
    status: String(status),
    expected_response: String(expected),
    proto: res ? `HTTP/${res.httpVersion}` : "",
    ...(errorCode ? { error_code: String(errorCode) } : {}),
    ...reqTags,
  });
  const r = vu.registry;
  r.add("http_reqs", 1, tags);
  r.add("http_req_duration", t.duration!, tags);
  r.add("http_req_blocked", t.blocked!, tags);
  r.add("http_req_connecting", t.connecting!, tags);
  r.add("http_req_tls_handshaking", t.tls_handshaking!, tags);
  r.add("http_req_sending", t.sending!, tags);
  r.add("http_req_waiting", t.waiting!, tags);
  r.add("http_req_receiving", t.receiving!, tags);
  r.add("http_req_failed", expected ? 0 : 1, tags);
  const dataTags = sampleTags(vu);
  if (sent > 0) r.add("data_sent", sent, dataTags);
  if (received > 0) r.add("data_received", received, dataTags);
}
