import { type Static, Type } from "@sinclair/typebox";
import { type Lane, unitOf } from "./rng.ts";
import type { FaultRequest } from "./seam.ts";

// Which requests a fault applies to. Every given field must match (AND); an absent field matches anything.
// Fractions pick a stable subset of ids: an id is in when its seeded point (rng.ts unitOf) is below the
// fraction, so the same songs/users/rooms are hit for the whole run and across runs with the same seed.

const Fraction = (what: string) =>
  Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: `stable fraction of ${what} (0..1)` }));

export const Selector = Type.Object(
  {
    route: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 256,
        description: 'route id "POST /v1/music/extended", or a path "/v1/music/extended" (any method)',
      }),
    ),
    command: Type.Optional(
      Type.String({ pattern: "^/", maxLength: 128, description: 'extended command, e.g. "/search/song"' }),
    ),
    action: Type.Optional(
      Type.String({
        pattern: "^[A-Z][A-Za-z]+$",
        maxLength: 64,
        description: 'server REST API action (GET /?Action=), e.g. "QuerySongsCopyright"',
      }),
    ),
    vendor_id: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 4, description: "vendor_id of the request" }),
    ),
    song_ids: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
        minItems: 1,
        maxItems: 10_000,
        description: "only these songs (each must exist in the catalog)",
      }),
    ),
    song_fraction: Fraction("songs"),
    resource_type: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 3, description: "resource_type of the request" }),
    ),
    user_fraction: Fraction("users"),
    room_fraction: Fraction("rooms"),
    app_id: Type.Optional(Type.Integer({ minimum: 0, maximum: 0xffffffff, description: "only this app" })),
    stream_ids: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
        minItems: 1,
        maxItems: 10_000,
        description: "media faults: only these stream ids",
      }),
    ),
  },
  {
    additionalProperties: false,
    description: "which requests the fault applies to (all given fields must match)",
  },
);
export type Selector = Static<typeof Selector>;

export type Matcher = (req: FaultRequest) => boolean;

const always: Matcher = () => true;

/** Whether a selector's `route` takes in a request's route id: "METHOD /path" exactly, or a bare "/path" under any method. */
export function routeSelects(selectorRoute: string, route: string): boolean {
  if (selectorRoute.startsWith("/")) return route.slice(route.indexOf(" ") + 1) === selectorRoute;
  return route === selectorRoute;
}

function routeTest(route: string): Matcher {
  return (r) => routeSelects(route, r.route);
}

function fractionTest(lane: Lane, fraction: number, pick: (r: FaultRequest) => string | undefined): Matcher {
  if (fraction >= 1) return (r) => pick(r) !== undefined;
  return (r) => {
    const id = pick(r);
    return id !== undefined && unitOf(lane, id) < fraction;
  };
}

/** Turns a selector into one predicate; `lane` is the fault's seeded lane (fractions depend on it). */
export function compileSelector(sel: Selector | undefined, lane: Lane): Matcher {
  if (!sel) return always;
  const tests: Matcher[] = [];
  if (sel.route !== undefined) tests.push(routeTest(sel.route));
  if (sel.command !== undefined) tests.push((r) => r.command === sel.command);
  if (sel.action !== undefined) tests.push((r) => r.action === sel.action);
  if (sel.app_id !== undefined) tests.push((r) => r.app_id === sel.app_id);
  if (sel.vendor_id !== undefined) tests.push((r) => r.vendor_id === sel.vendor_id);
  if (sel.resource_type !== undefined) tests.push((r) => r.resource_type === sel.resource_type);
  if (sel.song_ids !== undefined) {
    const ids = new Set(sel.song_ids);
    tests.push((r) => r.song_id !== undefined && ids.has(r.song_id));
  }
  if (sel.stream_ids !== undefined) {
    const ids = new Set(sel.stream_ids);
    tests.push((r) => r.stream_id !== undefined && ids.has(r.stream_id));
  }
  // Prefixes keep the three id spaces apart: song "7" and user "7" are different points.
  if (sel.song_fraction !== undefined) {
    tests.push(fractionTest(lane, sel.song_fraction, (r) => r.song_id && `song:${r.song_id}`));
  }
  if (sel.user_fraction !== undefined) {
    tests.push(
      fractionTest(lane, sel.user_fraction, (r) => r.user_id && `user:${r.app_id ?? "-"}:${r.user_id}`),
    );
  }
  if (sel.room_fraction !== undefined) {
    tests.push(fractionTest(lane, sel.room_fraction, (r) => r.room_id && `room:${r.room_id}`));
  }
  if (tests.length === 0) return always;
  return (r) => tests.every((t) => t(r));
}
