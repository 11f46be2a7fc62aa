import type { RouteOptions } from "fastify";
import { requireAdminAccess } from "../admin/loopback.ts";
import { requireApp, requireSession } from "../auth/guards.ts";
import { errorEnvelopeSchema } from "../http.ts";

// The OpenAPI document must list every status a route can answer (issue 12: it listed 200 and little else).
// Written by hand, such lists drift, so each route's error statuses are derived when the document is built
// (@fastify/swagger's transform, which sees each route's options) from what decides them in the code:
// - every route: 400 (a query, params or body the schema refuses, an undecodable URL), 431 (headers over
//   node's limit, answered in the envelope by http.ts) and 500 (1017099, an unexpected error);
// - a route that takes a body (POST, PUT, PATCH, DELETE): 413 (over --body-limit) and 415 (a content type
//   no parser accepts);
// - its guards: requireApp and requireSession 401 (credentials, session) and 429 (the app's rate limit);
//   requireAdminAccess 403 (every /admin route runs it, from its plugin's hook or its own onRequest);
// - the statuses its handler raises itself: the literal status of a `VendorError(code, message, status)` or a
//   `reply.code(status)` in the handler's source;
// - what the schema already declares, by hand, for statuses raised in helpers (the download route's).
// simulator/ops/openapi-statuses.test.ts crawls every route with bad inputs and fails on a status seen but not
// declared, so a new guard or helper that answers something new is caught.
// Injected faults (any status a fault profile names) are not declared: they are the profile's, not the route's.

const ALWAYS = [400, 431, 500];
const WITH_BODY = [413, 415];
const GUARD_STATUSES = new Map<unknown, number[]>([
  [requireApp, [401, 429]],
  [requireSession, [401, 429]],
  [requireAdminAccess, [403]],
]);

const SOURCE_STATUS = [
  // `new VendorError(`, also as a bundler or test runner rewrites it (`new __import_1__.VendorError(`).
  /VendorError\)?\(\s*\d+\s*,[^;]*?,\s*(\d{3})\s*\)/g,
  /\.code\(\s*(\d{3})\s*\)/g,
];

/** The literal statuses a handler's own source answers with (see the header). */
export function statusesInSource(fn: unknown): number[] {
  if (typeof fn !== "function") return [];
  const src = Function.prototype.toString.call(fn);
  const out = new Set<number>();
  for (const re of SOURCE_STATUS) for (const m of src.matchAll(re)) out.add(Number(m[1]));
  return [...out];
}

function hooksOf(x: unknown): unknown[] {
  if (x === undefined) return [];
  return Array.isArray(x) ? x : [x];
}

/** Every status `route` can answer besides its success answers, derived as the header says. */
export function errorStatusesOf(route: RouteOptions): number[] {
  const out = new Set<number>(ALWAYS);
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  if (methods.some((m) => m !== "GET" && m !== "HEAD" && m !== "OPTIONS"))
    for (const s of WITH_BODY) out.add(s);
  for (const hook of [...hooksOf(route.onRequest), ...hooksOf(route.preHandler)]) {
    for (const s of GUARD_STATUSES.get(hook) ?? []) out.add(s);
  }
  if (route.url.startsWith("/admin/") || route.url === "/admin") out.add(403);
  for (const s of statusesInSource(route.handler)) if (s >= 300) out.add(s);
  return [...out].sort((a, b) => a - b);
}

/**
 * @fastify/swagger's `transform`: the route's documented schema with its error statuses added. Only the
 * document changes: the route's own response schemas (and so its serializers) stay what the route declared,
 * so a plugin answering in another envelope (PascalCase, say) is never reshaped by this.
 */
export function withErrorStatuses(arg: { schema?: unknown; url: string; route: RouteOptions }): {
  schema: Record<string, unknown>;
  url: string;
} {
  const schema = { ...((arg.schema ?? {}) as Record<string, unknown>) };
  // A route that documented no answer keeps swagger's "Default Response" for its success.
  const response: Record<string, unknown> = {
    ...((schema.response as Record<string, unknown> | undefined) ?? {
      200: { description: "Default Response" },
    }),
  };
  for (const s of errorStatusesOf(arg.route)) {
    // A status the route documents itself (a 304, a 206, its own error schema) keeps its own entry.
    if (response[s] === undefined && response[String(s)] === undefined) response[s] = errorEnvelopeSchema;
  }
  schema.response = response;
  return { schema, url: arg.url };
}
