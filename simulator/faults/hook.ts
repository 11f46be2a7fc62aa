import type { FastifyReply, FastifyRequest } from "fastify";
import { errorEnvelope } from "../../protocol/envelope.ts";
import type { FaultDecision, FaultRequest } from "./seam.ts";

// The single seam where a request meets the fault engine: a global preHandler that describes the request
// (route, command, app, user, vendor, song) and applies the decision before the route's own handler runs.

/** Extended-request params: an object, or the SDK's form, the object as a JSON string. */
function paramsOf(p: unknown): Record<string, unknown> {
  if (typeof p === "string") {
    try {
      p = JSON.parse(p);
    } catch {
      return {};
    }
  }
  return typeof p === "object" && p !== null ? (p as Record<string, unknown>) : {};
}

// Plain functions, not closures made per request: under tsx every named closure costs a defineProperty
// (esbuild's keepNames), which was half of this seam's time in a /top/song profile.
const num = (v: unknown) => (typeof v === "number" ? v : undefined);
const str = (v: unknown) => (typeof v === "string" ? v : undefined);
const pick = (
  k: string,
  body: Record<string, unknown>,
  params: Record<string, unknown>,
  query: Record<string, unknown>,
) => body[k] ?? params[k] ?? query[k];
const NO_FIELDS: Record<string, unknown> = Object.freeze({});

function bodyOf(req: FastifyRequest): Record<string, unknown> {
  return (typeof req.body === "object" && req.body !== null ? req.body : NO_FIELDS) as Record<
    string,
    unknown
  >;
}

/** The fields of the request key (engine.ts): route, command, app and user (also the fast path's: fast-path/). */
export function keyFields(req: FastifyRequest, route: string, body: Record<string, unknown>): FaultRequest {
  const sid = req.headers["x-session"];
  const session = typeof sid === "string" ? req.server.sim.sessions.get(sid) : undefined;
  const appId = session ? session.app_id : Number(req.headers["x-app-id"]);
  return {
    route,
    command: str(body.command),
    app_id: Number.isFinite(appId) ? appId : undefined,
    // Before a session exists (/v1/music/init) the body names the user: it keys that user's own sequence.
    user_id: session?.user_id ?? str(body.user_id),
  };
}

function describe(req: FastifyRequest, route: string): FaultRequest {
  // A route whose request names things its own way (the server REST API's PascalCase query) described it.
  if (req.faultSubject) return { route, ...req.faultSubject };
  const body = bodyOf(req);
  const out = keyFields(req, route, body);
  const params = paramsOf(body.params);
  const query = (req.query ?? NO_FIELDS) as Record<string, unknown>;
  out.vendor_id = num(pick("vendor_id", body, params, query));
  out.song_id = str(pick("song_id", body, params, query));
  out.resource_type = num(pick("resource_type", body, params, query));
  out.room_id = str(pick("room_id", body, params, query));
  return out;
}

/** Waits ms; resolves false early if the client goes away meanwhile (then there is nobody to answer). */
function pause(req: FastifyRequest, ms: number): Promise<boolean> {
  const socket = req.raw.socket;
  if (socket.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (served: boolean) => {
      clearTimeout(timer);
      socket.off("close", gone);
      resolve(served);
    };
    const gone = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    socket.once("close", gone);
  });
}

declare module "fastify" {
  interface FastifyRequest {
    /** This request's fault key (engine.ts), for the follow-up decisions of the resource and CDN surfaces. */
    faultKey?: string;
    /** Set by a route's own earlier hook when its request does not use the SDK path's names (server-api/). */
    faultSubject?: Omit<FaultRequest, "route">;
  }
}

// "METHOD /url" of each routed request, made once per route and method: the engine looks it up in its maps on
// every request (mayFault, the request streams), and a string concatenated per request is flattened and hashed
// again by each look-up. Bounded by the route table (only routed requests get here).
const ROUTE_IDS = new Map<string, Map<string, string>>();

export function routeId(method: string, url: string): string {
  let byMethod = ROUTE_IDS.get(url);
  if (byMethod === undefined) {
    byMethod = new Map();
    ROUTE_IDS.set(url, byMethod);
  }
  let id = byMethod.get(method);
  if (id === undefined) {
    id = `${method} ${url}`;
    byMethod.set(method, id);
  }
  return id;
}

/**
 * The global preHandler. Callback style, and on a route no enabled fault can select (engine.mayFault: the
 * common case, and every route when no profile is loaded) it only takes the request's key, so that the
 * per-stream sequence numbers stay what they would be with faults loaded later; the rest of the request is
 * described, and the decision applied, only where a fault may hit.
 */
export function faultHook(req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void {
  // Unrouted requests (404s) are not faulted: their URLs are arbitrary and would key unbounded sequences.
  const url = req.routeOptions.url;
  if (url === undefined) {
    done();
    return;
  }
  const faults = req.server.sim.faults;
  const route = routeId(req.method, url);
  if (!faults.mayFault(route)) {
    req.faultKey = faults.decideWithKey(
      req.faultSubject ? { route, ...req.faultSubject } : keyFields(req, route, bodyOf(req)),
    ).key;
    done();
    return;
  }
  const { decision, key } = faults.decideWithKey(describe(req, route));
  req.faultKey = key;
  if (decision.delayMs === undefined && !decision.dropConnection && !answers(decision)) {
    done();
    return;
  }
  // As Fastify runs an async hook: the chain goes on once it settles, and stops there if the reply was sent
  // or hijacked meanwhile.
  apply(req, reply, decision).then(() => done(), done);
}

const answers = (d: FaultDecision) => d.httpStatus !== undefined || d.vendorCode !== undefined;

async function apply(req: FastifyRequest, reply: FastifyReply, d: FaultDecision): Promise<void> {
  if (d.delayMs && d.delayMs > 0 && !(await pause(req, d.delayMs))) {
    reply.hijack();
    return;
  }
  if (d.dropConnection) {
    req.raw.socket.destroy();
    reply.hijack();
    return;
  }
  if (answers(d)) reply.code(d.httpStatus ?? 200).send(errorEnvelope(req.id, d.vendorCode ?? 1017099));
}
