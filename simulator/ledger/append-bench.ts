import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { openLedger } from "./sqlite-ledger.ts";
import type { NewLedgerRow } from "./types.ts";

// Append throughput of the billing ledger, one committed row per append as requestResource does it:
//   npx tsx simulator/ledger/append-bench.ts [rows]
// Prints rows/s for the default synchronous=FULL, for NORMAL (what durability would cost us to skip) and for
// :memory: (the ceiling without any I/O), plus the machine, so numbers from different hosts compare.

const rows = Number(process.argv[2] ?? 5000);
const row = (i: number): NewLedgerRow => ({
  time: Date.now(),
  app_id: 1000000001 + (i % 3),
  user_id: `user-${i % 1000}`,
  room_id: i % 2 ? `room-${i % 50}` : null,
  song_id: `v0_${100000 + (i % 10000)}`,
  resource_type: (i % 4) as 0,
  billing_mode: (i % 4) as 0,
  vendor_id: [0, 1, 2, 4][i % 4] as 0,
  quality: i % 3,
  scene_id: 0,
  master_id: i % 4 === 3 ? `master-${i % 10}` : null,
  resource_id: `r_${i.toString(36).padStart(24, "x")}`,
  request_id: `bench-${i.toString(36)}`,
});

function bench(name: string, dataDir: string, synchronous?: "full" | "normal"): void {
  const l = openLedger(dataDir, synchronous ? { synchronous } : {});
  const lat: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < rows; i++) {
    const t = performance.now();
    l.append(row(i));
    lat.push(performance.now() - t);
  }
  const s = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const p = (q: number) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))]!.toFixed(3);
  const tt = performance.now();
  l.totals();
  const totalsMs = (performance.now() - tt).toFixed(1);
  l.close();
  console.log(
    `${name.padEnd(16)} ${String(Math.round(rows / s)).padStart(7)} rows/s  p50 ${p(0.5)} ms  p99 ${p(0.99)} ms  totals() ${totalsMs} ms`,
  );
}

console.log(`node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, ${rows} appends each`);
const dir = mkdtempSync(join(tmpdir(), "ktv-ledger-bench-"));
try {
  bench("file, FULL", join(dir, "full"));
  bench("file, NORMAL", join(dir, "normal"), "normal");
  bench(":memory:", ":memory:");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
