import type { Logger } from "../music/transport.ts";

// Observing the music module from outside, through the seams it documents (its `fetch` and `logger` options),
// so the pipeline can report exact download bytes and every backoff without reaching into the module.

const DOWNLOAD_PATH = "/v1/music/download/";
// Responses that may not carry a body (the Response constructor refuses one).
const NULL_BODY = new Set([101, 204, 205, 304]);

/** A fetch that counts the body bytes of audio downloads as they arrive (resumes and cut attempts included). */
export function countingFetch(onBytes: (n: number) => void, inner?: typeof fetch): typeof fetch {
  return async (input, init) => {
    const res = await (inner ?? globalThis.fetch)(input, init);
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (!url.includes(DOWNLOAD_PATH) || !res.body || NULL_BODY.has(res.status)) return res;
    const counted = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, ctl) {
          onBytes(chunk.byteLength);
          ctl.enqueue(chunk);
        },
      }),
    );
    return new Response(counted, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

export interface RetryReport {
  /** "download" for a resumed download, else the vendor route that is retried. */
  stage: string;
  /** The vendor code, or the HTTP status, or 0 when no answer came. */
  code: number;
  delayMs: number;
  detail: string;
}

/**
 * A Logger that recognises the music module's backoff reports (a warning with a numeric `delay_ms`: the
 * transport's "retrying" and the download's "resuming"), hands each to `onRetry`, and forwards everything to
 * `next`.
 */
export function retryObserver(onRetry: (r: RetryReport) => void, next?: Logger): Logger {
  return {
    warn(obj, msg) {
      const o = obj as Record<string, unknown>;
      if (typeof o.delay_ms === "number") {
        const download = typeof o.resource_id === "string";
        const code =
          typeof o.code === "number" && o.code !== 0
            ? o.code
            : typeof o.status === "number"
              ? o.status
              : codeIn(String(o.why ?? ""));
        onRetry({
          stage: download ? "download" : String(o.path ?? "vendor"),
          code,
          delayMs: o.delay_ms,
          detail: String(o.why ?? o.error ?? msg),
        });
      }
      next?.warn(obj, msg);
    },
    debug(obj, msg) {
      next?.debug(obj, msg);
    },
  };
}

/** A download cut's reason names the HTTP status and code it met ("HTTP 503 1017097"); 0 for a plain cut. */
function codeIn(why: string): number {
  const m = /HTTP (\d{3})(?: (\d+))?/.exec(why);
  if (!m) return 0;
  return Number(m[2] ?? m[1]);
}
