import { closeSync, mkdirSync, openSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import { RESULT_FILES, type TimeseriesPoint } from "../../reports/format.ts";

// timeseries.ndjson written as the run goes: one line per interval, appended when the interval is flushed,
// under a temporary name renamed at the end (a reader never sees half a file, as with the other result files).
//
// Why not keep the points and write them at the end, as before: one point a second for the whole run, each
// 0.7-1.1 KB of JSON and 1.2-1.7 KB of heap held (5,000 copies of real rooms-250 / opus points, heap after GC),
// so ~100 KB/min that the 30-minute soak could not tell apart from a leak (its heap climbed 862 KB/min in all,
// at one iteration a second), and ~150 MB held by a day-long run. What the summary needs of each point (its
// time and VU count, for the VU series and the capacity knee) is kept: a few dozen bytes.

/** What the summary reads from each point. */
export type LoadPoint = Pick<TimeseriesPoint, "elapsed_s" | "vus">;

export class TimeseriesWriter {
  private readonly fd: number;
  private readonly tmp: string;
  private closed = false;
  /** Every point's time and VU count, in order. */
  readonly load: LoadPoint[] = [];

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.tmp = join(dir, `${RESULT_FILES.timeseries}.tmp-${process.pid}`);
    this.fd = openSync(this.tmp, "w");
  }

  /** Points written so far. */
  get length(): number {
    return this.load.length;
  }

  add(p: TimeseriesPoint): void {
    if (this.closed) throw new Error("timeseries: a point after close()");
    writeSync(this.fd, `${JSON.stringify(p)}\n`);
    this.load.push({ elapsed_s: p.elapsed_s, vus: p.vus });
  }

  /** Closes the file and gives it its name. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
    renameSync(this.tmp, join(this.dir, RESULT_FILES.timeseries));
  }
}
