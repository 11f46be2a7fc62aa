import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { VENDOR_ROUTES, vendorRouteIndex } from "../../protocol/vendor-routes.ts";

// Envelopes are serialized with `code` first, so the code can be read off the payload's prefix without parsing.
// The server REST API's envelopes start with "Code" instead (server-api/routes.ts).
const CODE_PREFIX = /^\{"[Cc]ode":(-?\d+)/;

interface Coded {
  vendorCode?: string;
}

/**
 * Counts every answer by route, status and envelope code (and by vendor route), and times it. Both hooks are
 * callback style (an async hook costs every request a promise and a microtask turn) and count into the plain
 * tallies of metrics.ts, which prom-client reads at scrape time (request-tally.ts).
 */
export function observeRequests(app: FastifyInstance): void {
  const { tally, latency } = app.sim.metrics;
  app.addHook("onSend", (_req, reply, payload, done) => {
    // Cached content pages (simulator/content/page-cache.ts) are sent as bytes: their prefix is ASCII.
    const text =
      typeof payload === "string"
        ? payload
        : Buffer.isBuffer(payload)
          ? payload.toString("latin1", 0, 24)
          : null;
    if (text !== null) {
      const m = CODE_PREFIX.exec(text);
      if (m?.[1]) (reply as unknown as Coded).vendorCode = m[1];
    }
    done(null, payload);
  });
  app.addHook("onResponse", (req, reply, done) => {
    count(req, reply);
    done();
  });

  function count(req: FastifyRequest, reply: FastifyReply): void {
    const route = req.routeOptions.url ?? "unmatched";
    const code = (reply as unknown as Coded).vendorCode ?? "";
    const status = String(reply.statusCode);
    const method = req.method;
    // Tab-joined: no route, method, status or code contains a tab, so the key is one-to-one with the labels.
    tally.requests.add(`${route}\t${method}\t${status}\t${code}`, () => ({ route, method, status, code }));
    latency.observe(route, reply.elapsedTime / 1000);
    // By vendor route too, so a client's per-route counts can be checked against what the vendor answered.
    const body = req.body as { command?: unknown } | null | undefined;
    const v = vendorRouteIndex(route, body?.command);
    if (v >= 0) {
      const vr = VENDOR_ROUTES[v]!;
      tally.vendorRequests.add(`${vr}\t${status}`, () => ({ route: vr, status }));
    }
  }
}
