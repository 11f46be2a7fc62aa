import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { VENDOR_ROUTES, vendorRouteIndex } from "../../protocol/vendor-routes.ts";

// Envelopes are serialized with `code` first, so the code can be read off the payload's prefix without parsing.
// The server REST API's envelopes start with "Code" instead (server-api/routes.ts).

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
    const code = typeof payload === "string" || Buffer.isBuffer(payload) ? envelopeCode(payload) : undefined;
    if (code !== undefined) (reply as unknown as Coded).vendorCode = code;
    done(null, payload);
  });
  app.addHook("onResponse", (req, reply, done) => {
    count(req, reply);
    done();
  });

  // The label key of the last answer, kept with its parts: under load nearly every answer repeats the previous
  // one's route, method, status and code, and then costs no new key string (a concatenation, flattened and
  // hashed by the Map look-up, was the largest part of this hook). The label thunks read these variables, which
  // hold the current request's labels whenever a tally calls them (first-seen key, synchronously, in add).
  let route = "";
  let method = "";
  let statusCode = -1;
  let status = "";
  let code = "";
  let key = "";
  let vendorRoute = -1;
  let vendorStatusCode = -1;
  let vendorKey = "";
  const labels = () => ({ route, method, status, code });
  const vendorLabels = () => ({ route: VENDOR_ROUTES[vendorRoute]!, status });

  function count(req: FastifyRequest, reply: FastifyReply): void {
    const r = req.routeOptions.url ?? "unmatched";
    const c = (reply as unknown as Coded).vendorCode ?? "";
    const sc = reply.statusCode;
    if (key === "" || sc !== statusCode || r !== route || req.method !== method || c !== code) {
      if (sc !== statusCode) status = String(sc);
      statusCode = sc;
      route = r;
      method = req.method;
      code = c;
      // Tab-joined: no route, method, status or code contains a tab, so the key is one-to-one with the labels.
      key = `${route}\t${method}\t${status}\t${code}`;
    }
    tally.requests.add(key, labels);
    latency.observe(route, reply.elapsedTime / 1000);
    // By vendor route too, so a client's per-route counts can be checked against what the vendor answered.
    const body = req.body as { command?: unknown } | null | undefined;
    const v = vendorRouteIndex(route, body?.command);
    if (v >= 0) {
      if (vendorKey === "" || v !== vendorRoute || sc !== vendorStatusCode) {
        vendorRoute = v;
        vendorStatusCode = sc;
        vendorKey = `${VENDOR_ROUTES[v]!}\t${status}`;
      }
      tally.vendorRequests.add(vendorKey, vendorLabels);
    }
  }
}

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

/**
 * The envelope code at the head of an answer, what `^\{"[Cc]ode":(-?\d+)` captures, read in place (no regex
 * and no string copy of a Buffer's head); undefined when the answer does not start so.
 */
export function envelopeCode(payload: string | Buffer): string | undefined {
  const str = typeof payload === "string";
  const n = payload.length;
  let i = 0;
  for (; i < 8 && i < n; i++) {
    const c = str ? payload.charCodeAt(i) : payload[i]!;
    const want = CODE_HEAD.charCodeAt(i);
    if (c !== want && !(i === 2 && c === 0x43)) return undefined; // "C" as in the server REST API's "Code"
  }
  if (i < 8) return undefined;
  if ((str ? payload.charCodeAt(i) : payload[i]) === 0x2d) i++; // -
  const digits = i;
  while (i < n && isDigit(str ? payload.charCodeAt(i) : payload[i]!)) i++;
  if (i === digits) return undefined;
  return str ? payload.slice(8, i) : payload.toString("latin1", 8, i);
}

const CODE_HEAD = '{"code":';
