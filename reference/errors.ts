import { messageFor } from "../protocol/codes.ts";

/**
 * A failure carrying the SDK's error code (1017xxx copyrighted music, 1008xxx media player, 1002xxx room).
 * Methods whose SDK form has a result resolve to `{errorCode}` instead; methods the SDK declares void throw
 * this, so a misuse can never pass silently.
 */
export class ZegoError extends Error {
  readonly code: number;

  constructor(code: number, detail?: string) {
    super(detail ? `${messageFor(code)}: ${detail}` : messageFor(code));
    this.name = "ZegoError";
    this.code = code;
  }
}

/** The SDK code of any thrown value: a ZegoError's own, else `fallback`. */
export function codeOf(err: unknown, fallback: number): number {
  return err instanceof ZegoError ? err.code : fallback;
}
