import { Type } from "@sinclair/typebox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testSimulator } from "../../test/sim.ts";
import type { Simulator } from "../app.ts";
import { contentStateOf } from "../content/state.ts";
import { authHeaders } from "../http.ts";
import { plainStringHeaderCheck, plainStringHeaderNames } from "./string-headers.ts";

// The typeof check stands in for the compiled header validator only where it cannot answer "valid" when the
// validator would not: checked against the very validator the fast path would use (the extended route's
// compiler, Fastify's ajv options) over headers node:http can produce and some it cannot, and refused for any
// schema that asks more than "a string".

let sim: Simulator;
beforeAll(async () => {
  sim = await testSimulator();
});
afterAll(async () => {
  await sim.close();
});

describe("plainStringHeaderCheck", () => {
  it("takes the music routes' auth headers schema by its four names", () => {
    expect(plainStringHeaderNames(authHeaders)).toEqual([
      "x-app-id",
      "x-app-sign",
      "authorization",
      "x-session",
    ]);
  });

  it("refuses every schema that says more than 'an optional string'", () => {
    const s = (props: Record<string, unknown>, opts: Record<string, unknown> = {}) =>
      Type.Object(props as never, { additionalProperties: true, ...opts });
    for (const schema of [
      s({ a: Type.Optional(Type.String({ pattern: "^[0-9]+$" })) }),
      s({ a: Type.Optional(Type.String({ maxLength: 3 })) }),
      s({ a: Type.Optional(Type.String({ format: "uri" })) }),
      s({ a: Type.Optional(Type.Number()) }),
      s({ a: Type.String() }), // required
      s({ a: Type.Optional(Type.String()) }, { additionalProperties: false }),
      Type.String(),
      null,
    ]) {
      expect(plainStringHeaderNames(schema)).toBeNull();
    }
  });

  it("never passes headers the route's compiled validator refuses", () => {
    const compile = contentStateOf(sim.app.sim).compile!;
    const compiled = compile(authHeaders, "headers");
    const cheap = plainStringHeaderCheck(authHeaders)!;
    const values: unknown[] = [undefined, "", "1000000001", "a, b", ["x"], ["x", "y"], 7, null, { a: 1 }];
    let compared = 0;
    for (const id of values) {
      for (const sign of values) {
        for (const session of values) {
          const h: Record<string, unknown> = { host: "h", "content-type": "application/json" };
          if (id !== undefined) h["x-app-id"] = id;
          if (sign !== undefined) h["x-app-sign"] = sign;
          if (session !== undefined) h["x-session"] = session;
          const valid = compiled(structuredClone(h));
          if (cheap(h as never)) expect(valid, JSON.stringify(h)).toBe(true);
          // Headers as node:http makes them (strings or absent) pass both.
          const nodeLike = [id, sign, session].every((v) => v === undefined || typeof v === "string");
          if (nodeLike) expect([cheap(h as never), valid]).toEqual([true, true]);
          compared++;
        }
      }
    }
    expect(compared).toBe(values.length ** 3);
  });
});
