import { Value } from "@sinclair/typebox/value";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, session, testSimulator } from "../../test/sim.ts";
import type { Simulator } from "../app.ts";
import type { SongFacts } from "../catalog/types.ts";
import { COMMANDS } from "./commands/index.ts";
import { COMMAND_SCHEMAS } from "./schemas.ts";

// The command schemas are the truth the docs are generated from: every command has one, every answer fits its
// `data` schema exactly (no undocumented field), and wrong params are judged by the `params` schema.

let sim: Simulator;
let h: Record<string, string>;
beforeAll(async () => {
  sim = await testSimulator();
  h = await session(sim.url, "schema-user");
});
afterAll(() => sim.close());

const ext = async (command: string, params: Record<string, unknown>) =>
  (await call(sim.url, "POST", "/v1/music/extended", { headers: h, body: { command, params } })).body;

function songOf(vendor: number, pred: (f: SongFacts) => boolean = () => true): SongFacts {
  for (let i = 0; i < sim.ctx.catalog.size; i++) {
    const f = sim.ctx.catalog.at(i);
    if (f.item.vendor_id === vendor && pred(f)) return f;
  }
  throw new Error("no such song");
}

describe("extended command schemas", () => {
  it("exist for exactly the commands the simulator serves", () => {
    expect(Object.keys(COMMAND_SCHEMAS).sort()).toEqual([...COMMANDS.keys()].sort());
  });

  it("describe every command's answer exactly, for every vendor that has it", async () => {
    const tags = (await ext("/tag/list", { vendor_id: 0 })).data.groups[0].tags[0].tag_id;
    const withClip = songOf(0, (f) => f.has_accompaniment && f.item.has_clip === 1 && f.has_krc);
    const v2 = songOf(2, (f) => f.item.has_short_segment === 1);
    const res = await call(sim.url, "POST", "/v1/music/resource", {
      headers: h,
      body: { song_id: withClip.item.song_id, resource_type: 2, billing_mode: 0, vendor_id: 0 },
    });
    expect(res.body.code, JSON.stringify(res.body)).toBe(0);
    const name = withClip.item.song_name;
    const cases: [string, Record<string, unknown>][] = [
      ["/tag/list", { vendor_id: 0 }],
      ["/tag/song", { vendor_id: 0, tag_id: tags, page: 1, filter: [1] }],
      ["/song/infos", { vendor_id: 0, songs_id: [withClip.item.song_id] }],
      ["/song/infos", { vendor_id: 2, songs_id: [v2.item.song_id] }],
      ["/search/tips", { vendor_id: 0, keyword: name.slice(0, 1) }],
      ["/search/song", { vendor_id: 0, keyword: name }],
      ["/search/plus", { keyword: name, vendors_id: [0, 2], items: [2, 1] }],
      ["/top/song", { vendor_id: 0, top_id: "8888" }],
      ["/top/song", { vendor_id: 2, top_id: "22004" }],
      ["/song/copyright", { vendor_id: 0, songs_id: [withClip.item.song_id] }],
      ["/song/accompany/krc/segment", { vendor_id: 0, song_id: withClip.item.song_id }],
      ["/song/accompany/clip_info", { vendor_id: 0, song_id: withClip.item.song_id }],
      ["/song/accompany/clip_info", { vendor_id: 2, song_id: v2.item.song_id }],
      ["/song/accompany/clip_url/status", { vendor_id: 0, song_id: withClip.item.song_id }],
      ["/song/accompany/clip_url/status", { vendor_id: 2, song_id: v2.item.song_id }],
      ["/song/extra", { vendor_id: 0, song_id: withClip.item.song_id }],
      ["/api/get_prelude_end_time", { resource_id: res.body.data.resources[0].resource_id }],
    ];
    const covered = new Set<string>();
    for (const [command, params] of cases) {
      const b = await ext(command, params);
      expect(b.code, `${command}: ${JSON.stringify(b)}`).toBe(0);
      const schema = COMMAND_SCHEMAS[command]!;
      const errors = [...Value.Errors(schema.data, b.data)].map((e) => `${e.path}: ${e.message}`);
      expect(errors, command).toEqual([]);
      expect(Value.Check(schema.params, params), `${command} params`).toBe(true);
      covered.add(command);
    }
    expect([...covered].sort()).toEqual(Object.keys(COMMAND_SCHEMAS).sort());
  });

  it("judge wrong params by the params schema: 1017040 naming the param and the schema's reason", async () => {
    const b = await ext("/search/song", { keyword: "a", page: 1.5 });
    expect(b.code).toBe(1017040);
    expect(b.message).toMatch(/page does not fit its schema: expected integer/);
    const f = await ext("/top/song", { top_id: "8888", filter: [2] });
    expect(f.code).toBe(1017040);
    expect(f.message).toMatch(/filter does not fit its schema/);
    // Missing required params are the command's: song_id answers the vendor's own code.
    expect((await ext("/song/extra", { vendor_id: 0 })).code).toBe(1017002);
    expect((await ext("/song/extra", { vendor_id: 0, song_id: null })).code).toBe(1017002);
  });
});
