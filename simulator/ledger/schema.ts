import type Database from "better-sqlite3";

// The ledger file's schema, versioned with PRAGMA user_version. A migration is appended, never edited: a file
// at version n runs migrations[n..] in one transaction, so a crash mid-upgrade leaves the old version intact.

/** "KTVL": marks the file as a ktv-harness ledger so we never adopt (and write into) some other database. */
export const LEDGER_APPLICATION_ID = 0x4b54564c;

const migrations: readonly string[] = [
  // v1. AUTOINCREMENT: ids are never reused after clear(), so a reader paging with since_id cannot mistake
  // new rows for ones it has already seen. CHECKs keep impossible enum values out of the money table.
  `CREATE TABLE ledger (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     time INTEGER NOT NULL,
     app_id INTEGER NOT NULL CHECK (app_id BETWEEN 1 AND 4294967295),
     user_id TEXT NOT NULL,
     room_id TEXT,
     song_id TEXT NOT NULL,
     resource_type INTEGER NOT NULL CHECK (resource_type IN (0, 1, 2, 3)),
     billing_mode INTEGER NOT NULL CHECK (billing_mode IN (0, 1, 2, 3)),
     vendor_id INTEGER NOT NULL CHECK (vendor_id IN (0, 1, 2, 4)),
     quality INTEGER NOT NULL,
     scene_id INTEGER NOT NULL,
     master_id TEXT,
     resource_id TEXT NOT NULL,
     request_id TEXT NOT NULL
   );
   -- rows(app_id, since_id): an index on app_id alone is ordered by (app_id, rowid).
   CREATE INDEX ledger_by_app ON ledger (app_id);
   -- totals(): one covering scan grouped by all three dimensions.
   CREATE INDEX ledger_totals ON ledger (app_id, billing_mode, vendor_id);`,
];

export const LEDGER_SCHEMA_VERSION = migrations.length;

/** Thrown when the file is not ours or is newer than this build; the message says what to do. */
export class LedgerSchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LedgerSchemaError";
  }
}

export function migrate(db: Database.Database): void {
  const appId = db.pragma("application_id", { simple: true }) as number;
  const version = db.pragma("user_version", { simple: true }) as number;
  if (appId !== LEDGER_APPLICATION_ID) {
    const tables = db.prepare("SELECT COUNT(*) FROM sqlite_schema").pluck().get() as number;
    if (appId !== 0 || version !== 0 || tables > 0) {
      throw new LedgerSchemaError(
        `not a ktv-harness ledger (application_id ${appId}, user_version ${version}, ${tables} schema objects); ` +
          "point --data-dir at an empty or ledger directory",
      );
    }
  }
  if (version > LEDGER_SCHEMA_VERSION) {
    throw new LedgerSchemaError(
      `ledger schema v${version} is newer than this build understands (v${LEDGER_SCHEMA_VERSION}); upgrade ktv-harness`,
    );
  }
  if (version === LEDGER_SCHEMA_VERSION) return;
  db.transaction(() => {
    for (let v = version; v < LEDGER_SCHEMA_VERSION; v++) db.exec(migrations[v]!);
    db.pragma(`application_id = ${LEDGER_APPLICATION_ID}`);
    db.pragma(`user_version = ${LEDGER_SCHEMA_VERSION}`);
  })();
}
