import { mkdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import Database from "better-sqlite3";
import { LedgerSchemaError, migrate } from "./schema.ts";
import type { Ledger, LedgerQuery, LedgerRow, LedgerTotals, NewLedgerRow } from "./types.ts";

export const LEDGER_FILE = "ledger.sqlite";
export const DEFAULT_PAGE = 100;
/** Largest page rows() returns; callers computing a "page was full" cursor must compare with min(limit, MAX_PAGE). */
export const MAX_PAGE = 100_000;

/** Why the ledger cannot be opened; the message names the file and what to do, for a clean start-up error. */
export class LedgerOpenError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LedgerOpenError";
  }
}

export interface LedgerOptions {
  /**
   * "full" (default) fsyncs the WAL on every commit. "normal" survives a process crash (SIGKILL) but may lose
   * the last commits on an OS crash or power loss: for benchmarks and load tests that accept that.
   */
  synchronous?: "full" | "normal";
}

/** What the ledger really runs with, read back from its own connection (start-up log, tests). */
export interface LedgerInfo {
  file: string;
  journal_mode: string;
  /** 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA */
  synchronous: number;
  schema_version: number;
}

export interface SqliteLedger extends Ledger {
  info(): LedgerInfo;
}

const COLUMNS = [
  "time",
  "app_id",
  "user_id",
  "room_id",
  "song_id",
  "resource_type",
  "billing_mode",
  "vendor_id",
  "quality",
  "scene_id",
  "master_id",
  "resource_id",
  "request_id",
] as const;

/**
 * mkdir -p, one component at a time. Node 20's `mkdirSync(p, {recursive: true})` spins forever when the file
 * system answers ENOENT for a parent that exists (e.g. under /proc), which would hang start-up instead of
 * failing it.
 */
function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let p = dir; ; p = dirname(p)) {
    const st = statSync(p, { throwIfNoEntry: false });
    if (st) {
      if (!st.isDirectory()) throw new Error(`${p} exists and is not a directory`);
      break;
    }
    missing.push(p);
    if (dirname(p) === p) break;
  }
  for (const p of missing.reverse()) mkdirSync(p);
}

/** Query numbers come from URLs: anything not finite falls back, the rest is floored into [min, max]. */
function clampInt(v: number | undefined, min: number, max: number, fallback: number): number {
  if (v === undefined || !Number.isFinite(v)) return fallback;
  return Math.min(max, Math.max(min, Math.floor(v)));
}

function prepareDir(dataDir: string): string {
  const dir = resolve(dataDir);
  try {
    makeDirs(dir);
  } catch (e) {
    throw new LedgerOpenError(`ledger: cannot create data dir ${dir}: ${(e as Error).message}`, { cause: e });
  }
  return join(dir, LEDGER_FILE);
}

function openDatabase(file: string): Database.Database {
  try {
    return new Database(file);
  } catch (e) {
    throw new LedgerOpenError(
      `ledger: cannot open ${file} (is the data dir writable?): ${(e as Error).message}`,
      { cause: e },
    );
  }
}

