import { COMMAND_SCHEMAS } from "./schemas.ts";

// Puts every sendExtendedRequest command into the OpenAPI document (app.ts hands this to @fastify/swagger's
// transformObject): each command's params and answer as components.schemas ExtendedParams_* / ExtendedData_*,
// the same schema objects the dispatcher checks params with (schemas.ts); the route's request body as one
// alternative per command; its answer's `data` as one of the answers; and `x-commands`, a list a tool can
// read (command, vendors, summary, errors, refs).

const EXTENDED = "/v1/music/extended";

type Json = Record<string, unknown>;

/** "/song/accompany/clip_info" -> "song_accompany_clip_info" */
export const componentSuffix = (command: string) => command.replace(/^\//, "").replace(/[^A-Za-z0-9]+/g, "_");

/**
 * A TypeBox schema as plain OpenAPI 3.0 JSON: the TypeBox symbols dropped (JSON round trip) and `const`,
 * which 3.0 lacks, written as a one-value enum.
 */
export function openApiSchema(schema: unknown): Json {
  const plain = JSON.parse(JSON.stringify(schema)) as Json;
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) {
      for (const v of x) walk(v);
      return;
    }
    if (typeof x !== "object" || x === null) return;
    const o = x as Json;
    if ("const" in o) {
      o.enum = [o.const];
      delete o.const;
    }
    for (const v of Object.values(o)) walk(v);
  };
  walk(plain);
  return plain;
}

export function withExtendedCommands<T>(doc: T): T {
  const d = doc as Json & { components?: { schemas?: Json }; paths?: Record<string, Json> };
  const op = d.paths?.[EXTENDED]?.post as Json | undefined;
  if (!op) return doc;
  d.components ??= {};
  d.components.schemas ??= {};
  const schemas = d.components.schemas;
  const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
  const commands: Json[] = [];
  const bodies: Json[] = [];
  const answers: Json[] = [];
  for (const [command, s] of Object.entries(COMMAND_SCHEMAS)) {
    const suffix = componentSuffix(command);
    schemas[`ExtendedParams_${suffix}`] = {
      ...openApiSchema(s.params),
      title: `${command} params`,
      description: `params of ${command}: ${s.summary}. A null param counts as absent.`,
    };
    schemas[`ExtendedData_${suffix}`] = { ...openApiSchema(s.data), title: `${command} data` };
    commands.push({
      command,
      summary: s.summary,
      vendors: s.vendors,
      ...(s.errors ? { errors: s.errors } : {}),
      params: ref(`ExtendedParams_${suffix}`),
      data: ref(`ExtendedData_${suffix}`),
    });
    bodies.push({
      type: "object",
      title: command,
      required: ["command", "params"],
      additionalProperties: false,
      properties: {
        command: { type: "string", enum: [command] },
        params: {
          oneOf: [
            ref(`ExtendedParams_${suffix}`),
            { type: "string", description: "the SDK's form: the params object as a JSON string" },
          ],
        },
      },
    });
    answers.push(ref(`ExtendedData_${suffix}`));
  }
  op["x-commands"] = commands;
  op.description =
    "One vendor command per call. Each command's params and `data` are listed below (request body and " +
    "response alternatives), in components.schemas ExtendedParams_* / ExtendedData_*, and in x-commands. " +
    "1017000 empty command, 1017001 empty params, 1017040 unknown command or a param that does not fit its " +
    "schema (named in the message), 1017071 / 1017052 / 1017053 for vendor_id.";
  const body = (op.requestBody as { content?: Record<string, { schema?: Json }> } | undefined)?.content?.[
    "application/json"
  ];
  if (body) body.schema = { oneOf: bodies };
  // New objects, never a change to one the route's own schemas might share.
  const okContent = (
    op.responses as Record<string, { content?: Record<string, { schema?: Json }> }> | undefined
  )?.["200"]?.content?.["application/json"];
  const ok = okContent?.schema as { properties?: Json } | undefined;
  if (okContent && ok?.properties) {
    okContent.schema = {
      ...ok,
      properties: {
        ...ok.properties,
        data: {
          nullable: true,
          description: "the command's answer (null with a non-zero code)",
          oneOf: answers,
        },
      },
    };
  }
  return doc;
}
