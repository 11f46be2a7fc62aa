import { type Static, Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { okEnvelope } from "../../protocol/envelope.ts";
import { requireSession } from "../auth/guards.ts";
import { replayPreread } from "../fast-path/preread.ts";
import { authHeaders, errorEnvelopeSchema } from "../http.ts";
import { COMMANDS } from "./commands/index.ts";
import { dispatchRendered } from "./dispatch.ts";
import type { PageAnswer } from "./page-cache.ts";
import { contentStateOf } from "./state.ts";

/** The body schema of POST /v1/music/extended (the fast path compiles this same object: fast-path/). */
export const ExtendedBody = Type.Object(
  {
    command: Type.Optional(
      Type.String({ maxLength: 256, description: `one of ${[...COMMANDS.keys()].join(", ")}` }),
    ),
    params: Type.Optional(
      Type.Union(
        [
          Type.Object({}, { additionalProperties: true }),
          Type.String({ description: "the SDK's form: the params object as a JSON string" }),
          Type.Null(),
        ],
        { description: "command parameters (vendor_id, keyword, page, filter, ...); empty -> 1017001" },
      ),
    ),
  },
  { additionalProperties: false },
);

export const ExtendedResponse = Type.Object(
  {
    code: Type.Integer({ description: "0 on success, else the vendor error code" }),
    message: Type.String(),
    request_id: Type.String(),
    data: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()], {
      description: "the vendor's result object for the command, e.g. {songs:[...]}",
    }),
    prelude_end_time: Type.Optional(
      Type.Integer({
        description: "/api/get_prelude_end_time only: the spec's example has it at the top level",
      }),
    ),
  },
  { additionalProperties: false },
);

declare module "fastify" {
  interface FastifyReply {
    /** A cached page's answer lent to this reply (page-cache.ts), given back once written out. */
    pageAnswer?: PageAnswer;
  }
}

/** What Fastify sets when it serializes a JSON answer itself, so both paths answer the same header. */
const JSON_TYPE = "application/json; charset=utf-8";

export default async function contentRoutes(app: FastifyInstance): Promise<void> {
  // Read once: the context is decorated once for the simulator's life, and a decorator lookup walks the plugin
  // instance's prototype chain on every request.
  const sim = app.sim;
  const state = contentStateOf(sim);
  const { plus, pages } = state;
  // This plugin instance's compiler is the one Fastify compiles the route's schemas with (it exists once the app
  // is ready): the fast path (simulator/fast-path/) validates with it.
  state.compile = (schema, httpPart) =>
    (app.validatorCompiler as unknown as (o: object) => (data: unknown) => boolean)({
      schema,
      method: "POST",
      url: "/v1/music/extended",
      httpPart,
    });
  app.post(
    "/v1/music/extended",
    {
      schema: {
        summary: "sendExtendedRequest: the content center (tags, charts, search, song info, clips)",
        tags: ["vendor"],
        headers: authHeaders,
        body: ExtendedBody,
        response: { 200: ExtendedResponse, 400: errorEnvelopeSchema, 401: errorEnvelopeSchema },
      },
      // A request the fast path read and then handed over (simulator/fast-path/): its body, replayed.
      preParsing: replayPreread,
      preHandler: requireSession,
      // A lent page answer goes back once the response is written out: 'finish' has fired (the socket no
      // longer holds the bytes) and the response was not destroyed. Otherwise it is simply not reused.
      onResponse: (_req, reply, done) => {
        const answer = reply.pageAnswer;
        if (answer !== undefined && reply.raw.writableFinished && !reply.raw.destroyed) {
          reply.pageAnswer = undefined;
          pages.release(answer);
        }
        done();
      },
    },
    // Synchronous (a throw reaches the error handler as a rejection would): an async handler costs each
    // request a promise and a microtask turn before the answer is written.
    (req, reply): void => {
      const body = req.body as Static<typeof ExtendedBody>;
      const ctx = { sim, session: req.musicSession!, app: req.auth!.app, plus };
      const data = dispatchRendered(body, ctx, pages);
      // A cached page is already JSON: sent as bytes (Fastify serializes only objects).
      if (Buffer.isBuffer(data)) {
        const answer = pages.envelope(req.id, data);
        reply.pageAnswer = answer;
        reply.code(200).type(JSON_TYPE).send(answer.bytes);
        return;
      }
      const envelope = okEnvelope(req.id, data);
      if (body.command === "/api/get_prelude_end_time") {
        reply.code(200).send({ ...envelope, prelude_end_time: data.prelude_end_time });
        return;
      }
      reply.code(200).send(envelope);
    },
  );
}
