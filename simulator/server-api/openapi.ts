import { openApiSchema } from "../content/openapi.ts";
import { ACTIONS } from "./actions.ts";
import { wireName } from "./params.ts";

// Puts every server API action into the OpenAPI document (app.ts chains this after the extended commands'
// transform): each action's Data schema as components.schemas ServerApiData_<Action> (the same schema the
// conformance test checks answers against), and `x-actions` on GET /, one entry per action with its params
// (wire names, `[]` on lists), the SDK command it shares, the vendors that have it and a ref to its Data.

type Json = Record<string, unknown>;

const TYPE: Record<string, Json> = {
  string: { type: "string" },
  int: { type: "integer" },
  strings: { type: "array", items: { type: "string" } },
  ints: { type: "array", items: { type: "integer" } },
};

export function withServerApiActions<T>(doc: T): T {
  const d = doc as Json & { components?: { schemas?: Json }; paths?: Record<string, Json> };
  const op = d.paths?.["/"]?.get as Json | undefined;
  if (!op) return doc;
  d.components ??= {};
  d.components.schemas ??= {};
  const schemas = d.components.schemas;
  const actions: Json[] = [];
  for (const a of ACTIONS.values()) {
    schemas[`ServerApiData_${a.name}`] = { ...openApiSchema(a.data), title: `${a.name} Data` };
    actions.push({
      action: a.name,
      summary: a.summary,
      vendors: a.vendors,
      ...(a.command ? { sdk_command: a.command } : {}),
      params: a.params.map((p) => ({
        name: wireName(p),
        required: p.required === true,
        schema: TYPE[p.kind],
        description: p.description,
      })),
      data: { $ref: `#/components/schemas/ServerApiData_${a.name}` },
    });
  }
  op["x-actions"] = actions;
  op.description =
    "The vendor's server-side KTV REST API. Common params in the query (below), action params per x-actions " +
    "(lists as Name[]=a&Name[]=b). Every answer to GET is HTTP 200 {Code, Message, RequestId, Data}; Data is one of " +
    "components.schemas ServerApiData_*. Codes: 100000004 Timestamp outside +-10 min, 100000005 bad Signature, " +
    "320000002 over the app's per-action requests/s (default 200), 320000004 illegal param (named in Message), " +
    "320010009 no lyric, 320010013 vendor not enabled, 320010014 vendor not supported by the action, 320040001 " +
    "VendorId, 320040002 AppId, 320040004 SongId, 320040005 Page, 320040008 TopId invalid, 320050000/320050002 " +
    "system error/busy, 320050003 an SDK-path failure without a server API equivalent (SDK code in Message). " +
    "Another method than GET or HEAD on / answers HTTP 405 with Allow: GET, HEAD and Code 320000004.";
  return doc;
}
