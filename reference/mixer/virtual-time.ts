import type { Scheduler } from "./clock.ts";

// Simulated time for clock tests and deterministic pipeline runs: a clock that moves only when told, and a
// scheduler whose timers fire in time order as it advances. setTimeout follows Node (delays under 1 ms become
// 1 ms); setImmediate runs at the current time, after anything already due.

interface Task {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class VirtualTime {
  private t = 0;
  private seq = 0;
  private queue: Task[] = [];

  readonly now = (): number => this.t;

  /** Moves the clock forward without running anything: a tick "taking" `ms` of CPU. */
  spend(ms: number): void {
    if (!(ms >= 0)) throw new RangeError("virtual time: cannot go backwards");
    this.t += ms;
  }

  readonly scheduler: Scheduler = {
    setTimeout: (fn, ms) => this.push(this.t + Math.max(1, ms), fn),
    clearTimeout: (h) => this.cancel(h),
    setImmediate: (fn) => this.push(this.t, fn),
    clearImmediate: (h) => this.cancel(h),
  };

  /** Runs due tasks in time order, jumping the clock to each, until none are left or `maxTasks` ran. */
  run(maxTasks: number): number {
    let ran = 0;
    while (ran < maxTasks) {
      const task = this.queue.shift();
      if (!task) break;
      if (task.cancelled) continue;
      if (task.at > this.t) this.t = task.at;
      task.fn();
      ran++;
    }
    return ran;
  }

  get pending(): number {
    return this.queue.filter((t) => !t.cancelled).length;
  }

  private push(at: number, fn: () => void): Task {
    const task: Task = { at, seq: this.seq++, fn, cancelled: false };
    // Stable insertion by (at, seq): equal times keep scheduling order, like Node's queues.
    let i = this.queue.length;
    while (i > 0 && this.queue[i - 1]!.at > at) i--;
    this.queue.splice(i, 0, task);
    return task;
  }

  private cancel(handle: unknown): void {
    if (handle && typeof handle === "object" && "cancelled" in handle) (handle as Task).cancelled = true;
  }
}

/**
 * The smallest simulated time: one pending task at a time (the frame clock never has more) and a clock that
 * jumps to the task's due time when it runs. Unlike VirtualTime it allocates nothing per task, so allocation
 * tests and benches of the publish path see only the path itself.
 */
export class SlotTime {
  private t = 0;
  private due = 0;
  private pending: (() => void) | null = null;

  readonly now = (): number => this.t;

  readonly scheduler: Scheduler = {
    setTimeout: (fn, ms) => {
      this.pending = fn;
      this.due = this.t + Math.max(1, ms);
      return 1;
    },
    clearTimeout: () => {
      this.pending = null;
    },
    setImmediate: (fn) => {
      this.pending = fn;
      this.due = this.t;
      return 2;
    },
    clearImmediate: () => {
      this.pending = null;
    },
  };

  /** Runs the pending task n times over (each run may arm the next), moving the clock to each one's due time. */
  run(n: number): void {
    for (let i = 0; i < n; i++) {
      const fn = this.pending;
      this.pending = null;
      if (this.due > this.t) this.t = this.due;
      fn?.();
    }
  }
}
