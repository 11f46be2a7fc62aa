// The runner's failures, each with the exit code k6 gives the same case (go.k6.io/k6/errext/exitcodes), so a CI
// job reads `ktv k6` and `k6 run` alike.

export const EXIT = {
  ok: 0,
  thresholds: 99,
  setupTimeout: 100,
  teardownTimeout: 101,
  invalidConfig: 104,
  externalAbort: 105,
  scriptException: 107,
  scriptAborted: 108,
  /** The run could not happen (simulator did not start, k6 not found): not a k6 code. */
  failed: 1,
} as const;

/**
 * A k6 API the script uses that this runner does not implement. It stops the whole test (exit 107) instead of
 * failing one iteration: results measured without it would not be the script's.
 */
export class UnsupportedApiError extends Error {
  override name = "UnsupportedApiError";
  constructor(
    readonly api: string,
    hint = "",
  ) {
    super(
      `${api} is not supported by ktv's k6 runner${hint ? `: ${hint}` : ""} (use --engine k6 for a real k6)`,
    );
  }
}

/** An invalid script or option (exit 104). */
export class K6ConfigError extends Error {
  override name = "K6ConfigError";
}

/** k6's `test.abort()` (exit 108). */
export class ScriptAbortedError extends Error {
  override name = "ScriptAbortedError";
}

/** A function that throws UnsupportedApiError when called: for the parts of a module the runner lacks. */
export function unsupported(api: string, hint = ""): (...args: unknown[]) => never {
  return () => {
    throw new UnsupportedApiError(api, hint);
  };
}

/** Promise resolution and esbuild's interop probe these; they are not the script's API use. */
const PROBES = new Set<string | symbol>(["then", "__esModule", "toJSON"]);

// One handler per API name, shared by every VU's proxy of it (a handler and its trap per VU per module was
// ~200 bytes each of 10,000 VUs' footprint for nothing).
const strictHandlers = new Map<string, ProxyHandler<object>>();

/**
 * An object whose listed properties work and any other property read throws UnsupportedApiError naming it,
 * so `exec.vu.metrics` or `http.batch` fail where they are used, not with "undefined is not a function".
 */
export function strictObject<T extends object>(what: string, target: T): T {
  let handler = strictHandlers.get(what);
  if (!handler) {
    handler = {
      get(t, p, r) {
        if (typeof p === "symbol" || p in t) return Reflect.get(t, p, r);
        if (PROBES.has(p)) return undefined;
        throw new UnsupportedApiError(`${what}.${p}`);
      },
    };
    strictHandlers.set(what, handler);
  }
  return new Proxy(target, handler) as T;
}

/**
 * The end of a module's prototype chain: a read that found nothing on the object and its shared members throws
 * UnsupportedApiError naming the member (strictObject's rule), so a per-VU module object can be a plain object
 * holding only what is its own, over one prototype of shared members (made once per process, not per VU).
 */
export function strictEnd(what: string): object {
  // Over Object.prototype, as a plain module object is: toString, hasOwnProperty, constructor ... still work.
  return new Proxy(Object.create(Object.prototype) as object, {
    get(t, p, r) {
      if (typeof p === "symbol" || p in t) return Reflect.get(t, p, r);
      if (PROBES.has(p)) return undefined;
      throw new UnsupportedApiError(`${what}.${p}`);
    },
  });
}

/**
 * One module's shared members: `__esModule` (esbuild's interop reads the object as an ES module), `default`
 * (the module object itself: `import http from "k6/http"`), then `members`, over strictEnd(name).
 */
export function sharedModuleProto(name: string, members: Record<string, unknown>): object {
  const proto = Object.create(strictEnd(name)) as Record<string, unknown>;
  Object.defineProperty(proto, "__esModule", { value: true });
  Object.defineProperty(proto, "default", {
    get() {
      return this;
    },
  });
  Object.defineProperties(proto, Object.getOwnPropertyDescriptors(members));
  return proto;
}
