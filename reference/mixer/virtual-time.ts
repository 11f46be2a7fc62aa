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
