// The server API's rate limit: the vendor states "200 requests/second" on every action's page, so the limit
// is per app and per action, counted in whole-second windows of the simulator clock: at most `qps` requests
// of one action in one second, the next one answered 320000002 until the second turns. Whole-second windows
// (not a token bucket with a burst, as the SDK path's rate_limit_rps) because that is what "N per second"
// promises a partner sizing their backend: a client pacing itself at N/s is never refused, N+1 in a second is.

export interface ServerApiQps {
  /** True when this request of (app, action) is within the limit at nowMs (and counts it); false: refuse. */
  admit(appId: number, action: string, qps: number, nowMs: number): boolean;
  reset(): void;
}

export function createServerApiQps(): ServerApiQps {
  const windows = new Map<string, { second: number; count: number }>();
  return {
    admit(appId, action, qps, nowMs) {
      if (qps <= 0) return true;
      const key = `${appId}|${action}`;
      const second = Math.floor(nowMs / 1000);
      let w = windows.get(key);
      if (!w) {
        w = { second, count: 0 };
        windows.set(key, w);
      }
      if (w.second !== second) {
        w.second = second;
        w.count = 0;
      }
      if (w.count >= qps) return false;
      w.count++;
      return true;
    },
    reset: () => windows.clear(),
  };
}
