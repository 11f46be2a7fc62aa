import { afterAll, describe, expect, it } from "vitest";
import { LineChild } from "../../test/child.ts";

// `ktv sim --no-fast-path` is the escape hatch a partner reaches for when they suspect the fast path (the answers
// are the same either way: differential.test.ts): the start-up line says which way the simulator serves.

const children: LineChild[] = [];
afterAll(async () => {
  for (const c of children) if (c.alive) await c.kill();
});

async function listeningLine(extra: string[]): Promise<Record<string, unknown>> {
  const c = new LineChild([
    "scenarios/cli/ktv.ts",
    "sim",
    "--port",
    "0",
    "--catalog-size",
    "50",
    "--data-dir",
    ":memory:",
    "--log-level",
    "info",
    ...extra,
  ]);
  children.push(c);
  for (;;) {
    const line = await c.nextLine(30_000);
    if (!line.startsWith("{")) continue;
    const o = JSON.parse(line) as Record<string, unknown>;
    if (o.msg === "simulator listening") {
      await c.kill();
      return o;
    }
  }
}

describe("ktv sim --no-fast-path", () => {
  it("serves every request through Fastify, and the start-up line says so; without the flag the fast path is on", async () => {
    const [off, on] = await Promise.all([listeningLine(["--no-fast-path"]), listeningLine([])]);
    expect(off.fast_path).toBe(false);
    expect(on.fast_path).toBe(true);
  }, 60_000);
});
