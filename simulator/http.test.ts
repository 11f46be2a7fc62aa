import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isEnvelope } from "../protocol/envelope.ts";
import { testSimulator } from "../test/sim.ts";
import type { Simulator } from "./app.ts";
import { clientErrorResponse } from "./http.ts";

// Errors node:http raises before a request exists, over a real keep-alive socket: the answer is the vendor
// envelope and says `Connection: close` before the server closes.

let sim: Simulator;
beforeAll(async () => {
  sim = await testSimulator();
});
afterAll(() => sim.close());

interface RawExchange {
  /** Everything the server sent until it closed the connection. */
  text: string;
  closed: boolean;
}

/**
 * Writes `chunks` on one socket (keep-alive), each after the answer to the one before began arriving (node
 * parses pipelined requests together: an overflow in the second would pre-empt the first's answer, as in
 * node's own handler), and collects the bytes until the server closes it.
 */
function exchange(chunks: string[]): Promise<RawExchange> {
  const { port } = new URL(sim.url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), "127.0.0.1");
    let text = "";
    s.setEncoding("latin1");
    let next = 0;
    const writeNext = () => {
      if (next < chunks.length) s.write(chunks[next++]!);
    };
    s.on("data", (d: string) => {
      text += d;
      writeNext();
    });
    s.on("error", reject);
    s.on("close", () => resolve({ text, closed: true }));
    s.on("connect", writeNext);
    // A server that never closes fails the test by timeout instead of hanging the file.
    setTimeout(() => {
      s.destroy();
      resolve({ text, closed: false });
    }, 8000).unref();
  });
}

function lastResponse(text: string): { head: string; status: number; body: unknown } {
  const at = text.lastIndexOf("HTTP/1.1 ");
  const raw = text.slice(at);
  const split = raw.indexOf("\r\n\r\n");
  const head = raw.slice(0, split);
  return { head, status: Number(head.slice(9, 12)), body: JSON.parse(raw.slice(split + 4)) };
}

const healthz = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n";

