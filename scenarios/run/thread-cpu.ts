import { readFileSync, readlinkSync } from "node:fs";
import { setPriority } from "node:os";

// CPU time of one thread of this process (user + system), for the generator's per-thread figures: ELU counts
// wall time the loop was busy, which grows when the OS does not run the thread (2 cores, 3 busy threads), so
// it cannot say which thread's work got cheaper. Node 20 has no process.threadCpuUsage (added in 23.9), so
// Linux's /proc is read: /proc/thread-self names the calling thread's task (its tid), and
// /proc/self/task/<tid>/stat holds its utime and stime in clock ticks (USER_HZ, 100 on Linux: 10 ms
// resolution, fine over a 1 s sample and a whole run). A thread learns its own tid and any thread of the
// process can read it (the main thread reads the embedded simulator's). Elsewhere (no /proc) it is null.
// One read is a small file and ~10 µs, once a second.

const TICK_MS = 10;

/** The calling thread's task id, or null without /proc. */
export function currentTid(): number | null {
  try {
    const link = readlinkSync("/proc/thread-self");
    const tid = Number(link.slice(link.lastIndexOf("/") + 1));
    return Number.isInteger(tid) && tid > 0 ? tid : null;
  } catch {
    return null;
  }
}

/** User + system CPU of the process's thread `tid` so far, ms; null when it cannot be read (gone, no /proc). */
export function threadCpuMs(tid: number | null): number | null {
  if (tid === null) return null;
  try {
    return parseStatCpuMs(readFileSync(`/proc/self/task/${tid}/stat`, "latin1"));
  } catch {
    return null;
  }
}

/**
 * utime + stime (fields 14 and 15) of a /proc stat line, ms. The second field (the command) is in parentheses
 * and may hold spaces or parentheses itself, so fields are counted from its last ')'.
 */
export function parseStatCpuMs(stat: string): number | null {
  const close = stat.lastIndexOf(")");
  if (close < 0) return null;
  // After ") ": field 3 (state) is index 0, so utime (14) is index 11 and stime (15) index 12.
  const f = stat.slice(close + 2).split(" ");
  const utime = Number(f[11]);
  const stime = Number(f[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return (utime + stime) * TICK_MS;
}

/** CPU of one thread between calls: `take()` answers the ms since the previous one (null without /proc). */
export class ThreadCpu {
  private last: number | null;

  constructor(private readonly tid: number | null = currentTid()) {
    this.last = threadCpuMs(tid);
  }

  take(): number | null {
    const now = threadCpuMs(this.tid);
    if (now === null || this.last === null) return null;
    const d = now - this.last;
    this.last = now;
    return d;
  }
}

/**
 * Lowers the calling thread's scheduling priority to nice `n` (0..19; Linux: the nice value is per thread, and
 * setpriority on a task id sets that thread alone). Lowering needs no privilege. Returns the error's message
 * when it could not (no /proc, another OS), else null.
 */
export function niceThisThread(n: number): string | null {
  if (!Number.isInteger(n) || n < 0 || n > 19) return `nice must be an integer in 0..19, got ${n}`;
  const tid = currentTid();
  if (tid === null) return "this thread's id is unknown (no /proc/thread-self)";
  try {
    setPriority(tid, n);
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** The nice value of the process's thread `tid` (field 19 of its stat), or null. */
export function threadNice(tid: number | null): number | null {
  if (tid === null) return null;
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, "latin1");
    const v = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
    return Number.isInteger(v) ? v : null;
  } catch {
    return null;
  }
}
