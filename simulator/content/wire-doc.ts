import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { COMMAND_SCHEMAS, type CommandSchema } from "./schemas.ts";

// docs/wire-commands.md, generated from the command schemas (schemas.ts) that also check the params and feed
// /openapi.json: `npm run docs:wire` rewrites it, and wire-doc.test.ts fails when the file is stale.

export const WIRE_DOC_PATH = fileURLToPath(new URL("../../docs/wire-commands.md", import.meta.url));

type Json = {
  type?: string;
  description?: string;
  title?: string;
  properties?: Record<string, Json>;
  required?: string[];
  items?: Json;
  anyOf?: Json[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
};

const SONG_ITEM = "SongItem";

/** A schema's type in words: integer, string, 1 \| 3 \| 4, integer[], SongItem[], object. */
function typeOf(s: Json): string {
  if (s.title === SONG_ITEM) return SONG_ITEM;
  if (s.anyOf)
    return s.anyOf.map((x) => (x.const !== undefined ? JSON.stringify(x.const) : typeOf(x))).join(" \\| ");
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.type === "array" && s.items) {
    const t = typeOf(s.items);
    return t.includes(" ") ? `(${t})[]` : `${t}[]`;
  }
  return s.type ?? "any";
}

function limits(s: Json): string {
  const out: string[] = [];
  if (s.minimum !== undefined && s.maximum !== undefined) out.push(`${s.minimum} to ${s.maximum}`);
  else if (s.minimum !== undefined) out.push(`≥ ${s.minimum}`);
  if (s.minLength !== undefined && s.minLength > 0) out.push(`not empty`);
  if (s.maxLength !== undefined) out.push(`at most ${s.maxLength} characters`);
  if (s.minItems !== undefined && s.maxItems !== undefined) out.push(`${s.minItems} to ${s.maxItems} items`);
  if (s.items?.minimum !== undefined && s.items.maximum !== undefined)
    out.push(`each ${s.items.minimum} to ${s.items.maximum}`);
  return out.join(", ");
}

const cell = (s: string) => s.replaceAll("|", "\\|").replace(/\s+/g, " ");

function notes(s: Json): string {
  return cell([limits(s), s.description ?? ""].filter((x) => x !== "").join("; "));
}

/** One row per field, nested objects and arrays of objects flattened as `a.b` and `a[].b`. */
function fieldRows(s: Json, prefix = ""): string[] {
  const rows: string[] = [];
  const required = new Set(s.required ?? []);
  for (const [name, p] of Object.entries(s.properties ?? {})) {
    const path = `${prefix}${name}`;
    rows.push(`| \`${path}\` | ${typeOf(p)} | ${required.has(name) ? "yes" : "no"} | ${notes(p)} |`);
    if (p.title === SONG_ITEM || p.items?.title === SONG_ITEM) continue;
    if (p.type === "object") rows.push(...fieldRows(p, `${path}.`));
    if (p.type === "array" && p.items?.type === "object") rows.push(...fieldRows(p.items, `${path}[].`));
  }
  return rows;
}

const HEAD = ["| field | type | always | notes |", "|---|---|---|---|"];
const PARAM_HEAD = ["| param | type | required | notes |", "|---|---|---|---|"];

function findSongItem(s: Json): Json | null {
  if (s.title === SONG_ITEM) return s;
  for (const p of Object.values(s.properties ?? {})) {
    const hit = findSongItem(p) ?? (p.items ? findSongItem(p.items) : null);
    if (hit) return hit;
  }
  return null;
}

function section(command: string, c: CommandSchema): string[] {
  const params = c.params as unknown as Json;
  const data = c.data as unknown as Json;
  return [
    `## \`${command}\``,
    "",
    `${c.summary[0]!.toUpperCase()}${c.summary.slice(1)}. Vendors: ${c.vendors}.${c.errors ? ` Errors of its own: ${c.errors}.` : ""}`,
    "",
    "Params:",
    "",
    ...PARAM_HEAD,
    ...fieldRows(params),
    "",
    "Answer (`data`):",
    "",
    ...HEAD,
    ...fieldRows(data),
    "",
  ];
}

export function renderWireCommands(): string {
  const entries = Object.entries(COMMAND_SCHEMAS);
  let songItem: Json | null = null;
  for (const [, c] of entries) songItem ??= findSongItem(c.data as unknown as Json);
  return [
    "# Content-center commands (`POST /v1/music/extended`, sendExtendedRequest)",
    "",
    "<!-- Generated from simulator/content/schemas.ts by `npm run docs:wire`; do not edit by hand. -->",
    "",
    'The body is `{ "command": "<command>", "params": {...} }`; `params` may also be the same object as a JSON',
    "string (the SDK's form). The answer is the envelope `{ code, message, request_id, data }` with the",
    "command's answer in `data` (null when `code` is not 0). The same schemas check the params (a param that",
    "does not fit answers 1017040 naming it) and are served in `/openapi.json` (components.schemas",
    "`ExtendedParams_*` / `ExtendedData_*`, and `x-commands` on the route).",
    "",
    "Common errors: 1017000 empty command; 1017001 empty params; 1017040 unknown command or a param that does",
    "not fit; vendor_id: 1017071 invalid, 1017052 not enabled for the app, 1017053 the vendor lacks the",
    "command. A missing required param is answered by the command (1017040 naming it, or the vendor's own",
    "code: 1017002 for song_id). A null param counts as absent. Lists are pages of 20 songs.",
    "",
    ...entries.flatMap(([command, c]) => section(command, c)),
    ...(songItem
      ? [`## ${SONG_ITEM}`, "", "One song of a list (`songs[]`).", "", ...HEAD, ...fieldRows(songItem), ""]
      : []),
  ].join("\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(WIRE_DOC_PATH, renderWireCommands());
  process.stdout.write(`wrote ${WIRE_DOC_PATH}\n`);
}
