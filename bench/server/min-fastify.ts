import Fastify from "fastify";

// A floor, not a reference the bench judges by: Fastify with one route and nothing else (no logger, hooks,
// schema or guards) answering the same bytes as bare-server.ts. `request-cpu.ts --refs bench/server/min-fastify.ts`
// shows what the framework alone costs per request next to bare node:http and the simulator.
const body = Buffer.from(
  process.env.KTV_BENCH_BODY ?? '{"code":0,"message":"succeed","request_id":"x","data":{}}',
);
const app = Fastify({ logger: false });
const answer = async (_req: unknown, reply: { header(k: string, v: string): unknown }) => {
  reply.header("content-type", "application/json; charset=utf-8");
  return body;
};
app.post("/v1/music/extended", answer);
app.get("/healthz", answer);
await app.listen({ port: 0, host: "127.0.0.1" });
const addr = app.server.address();
const port = typeof addr === "object" && addr ? addr.port : 0;
process.stdout.write(`${JSON.stringify({ listening: `http://127.0.0.1:${port}` })}\n`);
process.on("SIGTERM", () => void app.close().then(() => process.exit(0)));
