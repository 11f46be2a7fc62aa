import type { FastifyReply, FastifyRequest } from "fastify";
import { errorEnvelope } from "../../protocol/envelope.ts";
import type { FaultRequest } from "./seam.ts";

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

function describe(req: FastifyRequest, url: string): FaultRequest {
  // A route whose request names things its own way (the server REST API's PascalCase query) described it.
  if (req.faultSubject) return { route: `${req.method} ${url}`, ...req.faultSubject };
  const body = (typeof req.body === "object" && req.body !== null ? req.body : {}) as Record<string, unknown>;
  const params = paramsOf(body.params);
  const query = (req.query ?? {}) as Record<string, unknown>;
  const appId = Number(req.headers["x-app-id"]);
  const sid = req.headers["x-session"];
  const session = typeof sid === "string" ? req.server.sim.sessions.get(sid) : undefined;
  const pick = (k: string) => body[k] ?? params[k] ?? query[k];
  const num = (v: unknown) => (typeof v === "number" ? v : undefined);
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  return {
    route: `${req.method} ${url}`,
    command: str(body.command),
    app_id: session?.app_id ?? (Number.isFinite(appId) ? appId : undefined),
    // Before a session exists (/v1/music/init) the body names the user: it keys that user's own sequence.
    user_id: session?.user_id ?? str(body.user_id),
    vendor_id: num(pick("vendor_id")),
    song_id: str(pick("song_id")),
    resource_type: num(pick("resource_type")),
    room_id: str(pick("room_id")),
  };
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

export async function faultHook(req: FastifyRequest, reply: FastifyReply): Promise<void> {
  // Unrouted requests (404s) are not faulted: their URLs are arbitrary and would key unbounded sequences.
  const url = req.routeOptions.url;
  if (url === undefined) return;
  const { decision: d, key } = req.server.sim.faults.decideWithKey(describe(req, url));
  req.faultKey = key;
  if (d.delayMs && d.delayMs > 0 && !(await pause(req, d.delayMs))) return reply.hijack();
  if (d.dropConnection) {
    req.raw.socket.destroy();
    return reply.hijack();
  }
  if (d.httpStatus !== undefined || d.vendorCode !== undefined) {
    const code = d.vendorCode ?? 1017099;
    return reply.code(d.httpStatus ?? 200).send(errorEnvelope(req.id, code));
  }
}
