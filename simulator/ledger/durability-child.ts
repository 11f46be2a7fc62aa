import { writeSync } from "node:fs";
import { openLedger } from "./sqlite-ledger.ts";

// Child process of durability.test.ts: appends rows to <dataDir>'s ledger and prints each id on stdout only
// after append() has returned, i.e. after the ledger acknowledged it. The parent SIGKILLs us once it has read
// enough acks; we never close the ledger, so nothing but the commits themselves can save the rows.
//   node --import tsx durability-child.ts <dataDir> <acks> stop|continue
// "stop": append exactly <acks> rows, then idle until killed. "continue": keep appending (bounded) so the
// kill lands in the middle of the write stream.

const [dataDir, acksArg, mode] = process.argv.slice(2);
const acks = Number(acksArg);
if (!dataDir || !Number.isInteger(acks) || acks < 1 || (mode !== "stop" && mode !== "continue")) {
  process.stderr.write("usage: durability-child.ts <dataDir> <acks> stop|continue\n");
  process.exit(2);
}
const ledger = openLedger(dataDir);
const limit = mode === "stop" ? acks : acks * 100;
for (let i = 0; i < limit; i++) {
  const r = ledger.append({
    time: Date.now(),
    app_id: 1000000001,
    user_id: `user-${i % 7}`,
    room_id: i % 3 === 0 ? "room-1" : null,
    song_id: `song-${i}`,
    resource_type: 1,
    billing_mode: 0,
    vendor_id: 0,
    quality: 0,
    scene_id: 0,
    master_id: null,
    resource_id: `r-${i}`,
    request_id: `q-${i}`,
  });
  // Synchronous write: the ack leaves the process before the next row is even attempted.
  writeSync(1, `${r.id}\n`);
}
// Idle (bounded) until the parent kills us; exiting on our own would be a test failure the parent sees.
setTimeout(() => process.exit(3), 30_000);