function configure(db: Database.Database, file: string, o: LedgerOptions): void {
  try {
    if (file !== ":memory:") {
      const mode = db.pragma("journal_mode = WAL", { simple: true });
      if (mode !== "wal") throw new Error(`journal_mode is ${String(mode)}, not wal`);
    }
    // A row is acknowledged to the client only after append() returns, so the commit must be durable by then.
    // In WAL mode synchronous=NORMAL already survives the acceptance test (SIGKILL right after the ack: the WAL
    // bytes sit in the OS page cache, which outlives the process) but not an OS crash or power loss, where the
    // last commits vanish although the client was told "billed". FULL fsyncs the WAL on every commit, the only
    // setting under which "acknowledged" means "on disk". Its cost, measured by append-bench.ts on this 2-core
    // VM: ~5,000 appends/s (p50 0.18 ms) on a quiet disk, down to ~400/s (p99 11 ms) while other processes
    // fsync; NORMAL does 11,000-22,000/s. A load test that must not pay that can open with "normal".
    db.pragma(`synchronous = ${o.synchronous === "normal" ? "NORMAL" : "FULL"}`);
    // A second writer (another simulator on the same dir) waits briefly instead of failing the request.
    db.pragma("busy_timeout = 2000");
    // A damaged page would otherwise surface mid-run as failed billing; refuse to start instead. Costs ~1.2 s
    // per million rows, nothing for the small ledgers of tests.
    const problems = (db.pragma("quick_check(3)") as { quick_check: string }[]).map((r) => r.quick_check);
    if (problems.join() !== "ok") {
      throw Object.assign(
        new Error(`integrity check failed: ${problems.join("; ").replace(/\s*\n\s*/g, " / ")}`),
        { code: "SQLITE_CORRUPT" },
      );
    }
    migrate(db);
  } catch (e) {
    db.close();
    if (e instanceof LedgerSchemaError)
      throw new LedgerOpenError(`ledger: ${file}: ${e.message}`, { cause: e });
    const code = (e as { code?: string }).code;
    const hint =
      code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT"
        ? "the file is corrupt or not a SQLite database; move it away to start a fresh ledger"
        : code === "SQLITE_READONLY" || code === "SQLITE_CANTOPEN" || code === "SQLITE_IOERR_WRITE"
          ? "the data dir or file is not writable"
          : "cannot initialise the ledger";
    throw new LedgerOpenError(`ledger: ${file}: ${hint}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Opens (creating if needed) the durable billing ledger `<dataDir>/ledger.sqlite`; `":memory:"` keeps it in
 * memory for tests. Throws LedgerOpenError when the dir cannot be created, is not writable, or holds a file
 * that is not a ledger of a schema this build understands.
 */
export function openLedger(dataDir: string, options: LedgerOptions = {}): SqliteLedger {
  const file = dataDir === ":memory:" ? ":memory:" : prepareDir(dataDir);
  const db = openDatabase(file);
  configure(db, file, options);

  const insert = db.prepare(
    `INSERT INTO ledger (${COLUMNS.join(", ")}) VALUES (${COLUMNS.map(() => "?").join(", ")})`,
  );
  const pageAll = db.prepare("SELECT * FROM ledger WHERE id > ? ORDER BY id LIMIT ?");
  const pageApp = db.prepare("SELECT * FROM ledger WHERE app_id = ? AND id > ? ORDER BY id LIMIT ?");
  // One grouped scan of the covering index (app_id, billing_mode, vendor_id) yields every total at once.
  const groupAll = db.prepare(
    "SELECT app_id, billing_mode, vendor_id, COUNT(*) AS n FROM ledger GROUP BY app_id, billing_mode, vendor_id",
  );
  const groupApp = db.prepare(
    "SELECT app_id, billing_mode, vendor_id, COUNT(*) AS n FROM ledger WHERE app_id = ? GROUP BY app_id, billing_mode, vendor_id",
  );
  const countAll = db.prepare("SELECT COUNT(*) AS n FROM ledger").pluck();
  const deleteAll = db.prepare("DELETE FROM ledger");
  let closed = false;

  return {
    append(row: NewLedgerRow): LedgerRow {
      // Autocommit: run() returns only after the commit (and, with synchronous=FULL, the WAL fsync).
      const stored: NewLedgerRow = { ...row, room_id: row.room_id ?? null, master_id: row.master_id ?? null };
      const info = insert.run(COLUMNS.map((c) => stored[c]));
      return { id: Number(info.lastInsertRowid), ...stored };
    },
    rows(q: LedgerQuery = {}): LedgerRow[] {
      const since = clampInt(q.since_id, 0, Number.MAX_SAFE_INTEGER, 0);
      const limit = clampInt(q.limit, 1, MAX_PAGE, DEFAULT_PAGE);
      const rows = q.app_id === undefined ? pageAll.all(since, limit) : pageApp.all(q.app_id, since, limit);
      return rows as LedgerRow[];
    },
    totals(q: { app_id?: number } = {}): LedgerTotals {
      const groups = (q.app_id === undefined ? groupAll.all() : groupApp.all(q.app_id)) as {
        app_id: number;
        billing_mode: number;
        vendor_id: number;
        n: number;
      }[];
      const t: LedgerTotals = { billable: 0, by_mode: {}, by_vendor: {}, by_app: {} };
      const add = (m: Record<string, number>, k: number, n: number) => {
        m[String(k)] = (m[String(k)] ?? 0) + n;
      };
      for (const g of groups) {
        t.billable += g.n;
        add(t.by_mode, g.billing_mode, g.n);
        add(t.by_vendor, g.vendor_id, g.n);
        add(t.by_app, g.app_id, g.n);
      }
      return t;
    },
    count: () => countAll.get() as number,
    clear() {
      deleteAll.run();
    },
    info: () => ({
      file,
      journal_mode: String(db.pragma("journal_mode", { simple: true })),
      synchronous: db.pragma("synchronous", { simple: true }) as number,
      schema_version: db.pragma("user_version", { simple: true }) as number,
    }),
    close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
