import { messageFor } from "./codes.ts";

// Every vendor-API JSON answer has this shape (wire-api.md, "Envelope").
export interface Envelope<T = unknown> {
  code: number;
  message: string;
  request_id: string;
  data: T | null;
}

export function okEnvelope<T>(requestId: string, data: T): Envelope<T> {
  return { code: 0, message: "succeed", request_id: requestId, data };
}

export function errorEnvelope(requestId: string, code: number, message?: string): Envelope<null> {
  return { code, message: message ?? messageFor(code), request_id: requestId, data: null };
}

export function isEnvelope(x: unknown): x is Envelope {
  if (typeof x !== "object" || x === null) return false;
  const e = x as Record<string, unknown>;
  return (
    Number.isInteger(e.code) &&
    typeof e.message === "string" &&
    typeof e.request_id === "string" &&
    "data" in e &&
    (e.data === null || typeof e.data === "object")
  );
}
