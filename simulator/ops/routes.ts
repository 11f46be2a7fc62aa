import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { DOCS_HTML } from "./docs-page.ts";

export default async function opsRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    "/healthz",
    {
      schema: {
        summary: "200 while serving",
        tags: ["ops"],
        response: { 200: Type.Object({ ok: Type.Boolean() }) },
      },
    },
    async () => ({ ok: true }),
  );

  app.get(
    "/metrics",
    {
      schema: {
        summary: "Prometheus text exposition: requests, latency, CDN bytes, downloads, ledger counts",
        tags: ["ops"],
        produces: ["text/plain"],
      },
    },
    async (_req, reply) => {
      const { registry } = app.sim.metrics;
      const body = await registry.metrics();
      return reply.type(registry.contentType).send(body);
    },
  );

  app.get(
    "/openapi.json",
    { schema: { summary: "The OpenAPI 3 document generated from the route schemas", tags: ["ops"] } },
    async () => app.swagger(),
  );

  app.get(
    "/docs",
    { schema: { summary: "Human-readable API page (renders /openapi.json)", tags: ["ops"] } },
    async (_req, reply) => reply.type("text/html; charset=utf-8").send(DOCS_HTML),
  );
}
