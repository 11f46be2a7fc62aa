import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LEDGER_APPLICATION_ID, LEDGER_SCHEMA_VERSION } from "./schema.ts";
import { LEDGER_FILE, LedgerOpenError, MAX_PAGE, openLedger } from "./sqlite-ledger.ts";
import type { Ledger, NewLedgerRow } from "./types.ts";

function row(over: Partial<NewLedgerRow> = {}): NewLedgerRow {
  return {
    time: 1_700_000_000_000,
    app_id: 1000000001,
    user_id: "u1",
    room_id: null,
    song_id: "s1",
    resource_type: 0,
    billing_mode: 0,
    vendor_id: 0,
    quality: 0,
    scene_id: 0,
    master_id: null,
    resource_id: "r1",
    request_id: "q1",
    ...over,
  };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ktv-ledger-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("openLedger(:memory:)", () => {
  let l: Ledger;
  beforeEach(() => {
    l = openLedger(":memory:");
  });
  afterEach(() => l.close());

  it("appends rows with increasing ids and reads back every field", () => {
    const a = l.append(row({ room_id: "room-1", master_id: "m1", quality: 2, scene_id: 4, billing_mode: 3 }));
    const b = l.append(row({ user_id: "u2" }));
    expect(b.id).toBe(a.id + 1);
    expect(l.count()).toBe(2);
    expect(l.rows()).toEqual([a, b]);
    expect(a).toMatchObject({ room_id: "room-1", master_id: "m1", quality: 2, scene_id: 4, billing_mode: 3 });
  });

  it("stores an absent room_id/master_id as null", () => {
    const r = l.append({
      ...row(),
      room_id: undefined as unknown as null,
      master_id: undefined as unknown as null,
    });
    expect(l.rows()[0]).toEqual(r);
    expect(r.room_id).toBeNull();
    expect(r.master_id).toBeNull();
  });

  it("pages with since_id (exclusive) and limit, optionally per app", () => {
    const ids = Array.from({ length: 25 }, (_, i) => l.append(row({ app_id: i % 2 === 0 ? 1 : 2 })).id);
    expect(l.rows({ limit: 10 }).map((r) => r.id)).toEqual(ids.slice(0, 10));
    expect(l.rows({ since_id: ids[9], limit: 10 }).map((r) => r.id)).toEqual(ids.slice(10, 20));
    expect(l.rows({ since_id: ids[19], limit: 10 }).map((r) => r.id)).toEqual(ids.slice(20));
    expect(l.rows({ since_id: ids[24] })).toEqual([]);
    const app2 = l.rows({ app_id: 2, limit: 5 });
    expect(app2.map((r) => r.app_id)).toEqual([2, 2, 2, 2, 2]);
    expect(app2.map((r) => r.id)).toEqual(ids.filter((_, i) => i % 2 === 1).slice(0, 5));
    expect(l.rows({ app_id: 2, since_id: app2[4]!.id, limit: 100 })).toHaveLength(7);
  });

  it("limit defaults to 100, below 1 becomes 1, a huge limit returns all there is", () => {
    for (let i = 0; i < 150; i++) l.append(row());
    expect(l.rows()).toHaveLength(100);
    expect(l.rows({ limit: 0 })).toHaveLength(1);
    expect(l.rows({ limit: -5 })).toHaveLength(1);
    expect(l.rows({ limit: MAX_PAGE * 10 })).toHaveLength(150);
    expect(l.rows({ since_id: -10, limit: 3 }).map((r) => r.id)).toEqual([1, 2, 3]);
    expect(l.rows({ since_id: Number.NaN, limit: Number.NaN })).toHaveLength(100);
    expect(l.rows({ since_id: 2.7, limit: 2.9 }).map((r) => r.id)).toEqual([3, 4]);
    expect(l.rows({ since_id: Number.POSITIVE_INFINITY })).toHaveLength(100);
  });

  it("totals by mode, vendor and app, keyed by the enum ints as strings", () => {
    l.append(row({ app_id: 1, billing_mode: 0, vendor_id: 0 }));
    l.append(row({ app_id: 1, billing_mode: 1, vendor_id: 1 }));
    l.append(row({ app_id: 1, billing_mode: 1, vendor_id: 4 }));
    l.append(row({ app_id: 2, billing_mode: 2, vendor_id: 4 }));
    l.append(row({ app_id: 2, billing_mode: 3, vendor_id: 2 }));
    expect(l.totals()).toEqual({
      billable: 5,
      by_mode: { "0": 1, "1": 2, "2": 1, "3": 1 },
      by_vendor: { "0": 1, "1": 1, "2": 1, "4": 2 },
      by_app: { "1": 3, "2": 2 },
    });
    expect(l.totals({ app_id: 2 })).toEqual({
      billable: 2,
      by_mode: { "2": 1, "3": 1 },
      by_vendor: { "2": 1, "4": 1 },
      by_app: { "2": 2 },
    });
    expect(l.totals({ app_id: 99 })).toEqual({ billable: 0, by_mode: {}, by_vendor: {}, by_app: {} });
  });

  it("clear() empties the ledger but never reuses ids", () => {
    l.append(row());
    const last = l.append(row());
    l.clear();
    expect(l.count()).toBe(0);
    expect(l.totals().billable).toBe(0);
    expect(l.append(row()).id).toBeGreaterThan(last.id);
  });

  it("refuses impossible enum values instead of billing them", () => {
    expect(() => l.append(row({ vendor_id: 3 as 0 }))).toThrow(/CHECK/);
    expect(() => l.append(row({ billing_mode: 7 as 0 }))).toThrow(/CHECK/);
    expect(() => l.append(row({ resource_type: -1 as 0 }))).toThrow(/CHECK/);
    expect(() => l.append(row({ app_id: 0 }))).toThrow(/CHECK/);
    expect(() => l.append(row({ song_id: null as unknown as string }))).toThrow(/NOT NULL/);
    expect(l.count()).toBe(0);
  });

  it("close() is idempotent", () => {
    l.close();
    expect(() => l.close()).not.toThrow();
  });
});

describe("openLedger(dir)", () => {
  it("creates the dir and a WAL-mode, synchronous=FULL, versioned file; rows survive reopening", () => {
    const dataDir = join(dir, "nested", "data");
    const l = openLedger(dataDir);
    const r = l.append(row({ song_id: "persisted" }));
    l.close();
    const db = new Database(join(dataDir, LEDGER_FILE), { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.pragma("user_version", { simple: true })).toBe(LEDGER_SCHEMA_VERSION);
    expect(db.pragma("application_id", { simple: true })).toBe(LEDGER_APPLICATION_ID);
    db.close();
    const again = openLedger(dataDir);
    expect(again.rows()).toEqual([r]);
    again.close();
  });

  it("runs WAL + synchronous=FULL by default and NORMAL only when asked", () => {
    const full = openLedger(dir);
    expect(full.info()).toEqual({
      file: join(dir, LEDGER_FILE),
      journal_mode: "wal",
      synchronous: 2,
      schema_version: LEDGER_SCHEMA_VERSION,
    });
    full.close();
    const normal = openLedger(dir, { synchronous: "normal" });
    expect(normal.info().synchronous).toBe(1);
    normal.close();
  });

  it("pages and totals by index, never by scanning the table", () => {
    openLedger(dir).close();
    const db = new Database(join(dir, LEDGER_FILE), { readonly: true });
    const plan = (sql: string) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[])
        .map((r) => r.detail)
        .join(" | ");
    expect(plan("SELECT * FROM ledger WHERE app_id = 1 AND id > 5 ORDER BY id LIMIT 10")).toMatch(
      /USING INDEX ledger_by_app \(app_id=\? AND rowid>\?\)/,
    );
    const totals = "SELECT app_id, billing_mode, vendor_id, COUNT(*) FROM ledger";
    expect(plan(`${totals} GROUP BY app_id, billing_mode, vendor_id`)).toMatch(
      /COVERING INDEX ledger_totals/,
    );
    expect(plan(`${totals} WHERE app_id = 1 GROUP BY app_id, billing_mode, vendor_id`)).toMatch(
      /COVERING INDEX ledger_totals \(app_id=\?\)/,
    );
    db.close();
  });

  it("refuses a data dir that is a file", () => {
    const f = join(dir, "file");
    writeFileSync(f, "x");
    expect(() => openLedger(f)).toThrow(LedgerOpenError);
    expect(() => openLedger(join(f, "sub"))).toThrow(/cannot create data dir/);
  });

  it("refuses a ledger path that is a directory (cannot open)", () => {
    mkdirSync(join(dir, LEDGER_FILE));
    expect(() => openLedger(dir)).toThrow(/ledger: cannot open|not writable|cannot initialise/);
  });

  it("refuses a corrupt file with a clear message and leaves it untouched", () => {
    const f = join(dir, LEDGER_FILE);
    const junk = Buffer.from("this is not a sqlite database, just some bytes\n".repeat(200));
    writeFileSync(f, junk);
    expect(() => openLedger(dir)).toThrow(/corrupt or not a SQLite database/);
    expect(readFileSync(f).equals(junk)).toBe(true);
  });

  it("refuses a ledger with a damaged page (integrity check at start-up)", () => {
    const l = openLedger(dir, { synchronous: "normal" }); // fsync per row is not what this test is about
    for (let i = 0; i < 3000; i++) l.append(row({ user_id: `user-${i}` }));
    l.close();
    const f = join(dir, LEDGER_FILE);
    const bytes = readFileSync(f);
    bytes.fill(0x41, 4096, 8192); // page 2 of 4 KiB pages: inside the ledger's b-trees, not the header
    writeFileSync(f, bytes);
    expect(() => openLedger(dir)).toThrow(/corrupt.*integrity check failed/);
  });

  it("refuses a SQLite file that is not a ledger", () => {
    const db = new Database(join(dir, LEDGER_FILE));
    db.exec("CREATE TABLE other (x)");
    db.close();
    expect(() => openLedger(dir)).toThrow(/not a ktv-harness ledger/);
  });

  it("refuses a ledger written by a newer schema", () => {
    openLedger(dir).close();
    const db = new Database(join(dir, LEDGER_FILE));
    db.pragma(`user_version = ${LEDGER_SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => openLedger(dir)).toThrow(/newer than this build/);
  });
});
