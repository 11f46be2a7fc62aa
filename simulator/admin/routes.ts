import { type Static, Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { VendorError } from "../errors.ts";
import { envelopeSchema, ok } from "../http.ts";
import { adminMarkerHeaders, requireAdminAccess } from "./loopback.ts";

const SongParams = Type.Object({ song_id: Type.String({ maxLength: 64 }) });
const ResourceParams = Type.Object({ resource_id: Type.String({ maxLength: 256 }) });
const LedgerQuery = Type.Object(
  {
    app_id: Type.Optional(Type.String({ pattern: "^[0-9]{1,10}$" })),
    since_id: Type.Optional(Type.String({ pattern: "^[0-9]{1,15}$" })),
    limit: Type.Optional(Type.String({ pattern: "^[0-9]{1,7}$" })),
  },
  { additionalProperties: false },
);

export default async function adminRoutes(app: FastifyInstance): Promise<void> {
  app.addHook("onRequest", requireAdminAccess);

  // Revoke and restore are one switch: the catalog's revocation flag for a known song.
  for (const [action, revoked, summary] of [
    [
      "revoke",
      true,
      "Revoke a song's copyright now: lists drop it, requests answer 1017030, downloads are cut",
    ],
    ["restore", false, "Restore a revoked song's copyright"],
  ] as const) {
    app.post(
      `/admin/songs/:song_id/${action}`,
      {
        schema: {
          summary,
          tags: ["admin"],
          headers: adminMarkerHeaders,
          params: SongParams,
          response: { 200: envelopeSchema(Type.Object({ song_id: Type.String(), revoked: Type.Boolean() })) },
        },
      },
      async (req, reply) => {
        const { song_id } = req.params as Static<typeof SongParams>;
        if (!app.sim.catalog.get(song_id)) throw new VendorError(1017034, `unknown song_id ${song_id}`, 404);
        if (revoked) app.sim.catalog.revoke(song_id);
        else app.sim.catalog.restore(song_id);
        req.log.info({ song_id, revoked }, `song ${action}d`);
        return ok(req, reply, { song_id, revoked });
      },
    );
  }

  app.post(
    "/admin/resources/:resource_id/expire",
    {
      schema: {
        summary: "Expire one resource now: downloads answer 410 + 1017019",
        tags: ["admin"],
        headers: adminMarkerHeaders,
        params: ResourceParams,
        response: {
          200: envelopeSchema(Type.Object({ resource_id: Type.String(), expired: Type.Boolean() })),
        },
      },
    },
    async (req, reply) => {
      const { resource_id } = req.params as Static<typeof ResourceParams>;
      if (!app.sim.resources.expire(resource_id)) {
        throw new VendorError(1017034, `unknown resource_id ${resource_id}`, 404);
      }
      req.log.info({ resource_id }, "resource expired by admin");
      return ok(req, reply, { resource_id, expired: true });
    },
  );

  app.get(
    "/admin/ledger",
    {
      schema: {
        summary: "The billing ledger: one row per billable requestResource, with totals",
        tags: ["admin"],
        querystring: LedgerQuery,
        response: {
          200: envelopeSchema(
            Type.Object({
              rows: Type.Array(Type.Object({}, { additionalProperties: true })),
              totals: Type.Object(
                {
                  billable: Type.Integer(),
                  by_mode: Type.Record(Type.String(), Type.Integer()),
                  by_vendor: Type.Record(Type.String(), Type.Integer()),
                  by_app: Type.Record(Type.String(), Type.Integer()),
                },
                { additionalProperties: true },
              ),
              next_since_id: Type.Union([Type.Integer(), Type.Null()]),
            }),
          ),
        },
      },
    },
    async (req, reply) => {
      const q = req.query as Static<typeof LedgerQuery>;
      const appId = q.app_id === undefined ? undefined : Number(q.app_id);
      const limit = Math.min(q.limit === undefined ? 10_000 : Number(q.limit), 100_000);
      const rows = app.sim.ledger.rows({
        app_id: appId,
        since_id: q.since_id === undefined ? undefined : Number(q.since_id),
        limit,
      });
      const last = rows.at(-1);
      return ok(req, reply, {
        rows,
        totals: app.sim.ledger.totals({ app_id: appId }),
        // Paging cursor: present only when the page is full, so "null" means "you have everything".
        next_since_id: rows.length === limit && last ? last.id : null,
      });
    },
  );

  app.post(
    "/admin/reset",
    {
      schema: {
        summary:
          "Back to the seeded initial state: no revocations, resources, sessions, rooms or ledger rows, no media sockets (closed with 1012); the start-up fault profile with fresh counts",
        tags: ["admin"],
        headers: adminMarkerHeaders,
        response: { 200: envelopeSchema(Type.Object({ reset: Type.Boolean() })) },
      },
    },
    async (req, reply) => {
      const s = app.sim;
      s.media?.reset();
      s.catalog.reset();
      s.resources.reset();
      s.sessions.reset();
      s.apps.reset();
      s.rooms.reset();
      s.ledger.clear();
      // The seeded state includes the profile the simulator started with (--faults), with fresh counts.
      s.faults.reset();
      if (s.options.faults !== undefined) s.faults.replace(s.options.faults);
      req.log.warn("simulator reset to its seeded state");
      return ok(req, reply, { reset: true });
    },
  );
}
