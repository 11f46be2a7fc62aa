import type { ZegoExpressEngine } from "./engine.ts";
import type { ExpressEngineEvents } from "./events.ts";

// Shared by the engine and pipeline integration tests: the dev app's credentials, an event log per engine, and
// a bounded wait (every wait has a deadline and says what it was waiting for).

export const DEV_APP_ID = 1000000001;
export const DEV_APP_SIGN = "0123456789abcdef".repeat(4);

export interface LoggedEvent {
  name: keyof ExpressEngineEvents;
  args: unknown[];
}

const EVENTS: (keyof ExpressEngineEvents)[] = [
  "onRoomStateUpdate",
  "onRoomStateChanged",
  "onRoomUserUpdate",
  "onRoomStreamUpdate",
  "onRoomTokenWillExpire",
  "onKicked",
  "onPublisherStateUpdate",
  "onPlayerStateUpdate",
];

/** Every event the engine emits, in order. */
export function eventLog(engine: ZegoExpressEngine): LoggedEvent[] {
  const log: LoggedEvent[] = [];
  for (const name of EVENTS) engine.on(name, (...args: unknown[]) => log.push({ name, args }));
  return log;
}

/** The args of each logged `name` event. */
export function argsOf(log: LoggedEvent[], name: keyof ExpressEngineEvents): unknown[][] {
  return log.filter((e) => e.name === name).map((e) => e.args);
}

/** Polls `pick` every 10 ms until it returns something other than undefined/false, or fails after `ms`. */
export async function until<T>(pick: () => T | undefined | false, what: string, ms = 5_000): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    const v = pick();
    if (v !== undefined && v !== false) return v;
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
