import type { FastifyInstance } from "fastify";
import { VENDOR_ROUTES, vendorRouteIndex } from "../../protocol/vendor-routes.ts";

// Envelopes are serialized with `code` first, so the code can be read off the payload's prefix without parsing.
// The server REST API's envelopes start with "Code" instead (server-api/routes.ts).
const CODE_PREFIX = /^\{"[Cc]ode":(-?\d+)/;

/** Counts every answer by route, status and envelope code (and by vendor route), and times it. */
export function observeRequests(app: FastifyInstance): void {
  const { requests, latency, vendorRequests } = app.sim.metrics;
  app.addHook("onSend", async (_req, reply, payload) => {
    // Cached content pages (simulator/content/page-cache.ts) are sent as bytes: their prefix is ASCII.
    const text =
      typeof payload === "string"
        ? payload
        : Buffer.isBuffer(payload)
          ? payload.toString("latin1", 0, 24)
          : null;
    if (text !== null) {
      const m = CODE_PREFIX.exec(text);
      if (m?.[1]) (reply as unknown as { vendorCode?: string }).vendorCode = m[1];
    }
    return payload;
  });
  app.addHook("onResponse", async (req, reply) => {
    const route = req.routeOptions.url ?? "unmatched";
    const code = (reply as unknown as { vendorCode?: string }).vendorCode ?? "";
    requests.inc({ route, method: req.method, status: String(reply.statusCode), code });
    latency.observe({ route }, reply.elapsedTime / 1000);
    // By vendor route too, so a client's per-route counts can be checked against what the vendor answered.
    const body = req.body as { command?: unknown } | null | undefined;
    const v = vendorRouteIndex(route, body?.command);
    if (v >= 0) vendorRequests.inc({ route: VENDOR_ROUTES[v], status: String(reply.statusCode) });
  });
}
