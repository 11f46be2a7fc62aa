import { Agent, type Dispatcher, request } from "undici";

// The HTTP exchange under the vendor transport and the download: one request, its status, a few headers and
// the body, either whole (text) or piece by piece (a reader). Two ways to make it:
//
//   undiciRequest  undici's request() over one bounded keep-alive Agent per thread. The default: a load
//                  generator runs hundreds of clients per thread, and WHATWG fetch builds a Request, a
//                  Response and web streams per call. Measured on this machine (issue 10, a throwaway bench
//                  on loopback): 0.79 -> 0.30 ms client CPU per small JSON call and 2.5 -> 1.4 ms per 810 KB
//                  download; fetch and its web streams were a third of a pipeline worker's CPU profile.
//   fetchRequest   a WHATWG fetch: the one given in the options (a test's stub, an app's instrumented fetch),
//                  or the global fetch once something replaced it (an interceptor such as msw in unit tests,
//                  an APM agent), so whatever watches the global fetch still sees every call.
//
// Both report failures the same way: a rejection whose error (or its cause chain) carries the socket's code
// (ECONNREFUSED, UND_ERR_SOCKET, ...), or the abort reason of the signal that ended the request.

export interface HttpInit {
  method: "GET" | "POST";
  headers: Record<string, string>;
  body?: string | undefined;
  signal: AbortSignal;
}

/** A body read piece by piece. `cancel` settles a pending read at once and releases the connection. */
export interface BodyReader {
  /** The next piece, or null at the end. */
  read(): Promise<Uint8Array | null>;
  cancel(reason?: unknown): void;
}

export interface HttpAnswer {
  status: number;
  /** A response header by lower-case name; null when absent. */
  header(name: string): string | null;
  /** The whole body as UTF-8 text. */
  text(): Promise<string>;
  /** The body piece by piece (at most one of text / reader / discard per answer). */
  reader(): BodyReader;
  /** Drops an unread body without waiting. */
  discard(): void;
}

export type HttpRequest = (url: string, init: HttpInit) => Promise<HttpAnswer>;

/**
 * Connections per origin from one thread. A pipeline worker runs ~500 VUs whose turnovers come in bursts:
 * past this many requests in flight, the rest wait for a free connection in undici's queue instead of each
 * opening a socket (the simulator then serves a bounded number of connections per worker).
 */
export const CONNECTIONS_PER_ORIGIN = 128;

let threadAgent: Agent | null = null;

/** This thread's keep-alive Agent (each worker thread of `ktv run` has its own module instance). */
export function sharedAgent(): Agent {
  threadAgent ??= new Agent({ connections: CONNECTIONS_PER_ORIGIN });
  return threadAgent;
}

function firstValue(v: string | string[] | undefined): string | null {
  if (v === undefined) return null;
  return typeof v === "string" ? v : (v[0] ?? null);
}

/** Requests through undici's request() on `dispatcher` (default: the thread's shared Agent). */
export function undiciRequest(dispatcher?: Dispatcher): HttpRequest {
  return async (url, init) => {
    const res = await request(url, {
      method: init.method,
      headers: init.headers,
      body: init.body ?? null,
      signal: init.signal,
      dispatcher: dispatcher ?? sharedAgent(),
    });
    const body = res.body;
    return {
      status: res.statusCode,
      header: (name) => firstValue(res.headers[name]),
      text: () => body.text(),
      reader: () => {
        const it = body[Symbol.asyncIterator]();
        return {
          read: async () => {
            const r = await it.next();
            return r.done ? null : (r.value as Uint8Array);
          },
          cancel: (reason) => {
            // destroy() ends a pending next() (with the reason) and closes the connection, which then never
            // returns to the pool with an unread body on it.
            if (!body.destroyed) body.destroy(reason instanceof Error ? reason : undefined);
          },
        };
      },
      discard: () => {
        body.dump().catch(() => {});
      },
    };
  };
}

/** Requests through a WHATWG fetch: `fetchImpl()` is looked up per call. */
export function fetchRequest(fetchImpl: () => typeof fetch): HttpRequest {
  return async (url, init) => {
    const res = await fetchImpl()(url, init);
    return {
      status: res.status,
      header: (name) => res.headers.get(name),
      text: () => res.text(),
      reader: () => {
        // A body-less answer where a body was expected: the download counts the attempt as cut.
        if (!res.body) return { read: () => Promise.reject(new Error("no body")), cancel: () => {} };
        const r = res.body.getReader();
        return {
          read: async () => {
            const { done, value } = await r.read();
            return done ? null : value;
          },
          // Cancelling the reader settles a pending read at once, whether or not the fetch implementation
          // ties its signal to the body (interceptors and some polyfills do not).
          cancel: (reason) => void r.cancel(reason).catch(() => {}),
        };
      },
      // Not awaited: some fetch implementations never settle a cancel.
      discard: () => void res.body?.cancel().catch(() => {}),
    };
  };
}

// The global fetch as this module found it: when it is still the one in place at call time, nothing watches
// it and the cheaper undici path is taken.
const nativeFetch = globalThis.fetch;

/**
 * The request function a client uses: `fetchImpl` when given, the global fetch when something replaced it
 * after this module loaded (looked up per call, so a test interceptor installed later applies), else undici.
 */
export function defaultRequest(fetchImpl?: typeof fetch): HttpRequest {
  if (fetchImpl) return fetchRequest(() => fetchImpl);
  const viaFetch = fetchRequest(() => globalThis.fetch);
  const viaUndici = undiciRequest();
  return (url, init) => (globalThis.fetch !== nativeFetch ? viaFetch : viaUndici)(url, init);
}
