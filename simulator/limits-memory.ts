// Measures what one session, resource, room and room member cost in heap, through the real routes
// (app.inject), to state the memory bound of the caps in limits.ts. Run:
//   node --expose-gc --import tsx simulator/limits-memory.ts [--n 20000] [--rounds 3]
// Each figure: heapUsed after full GCs, after N creations minus before, over N, after a warm-up of each route
// (its one-time costs are not per item); the median of the rounds, each round a fresh process (a closed
// simulator's leftovers, freed late, made in-process rounds come out negative).
// The ledger is in memory here (":memory:" SQLite lives outside the JS heap, as the file ledger does).
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import { buildSimulator } from "./app.ts";
import { createRoomRegistry } from "./auth/rooms.ts";
import { DEFAULT_LIMITS } from "./limits.ts";
import { DEV_APP } from "./options.ts";

const { values } = parseArgs({
  options: {
    n: { type: "string", default: "20000" },
    rounds: { type: "string", default: "3" },
    child: { type: "boolean", default: false },
  },
});
const N = Number(values.n);
const ROUNDS = Number(values.rounds);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");

function heap(): number {
  for (let i = 0; i < 4; i++) gc!();
  return process.memoryUsage().heapUsed;
}

const auth = { "x-app-id": String(DEV_APP.app_id), "x-app-sign": DEV_APP.app_sign };

async function measureOnce(): Promise<Record<string, number>> {
  // Caps raised so nothing is forgotten while measuring.
  const { app, ctx } = await buildSimulator({
    catalogSize: 2000,
    dataDir: ":memory:",
    logLevel: "silent",
    limits: { resourcesPerSession: 10 * N, roomsPerUser: 10 * N },
  });
  const post = async (url: string, body: unknown, session?: string) => {
    const r = await app.inject({
      method: "POST",
      url,
      headers: { ...auth, ...(session ? { "x-session": session } : {}) },
      payload: body as object,
    });
    const env = r.json();
    if (env.code !== 0) throw new Error(`${url}: ${r.body}`);
    return env.data;
  };
  const songs: string[] = [];
  for (let i = 0; songs.length < 50 && i < ctx.catalog.size; i++) {
    const s = ctx.catalog.at(i);
    if (s.item.vendor_id === 0 && s.has_accompaniment && s.item.copyright.song_lyric === 1)
      songs.push(s.item.song_id);
  }
  const out: Record<string, number> = {};
  // Warm-up: every route once per 200, so code, inline caches and lazily made structures exist before measuring.
  for (let i = 0; i < 200; i++) {
    const s = (await post("/v1/music/init", { user_id: `warm-${i}` })).session;
    await post("/v1/room/login", { room_id: `warm-${i}` }, s);
    await post("/v1/room/login", { room_id: "warm-0" }, s);
    const body = { song_id: songs[i % songs.length], resource_type: 1, billing_mode: 0, vendor_id: 0 };
    await post("/v1/music/resource", body, s);
  }

  // Sessions: N users, one init each.
  let h0 = heap();
  const sessions: string[] = [];
  for (let i = 0; i < N; i++) sessions.push((await post("/v1/music/init", { user_id: `user-${i}` })).session);
  out.session = (heap() - h0) / N;

  // Rooms: each of N users logs in to a room of its own (a new room, 1 member).
  h0 = heap();
  for (let i = 0; i < N; i++) await post("/v1/room/login", { room_id: `room-${i}` }, sessions[i]);
  out.room = (heap() - h0) / N;

  // Members: every other user joins room-0, one more member in an existing room each.
  h0 = heap();
  for (let i = 1; i < N; i++) await post("/v1/room/login", { room_id: "room-0" }, sessions[i]);
  out.member = (heap() - h0) / (N - 1);

  // Resources: one session requests N accompaniments (count billing).
  h0 = heap();
  for (let i = 0; i < N; i++) {
    await post(
      "/v1/music/resource",
      { song_id: songs[i % songs.length], resource_type: 1, billing_mode: 0, vendor_id: 0 },
      sessions[0],
    );
  }
  out.resource = (heap() - h0) / N;
  // Members again, the registry alone (the route's own garbage of ~±40 B per call hides a Set entry): N
  // users (their id strings made first, as sessions hold them) join 100 existing rooms.
  const registry = createRoomRegistry({ ...DEFAULT_LIMITS, roomsPerUser: 10 * N });
  const users = Array.from({ length: N }, (_, i) => `member-${i}`);
  for (let r = 0; r < 100; r++) registry.join(1, `r${r}`, "owner");
  h0 = heap();
  for (let i = 0; i < N; i++) registry.join(1, `r${i % 100}`, users[i]!);
  out.member_registry = (heap() - h0) / N;
  if (ctx.resources.count !== N + 200 || ctx.sessions.count !== N + 200)
    throw new Error("something was forgotten");
  await app.close();
  return out;
}

if (values.child) {
  console.log(JSON.stringify(await measureOnce()));
} else {
  const rounds: Record<string, number>[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const args = ["--expose-gc", "--import", "tsx", import.meta.filename, "--child", "--n", String(N)];
    rounds.push(
      JSON.parse(execFileSync(process.execPath, args, { encoding: "utf8" }).trim().split("\n").pop()!),
    );
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const k of Object.keys(rounds[0]!)) {
    const xs = rounds.map((r) => r[k]!);
    console.log(
      `${k.padEnd(9)} ${Math.round(median(xs))} B (rounds: ${xs.map((x) => Math.round(x)).join(", ")})`,
    );
  }
  console.log(`N=${N}, node ${process.version}`);
}
