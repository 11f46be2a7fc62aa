import type { FaultEventLine, LedgerRowLine, LedgerSnapshot } from "../../reports/format.ts";

// The runner's client for the simulator's admin routes (loopback only by default): the fault profile, the
// ledger, the fault event log, song revocation. Every call has a timeout; failures are Errors naming the route.

const TIMEOUT_MS = 15_000;
const LEDGER_PAGE = 100_000;

export class AdminError extends Error {
  override name = "AdminError";
}

export class AdminClient {
  constructor(readonly base: string) {}

  private async call(method: string, path: string, body?: unknown): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(this.base + path, {
        method,
        // x-ktv-admin: the simulator refuses admin state changes a browser could send without a preflight.
        headers:
          body === undefined
            ? { "x-ktv-admin": "1" }
            : { "content-type": "application/json", "x-ktv-admin": "1" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      throw new AdminError(`${method} ${path}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return res;
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.call(method, path, body);
    const text = await res.text();
    let env: { code?: number; message?: string; data?: T };
    try {
      env = JSON.parse(text);
    } catch {
      throw new AdminError(`${method} ${path}: HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`);
    }
    if (res.status !== 200 || env.code !== 0) {
      throw new AdminError(
        `${method} ${path}: HTTP ${res.status} code ${env.code}: ${env.message ?? text.slice(0, 300)}`,
      );
    }
    return env.data as T;
  }

  /** GET /healthz: throws an AdminError saying why the simulator cannot be reached. */
  async health(): Promise<void> {
    const res = await this.call("GET", "/healthz");
    if (res.status !== 200) throw new AdminError(`GET /healthz: HTTP ${res.status}`);
    await res.body?.cancel();
  }

  /**
   * Replaces the fault profile; null removes every fault (an empty profile: /admin/faults/reset would also
   * clear the event log the results need).
   */
  async setFaults(profile: unknown | null): Promise<void> {
    await this.json("PUT", "/admin/faults", profile ?? { faults: [] });
  }

  /** Every ledger row after `sinceId` (all pages), with the app's filter. */
  async ledgerRows(sinceId: number, appId?: number): Promise<LedgerRowLine[]> {
    const rows: LedgerRowLine[] = [];
    let since = sinceId;
    for (let page = 0; page < 1000; page++) {
      const q = new URLSearchParams({ since_id: String(since), limit: String(LEDGER_PAGE) });
      if (appId !== undefined) q.set("app_id", String(appId));
      const d = await this.json<LedgerSnapshot>("GET", `/admin/ledger?${q}`);
      rows.push(...d.rows);
      if (d.next_since_id === null || d.next_since_id === undefined) break;
      since = d.next_since_id;
    }
    return rows;
  }

  /** The id of the last ledger row now (0 when empty): rows after it belong to what happens next. */
  async ledgerHead(appId?: number): Promise<number> {
    const rows = await this.ledgerRows(0, appId);
    return rows.at(-1)?.id ?? 0;
  }

  /** Ledger rows since `sinceId` as a snapshot with totals computed over those rows only. */
  async ledgerSince(sinceId: number, appId?: number): Promise<LedgerSnapshot> {
    const rows = await this.ledgerRows(sinceId, appId);
    return { rows, totals: totalsOf(rows), next_since_id: null };
  }

  /** Injected-fault events at or after `sinceEpochMs`. */
  async faultEvents(sinceEpochMs: number): Promise<FaultEventLine[]> {
    const res = await this.call("GET", `/admin/faults/events?since=${Math.max(0, Math.floor(sinceEpochMs))}`);
    const text = await res.text();
    if (res.status !== 200)
      throw new AdminError(`GET /admin/faults/events: HTTP ${res.status}: ${text.slice(0, 200)}`);
    return text
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as FaultEventLine);
  }

  async revokeSong(songId: string, revoked: boolean): Promise<void> {
    await this.json("POST", `/admin/songs/${encodeURIComponent(songId)}/${revoked ? "revoke" : "restore"}`);
  }
}

export function totalsOf(rows: LedgerRowLine[]): LedgerSnapshot["totals"] {
  const by_mode: Record<string, number> = {};
  const by_vendor: Record<string, number> = {};
  for (const r of rows) {
    by_mode[String(r.billing_mode)] = (by_mode[String(r.billing_mode)] ?? 0) + 1;
    by_vendor[String(r.vendor_id)] = (by_vendor[String(r.vendor_id)] ?? 0) + 1;
  }
  return { billable: rows.length, by_mode, by_vendor };
}
