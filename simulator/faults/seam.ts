// The one place where a request's fault decision is taken (issue: fault engine). Every vendor, CDN and media
// route asks `decide` once with a stable key; until the fault engine lands, nothing is injected.

export interface FaultRequest {
  /** Route id, e.g. "POST /v1/music/extended", "GET /v1/music/download/:resource_id". */
  route: string;
  /** Extended command where the route has one. */
  command?: string;
  app_id?: number;
  user_id?: string;
  vendor_id?: number;
  song_id?: string;
  resource_type?: number;
  room_id?: string;
}

/** What to do to this request. An empty decision means "serve it normally". */
export interface FaultDecision {
  /** Delay before handling, ms. */
  delayMs?: number;
  /** Answer with this vendor code (HTTP 200 envelope) or HTTP status instead of handling. */
  vendorCode?: number;
  httpStatus?: number;
  /** Destroy the connection without answering. */
  dropConnection?: boolean;
}

export interface FaultSeam {
  decide(req: FaultRequest): FaultDecision;
}

export const noFaults: FaultSeam = { decide: () => ({}) };
