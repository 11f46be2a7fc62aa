import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { VENDOR_ROUTES, vendorRouteIndex } from "../../protocol/vendor-routes.ts";
import { authenticate } from "../auth/guards.ts";
import type { Session } from "../auth/sessions.ts";
import {
  appServes,
  type ExtendedBody as Body,
  type PageCall,
  pageCall,
  renderPage,
} from "../content/dispatch.ts";
import { okEnvelopeJson, type PageAnswer } from "../content/page-cache.ts";
import { ExtendedBody } from "../content/routes.ts";
import { contentStateOf } from "../content/state.ts";
import { requestStream } from "../faults/engine.ts";
import { routeId } from "../faults/hook.ts";
import { authHeaders } from "../http.ts";
import { envelopeCode } from "../ops/observe.ts";
import { BodyMemo } from "./body-memo.ts";
import { keepPreread, type Preread } from "./preread.ts";
import { plainStringHeaderCheck } from "./string-headers.ts";

// The hot vendor call, POST /v1/music/extended for a cached list page (/top/song, /search/song, /tag/song),
// answered in node:http's own 'request' listener, in front of Fastify. Fastify's per-request pipeline alone
// (request and reply objects, hook runners, the content-type parser, the route context; measured with a one-route
// app, bench/server/min-fastify.ts) costs 1.34-1.36x bare node:http's CPU per request: a ceiling near 0.74x of
// bare node:http's rate, under the 0.8x the simulator is asked for (issue 12).
//
// Same answers by construction: this path serves only the plain success of a request nothing unusual touches,
// and hands every other request to Fastify unchanged. Before the body, anything but the exact route and method,
// `content-type: application/json`, a Host, a content-length within the body limit and no transfer-encoding; a
// log level that writes per-request lines (info and below); a loaded fault profile (any fault: latency, errors,
// outage, revocations, all applied by the fault seam in Fastify's preHandler); a closing server: Fastify's, from
// the first byte. After the body (which is then kept and replayed to Fastify's parser: preread.ts): JSON that
// Fastify's parser might treat otherwise (a BOM, "__proto__"/"constructor", \u escapes: it refuses prototype
// keys), a body or headers the route's own compiled validators refuse, a command that is not a cached page, a
// failed authentication or session check, an app with a request quota, a page check or build that throws: all
// answered by Fastify. Those checks are side-effect free; the first state change (the fault seam's request key,
// the one side effect of Fastify's path before the handler) happens only once the answer is certain, and then in
// Fastify's order: request id at the headers, fault key, page, metrics on 'finish', page answer given back.
// What a body's text alone decides (JSON, body schema, command, params, page key) is kept per text
// (body-memo.ts), and the fault seam's request stream per session and command: a repeated call then costs
// neither the parse and checks nor the key strings, while all that depends on the request still runs.
// simulator/fast-path/differential.test.ts runs one corpus against the simulator with and without this path.

const PATH = "/v1/music/extended";
const ROUTE = routeId("POST", PATH);
const JSON_TYPE = "application/json; charset=utf-8";
const REQUEST_ID = Symbol("ktv.fast-path.request-id");

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
type Validator = (data: unknown) => boolean;
const PENDING = Symbol("ktv.fast-path.pending");
type WithId = IncomingMessage & { [REQUEST_ID]?: string };

/** A request the fast path is reading or answering. */
interface Pending {
  res: ServerResponse;
  id: string;
  /** performance.now() at its headers (the latency metric's start, as Fastify's). */
  start: number;
  chunks: Buffer[];
  settled: boolean;
  answer: PageAnswer | null;
  command: string;
}
type Tracked = WithId & { [PENDING]?: Pending };

/** Fastify's genReqId for a simulator with the fast path: the id the fast path gave at the headers, if any. */
export function requestIdOf(req: IncomingMessage, next: () => string): string {
  return (req as WithId)[REQUEST_ID] ?? next();
}

export interface ExtendedFastPath {
  /** Requests answered here. */
  readonly served: number;
  /** Requests this path read the body of, then handed to Fastify. */
  readonly handedOver: number;
  /** Bodies answered from the body memo (body-memo.ts) rather than parsed and checked again. */
  readonly memoHits: number;
  /** Puts Fastify's own 'request' listener back. */
  uninstall(): void;
}

function closingFlag(app: FastifyInstance): () => boolean {
  const kState = Object.getOwnPropertySymbols(app).find((s) => s.description === "fastify.state");
  const state = kState ? (app as unknown as Record<symbol, { closing?: boolean }>)[kState] : undefined;
  if (!state || typeof state.closing !== "boolean") {
    throw new Error(
      "fast path: Fastify's state (closing flag) not found; this Fastify version is not supported",
    );
  }
  return () => state.closing === true;
}