describe("client errors before a request exists", () => {
  it("answers headers over the limit with 431, the envelope and Connection: close, after a served request", async () => {
    const huge = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ${"a".repeat(20_000)}\r\n\r\n`;
    const r = await exchange([healthz, huge]);
    expect(r.closed).toBe(true);
    // The earlier request on the same keep-alive connection was served in full.
    expect(r.text.slice(0, 200)).toMatch(/^HTTP\/1.1 200 /);
    const last = lastResponse(r.text);
    expect(last.status).toBe(431);
    expect(last.head).toMatch(/\r\nconnection: close(\r\n|$)/i);
    expect(last.head).toMatch(/\r\ncontent-type: application\/json/i);
    expect(isEnvelope(last.body)).toBe(true);
    expect(last.body).toMatchObject({ code: 1017040, data: null });
    expect((last.body as { request_id: string }).request_id).not.toBe("");
  });

  it("answers a pipelined earlier request in full before the 431 (node parses both at once)", async () => {
    const huge = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ${"a".repeat(20_000)}\r\n\r\n`;
    const r = await exchange([healthz + huge]);
    expect(r.closed).toBe(true);
    expect(r.text.slice(0, 200)).toMatch(/^HTTP\/1.1 200 /);
    expect(r.text).toContain('{"ok":true}');
    const last = lastResponse(r.text);
    expect(last.status).toBe(431);
    expect(r.text.indexOf("HTTP/1.1 431")).toBeGreaterThan(r.text.indexOf('{"ok":true}'));
    expect(last.body).toMatchObject({ code: 1017040, data: null });
  });

  it("answers a body over the limit with 413, the envelope and Connection: close (length or chunked)", async () => {
    const body = `{"user_id":"${"x".repeat(70_000)}"}`;
    const head = "POST /v1/music/init HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n";
    for (const req of [
      `${head}Content-Length: ${body.length}\r\n\r\n${body}`,
      `${head}Transfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
    ]) {
      const r = await exchange([req]);
      expect(r.closed).toBe(true);
      const last = lastResponse(r.text);
      expect(last.status).toBe(413);
      expect(last.head).toMatch(/\r\nconnection: close(\r\n|$)/i);
      expect(last.body).toMatchObject({ code: 1017040, data: null });
    }
  });

  it("answers a malformed request line with 400 and the envelope, and closes", async () => {
    const r = await exchange(["NOT AN HTTP REQUEST\r\n\r\n"]);
    expect(r.closed).toBe(true);
    const last = lastResponse(r.text);
    expect(last.status).toBe(400);
    expect(last.head).toMatch(/\r\nconnection: close(\r\n|$)/i);
    expect(last.body).toMatchObject({ code: 1017040, data: null });
  });

  it("keeps serving other connections after one is closed for a client error", async () => {
    await exchange([`GET / HTTP/1.1\r\nX-Pad: ${"b".repeat(20_000)}\r\n\r\n`]);
    const r = await fetch(`${sim.url}/healthz`);
    expect(r.status).toBe(200);
  });

  it("gives the Content-Length of the body in bytes, status by the node error code", () => {
    for (const [code, status] of [
      ["HPE_HEADER_OVERFLOW", 431],
      ["ERR_HTTP_REQUEST_TIMEOUT", 408],
      ["HPE_CHUNK_EXTENSIONS_OVERFLOW", 413],
      ["HPE_INVALID_METHOD", 400],
      [undefined, 400],
    ] as const) {
      const raw = clientErrorResponse(code, "rid-1").toString("utf8");
      expect(raw.startsWith(`HTTP/1.1 ${status} `)).toBe(true);
      const [head, body] = raw.split("\r\n\r\n") as [string, string];
      expect(head).toContain(`Content-Length: ${Buffer.byteLength(body)}`);
      expect(JSON.parse(body)).toMatchObject({ code: 1017040, request_id: "rid-1", data: null });
    }
  });
});

describe("methods a route does not serve", () => {
  it("answer 405 with Allow and the envelope, for every route the simulator serves", async () => {
    const doc = (await (await fetch(`${sim.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const all = ["GET", "POST", "PUT", "PATCH", "DELETE"];
    let checked = 0;
    for (const template of Object.keys(doc.paths)) {
      // A concrete path for the template: every {param} filled in.
      const path = template.replace(/\{[^}]+\}/g, "x1");
      // Served by this template or another one the path also matches (/admin/faults/reset is also /{id}).
      const served = Object.entries(doc.paths)
        .filter(([t]) => t === template || new RegExp(`^${t.replace(/\{[^}]+\}/g, "[^/]+")}$`).test(path))
        .flatMap(([, o]) => Object.keys(o).map((m) => m.toUpperCase()));
      for (const method of all.filter((m) => !served.includes(m))) {
        const r = await fetch(sim.url + path, {
          method,
          // A body that would not parse: the answer must still be 405, not a 400 for the body.
          ...(method === "GET" ? {} : { body: "{not json", headers: { "content-type": "application/json" } }),
        });
        const body = await r.json();
        expect(r.status, `${method} ${path}`).toBe(405);
        const allow = (r.headers.get("allow") ?? "").split(", ");
        for (const m of served) expect(allow, `${method} ${path}`).toContain(m);
        expect(allow).not.toContain(method);
        // `/` is the server REST API's: its own envelope (server-api.test.ts checks it in full).
        if (path === "/") expect(body).toMatchObject({ Code: 320000004, Data: null });
        else expect(body).toMatchObject({ code: 1017040, data: null });
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
  });

  it("lists HEAD wherever GET is served, and a path no route serves stays 404", async () => {
    const r = await fetch(`${sim.url}/healthz`, { method: "POST" });
    expect(r.status).toBe(405);
    expect(r.headers.get("allow")).toBe("GET, HEAD");
    const none = await fetch(`${sim.url}/no/such/path`, {
      method: "POST",
      body: "{not json",
      headers: { "content-type": "application/json" },
    });
    expect(none.status).toBe(404);
    expect(none.headers.get("allow")).toBeNull();
    expect(await none.json()).toMatchObject({ code: 1017040, data: null });
  });
});
