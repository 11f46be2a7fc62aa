import { Writable } from "node:stream";
import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { lazyChildLogger } from "./lazy-logger.ts";

// A request's logger is made only when something is written, and what it writes is what Fastify's own child
// would have written: the request id bound, the same level filtering, children of it keeping the binding.

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).trim().split("\n")) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, stream };
}

async function appWith(factory: boolean, level: string) {
  const { lines, stream } = capture();
  const app = Fastify({
    logger: { level, stream },
    disableRequestLogging: true,
    ...(factory ? { childLoggerFactory: lazyChildLogger } : {}),
  });
  app.get("/x", async (req) => {
    req.log.debug({ a: 1 }, "debug line");
    req.log.info({ b: 2 }, "info line");
    req.log.child({ c: 3 }).warn("child warn");
    req.log.error("error line");
    return { ok: true };
  });
  await app.ready();
  return { app, lines };
}

const strip = (ls: Record<string, unknown>[]) => ls.map(({ time, pid, hostname, ...rest }) => rest);

describe("lazyChildLogger", () => {
  for (const level of ["debug", "info", "warn", "error"]) {
    it(`writes what the eager child writes at level ${level}`, async () => {
      const lazy = await appWith(true, level);
      const eager = await appWith(false, level);
      for (const a of [lazy, eager]) {
        const r = await a.app.inject({ method: "GET", url: "/x" });
        expect(r.statusCode).toBe(200);
        await a.app.close();
      }
      expect(strip(lazy.lines)).toEqual(strip(eager.lines));
      expect(lazy.lines.length).toBeGreaterThan(0);
      expect(lazy.lines.every((l) => l.reqId === "req-1")).toBe(true);
    });
  }

  it("makes no child while nothing is written", () => {
    let made = 0;
    const parent = {
      level: "warn",
      isLevelEnabled: (l: string) => l === "warn" || l === "error" || l === "fatal",
      child: () => {
        made++;
        return { warn: () => {}, info: () => {} };
      },
    };
    const log = lazyChildLogger(parent as never, { reqId: "r" }, {});
    log.info("not written");
    log.debug("not written");
    expect(made).toBe(0);
    expect(log.level).toBe("warn");
    log.warn("written");
    log.info("through the child now");
    expect(made).toBe(1);
  });
});