/** A JSON text Fastify's parser (secure-json-parse) might answer otherwise than JSON.parse. */
function unusualJson(text: string): boolean {
  return (
    text.charCodeAt(0) === 0xfeff ||
    text.includes("proto") ||
    text.includes("constructor") ||
    text.includes("\\u")
  );
}

const header = (h: IncomingHttpHeaders, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * Puts the fast path in front of Fastify on `app.server` (call after app.ready()). `bodyLimit` is Fastify's.
 * Throws when the server does not have exactly one 'request' listener (Fastify's).
 */
export function installExtendedFastPath(
  app: FastifyInstance,
  o: { bodyLimit: number; nextReqId: () => string },
): ExtendedFastPath {
  const { bodyLimit, nextReqId } = o;
  const server = app.server;
  const listeners = server.listeners("request");
  if (listeners.length !== 1)
    throw new Error(`fast path: expected Fastify's one 'request' listener, found ${listeners.length}`);
  const fastify = listeners[0] as Handler;
  const sim = app.sim;
  const { pages, plus, compile } = contentStateOf(sim);
  if (compile === undefined) throw new Error("fast path: the content routes are not registered");
  const { tally, latency } = sim.metrics;
  const closing = closingFlag(app);
  // pino's; Fastify's type leaves it out.
  const log = app.log as typeof app.log & { isLevelEnabled(level: string): boolean };
  // The route's own validators: the same schema objects through the same compiler (and ajv options) Fastify
  // compiled the route with; the headers' by typeof where that answers the same (string-headers.ts).
  const validBody: Validator = compile(ExtendedBody, "body");
  const validHeaders = (plainStringHeaderCheck(authHeaders) ?? compile(authHeaders, "headers")) as Validator;
  // What authenticate() and keyFields() read of a request: its headers and the simulator.
  const server$ = { sim };
  const asRequest = (headers: IncomingHttpHeaders) =>
    ({ headers, server: server$ }) as unknown as FastifyRequest;

  let served = 0;
  let handedOver = 0;

  // Metrics as ops/observe.ts counts them (same keys, labels and order), for the one answer given here: 200 with
  // a page's success envelope (page-cache.ts), whose code is the success code: known here, not read back from
  // each answer's bytes (which cost a latin1 string per request).
  const STATUS = "200";
  const code = envelopeCode(okEnvelopeJson("", Buffer.from("null"))) ?? "";
  const key = `${PATH}\tPOST\t${STATUS}\t${code}`;
  const labels = () => ({ route: PATH, method: "POST", status: STATUS, code });
  // By command (the page commands only: a handful of entries); null for a command with no vendor route.
  const vendorKeys = new Map<
    string,
    { key: string; labels: () => { route: string; status: string } } | null
  >();

  function count(command: string, start: number): void {
    tally.requests.add(key, labels);
    latency.observe(PATH, (performance.now() - start) / 1000);
    let vk = vendorKeys.get(command);
    if (vk === undefined) {
      const v = vendorRouteIndex(PATH, command);
      const route = v >= 0 ? VENDOR_ROUTES[v]! : undefined;
      vk =
        route === undefined
          ? null
          : { key: `${route}\t${STATUS}`, labels: () => ({ route, status: STATUS }) };
      vendorKeys.set(command, vk);
    }
    if (vk !== null) tally.vendorRequests.add(vk.key, vk.labels);
  }

  /** Everything that must hold before the body is read (re-checked after it: the admin API may act meanwhile). */
  function open(): boolean {
    return !closing() && sim.faults.getProfile().faults.length === 0 && !log.isLevelEnabled("info");
  }

  function front(req: IncomingMessage, res: ServerResponse): void {
    const h = req.headers;
    if (
      req.method !== "POST" ||
      req.url !== PATH ||
      h.host === undefined ||
      h["transfer-encoding"] !== undefined
    ) {
      fastify(req, res);
      return;
    }
    const type = h["content-type"];
    const length = Number(h["content-length"]);
    if (
      (type !== "application/json" && type !== "application/json; charset=utf-8") ||
      !(length > 0 && length <= bodyLimit) ||
      !open()
    ) {
      fastify(req, res);
      return;
    }
    // The id Fastify would have given at this moment; it keeps it if the request is handed over.
    const id = nextReqId();
    const r = req as Tracked;
    r[REQUEST_ID] = id;
    const p: Pending = {
      res,
      id,
      start: performance.now(),
      chunks: [],
      settled: false,
      answer: null,
      command: "",
    };
    r[PENDING] = p;
    // Listeners shared by every request (their state is on the request): no closures per request.
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  }

  function onData(this: Tracked, c: Buffer): void {
    this[PENDING]!.chunks.push(c);
  }

  // Settled once: by its end, or by an error or a close before it (then Fastify meets the same).
  function onEnd(this: Tracked): void {
    const p = this[PENDING]!;
    if (p.settled) return;
    p.settled = true;
    if (!serve(this, p)) handOver(this, p.res, { chunks: p.chunks, ended: true });
  }

  function onError(this: Tracked, error: Error): void {
    const p = this[PENDING]!;
    if (p.settled) return;
    p.settled = true;
    handOver(this, p.res, { chunks: p.chunks, ended: false, error });
  }

  function onClose(this: Tracked): void {
    const p = this[PENDING]!;
    if (p.settled) return;
    p.settled = true;
    handOver(this, p.res, { chunks: p.chunks, ended: false });
  }

  function onFinish(this: ServerResponse & { [PENDING]?: Pending }): void {
    const p = this[PENDING]!;
    const answer = p.answer!;
    count(p.command, p.start);
    // As the route's onResponse: given back only once written out and not destroyed.
    if (this.writableFinished && !this.destroyed) pages.release(answer);
  }

  function handOver(req: IncomingMessage, res: ServerResponse, pre: Preread): void {
    handedOver++;
    keepPreread(req, pre);
    fastify(req, res);
  }

  /** What the body's text alone decides (body-memo.ts): the page call and what the metrics need of it. */
  interface Known {
    call: PageCall;
    command: string;
  }
  const memo = new BodyMemo<Known>();
  // The fault seam's request stream of a session's calls of a command (engine.ts requestStream: keyFields'
  // fields of a request with a session), kept with the session: built and hashed once, not twice per request.
  const streams = new WeakMap<Session, Map<string, string>>();
  const streamOf = (session: Session, command: string): string => {
    let m = streams.get(session);
    if (m === undefined) {
      m = new Map();
      streams.set(session, m);
    }
    let stream = m.get(command);
    if (stream === undefined) {
      stream = requestStream({ route: ROUTE, command, app_id: session.app_id, user_id: session.user_id });
      m.set(command, stream);
    }
    return stream;
  };

  /** The body of a text not seen before, when Fastify would accept it as the route's body; else undefined. */
  function parse(text: string): Body | undefined {
    if (unusualJson(text)) return undefined;
    let body: Body;
    try {
      body = JSON.parse(text) as Body;
    } catch {
      return undefined;
    }
    return validBody(body) ? body : undefined;
  }

  function serve(req: IncomingMessage, p: Pending): boolean {
    const { res, chunks } = p;
    if (!open()) return false;
    const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    const same = memo.getBytes(bytes);
    const text = same?.text ?? bytes.toString("utf8");
    let known = same?.value ?? memo.get(text);
    const body = known === undefined ? parse(text) : undefined;
    if (known === undefined && body === undefined) return false;
    if (!validHeaders(req.headers)) return false;
    const asReq = asRequest(req.headers);
    let page: Buffer;
    let session: Session | undefined;
    try {
      // requireSession's checks (guards.ts), without its one state change: an app with a quota goes to Fastify.
      const auth = authenticate(asReq);
      const app = auth.app;
      const rps = app.rate_limit_rps;
      if (rps !== undefined && rps > 0) return false;
      const sid = header(req.headers, "x-session");
      if (!sid) return false;
      session = sim.sessions.get(sid);
      if (!session || session.app_id !== app.app_id) return false;
      if (auth.tokenUserId !== undefined && auth.tokenUserId !== session.user_id) return false;
      if (known === undefined) {
        const call = pageCall(body!, { sim, session, app, plus });
        if (call === null) return false;
        known = { call, command: call.command.name };
        memo.set(text, known);
      }
      if (same === undefined) memo.rememberBytes(bytes, text, known);
      if (!appServes(known.call, app)) return false;
      const hit = pages.lookup(sim.catalog, known.call.key);
      page = hit ?? renderPage(known.call, { sim, session, app, plus }, pages);
    } catch {
      return false;
    }
    // The answer is certain: from here on, the state changes of Fastify's path, in its order (the fault seam's
    // decideWithKey, which with no fault loaded only moves the request's stream count on).
    sim.faults.countRequest(streamOf(session, known.command));
    const answer: PageAnswer = pages.envelope(p.id, page);
    served++;
    p.answer = answer;
    p.command = known.command;
    (res as ServerResponse & { [PENDING]?: Pending })[PENDING] = p;
    res.on("finish", onFinish);
    res.writeHead(200, { "content-type": JSON_TYPE, "content-length": String(answer.bytes.length) });
    res.end(answer.bytes);
    return true;
  }

  server.removeListener("request", fastify);
  server.on("request", front);
  return {
    get served() {
      return served;
    },
    get handedOver() {
      return handedOver;
    },
    get memoHits() {
      return memo.hits;
    },
    uninstall() {
      server.removeListener("request", front);
      server.on("request", fastify);
    },
  };
}
