import { createServer } from "node:http";

// The reference for the server benchmark: bare node:http answering the same envelope bytes the simulator sends
// for the benchmarked call, after reading and parsing the JSON body as any server must. Whatever the simulator
// costs beyond this is its own work (routing, validation, auth, fault seam, catalog, serialization, metrics).
const body = Buffer.from(
  process.env.KTV_BENCH_BODY ?? '{"code":0,"message":"succeed","request_id":"x","data":{}}',
);

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    if (chunks.length > 0) JSON.parse(Buffer.concat(chunks).toString("utf8"));
    res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  process.stdout.write(`${JSON.stringify({ listening: `http://127.0.0.1:${port}` })}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
