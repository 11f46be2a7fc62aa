import { type Static, Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { requireAdminAccess } from "../admin/loopback.ts";
import { VendorError } from "../errors.ts";
import { envelopeSchema, ok } from "../http.ts";
import type { FaultEngine } from "./engine.ts";
import { FaultProfileError, FaultProfileSchema } from "./profile.ts";

// Runtime control of the fault engine (wire-api.md, admin): read and replace the profile, switch one fault,
// clear everything, and read the injected-fault event log as NDJSON.

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const EnableBody = Type.Object({ enabled: Type.Boolean() }, { additionalProperties: false });
const EventsQuery = Type.Object(
  {
    since: Type.Optional(
      Type.String({ pattern: "^[0-9]{1,15}$", description: "only events at or after, epoch ms" }),
    ),
  },
  { additionalProperties: false },
);
const AnyFault = Type.Object({}, { additionalProperties: true, description: "one fault of the profile" });

// The profile schema is a union of every kind's fault: compiling a serializer for it costs about a second
// per route, for nothing (the profile was validated on the way in). It still documents the answers.
const plainJson = () => (data: unknown) => JSON.stringify(data);

function engineOf(app: FastifyInstance): FaultEngine {
  return app.sim.faults;
}

export default async function faultRoutes(app: FastifyInstance): Promise<void> {
  app.addHook("onRequest", requireAdminAccess);

  app.get(
    "/admin/faults",
    {
      schema: {
        summary: "The active fault profile (defaults filled in)",
        tags: ["admin"],
        response: { 200: envelopeSchema(FaultProfileSchema) },
      },
      serializerCompiler: plainJson,
    },
    async (req, reply) => ok(req, reply, engineOf(app).getProfile()),
  );

  app.put(
    "/admin/faults",
    {
      schema: {
        summary:
          "Replace the fault profile atomically; an invalid profile is refused whole (400, every error listed)",
        tags: ["admin"],
        body: FaultProfileSchema,
        response: { 200: envelopeSchema(FaultProfileSchema) },
      },
      // The body schema documents the profile; validation is the engine's, which lists every error at once
      // (the route validator would stop at the first).
      validatorCompiler: () => (value) => ({ value }),
      serializerCompiler: plainJson,
    },
    async (req, reply) => {
      try {
        const profile = engineOf(app).replace(req.body);
        req.log.warn({ faults: profile.faults.map((f) => f.id) }, "fault profile replaced");
        return ok(req, reply, profile);
      } catch (e) {
        if (!(e instanceof FaultProfileError)) throw e;
        req.log.info({ errors: e.errors }, "fault profile refused");
        throw new VendorError(1017040, `illegal parameter: ${e.message}`, 400);
      }
    },
  );

  app.patch(
    "/admin/faults/:id",
    {
      schema: {
        summary: "Enable or disable one fault of the active profile (its counts carry on)",
        tags: ["admin"],
        params: IdParams,
        body: EnableBody,
        response: { 200: envelopeSchema(AnyFault) },
      },
    },
    async (req, reply) => {
      const { id } = req.params as Static<typeof IdParams>;
      const { enabled } = req.body as Static<typeof EnableBody>;
      const fault = engineOf(app).setEnabled(id, enabled);
      if (!fault) {
        throw new VendorError(1017034, `no fault with id ${JSON.stringify(id)} in the active profile`, 404);
      }
      req.log.warn({ fault_id: id, enabled }, "fault switched");
      return ok(req, reply, fault);
    },
  );

  app.post(
    "/admin/faults/reset",
    {
      schema: {
        summary: "Remove every fault and clear counts, request sequences and the event log",
        tags: ["admin"],
        response: { 200: envelopeSchema(Type.Object({ reset: Type.Boolean() })) },
      },
    },
    async (req, reply) => {
      engineOf(app).reset();
      req.log.warn("fault engine reset");
      return ok(req, reply, { reset: true });
    },
  );

  app.get(
    "/admin/faults/events",
    {
      schema: {
        summary:
          "Injected-fault event log, NDJSON: {seq, time, fault_id, kind, route, request_key, effect} per line",
        tags: ["admin"],
        querystring: EventsQuery,
        produces: ["application/x-ndjson"],
      },
    },
    async (req, reply) => {
      const { since } = req.query as Static<typeof EventsQuery>;
      const engine = engineOf(app);
      const events = engine.events(since === undefined ? undefined : Number(since));
      let body = "";
      for (const e of events) body += `${JSON.stringify(e)}\n`;
      return reply
        .type("application/x-ndjson")
        .header("x-events-dropped", String(engine.eventsDropped))
        .send(body);
    },
  );
}
