import { percentile } from "../metrics/hdr.ts";
import type { MetricSet } from "../metrics/set.ts";

// The live progress line on stderr: elapsed, VUs, iterations per second, errors, TTFA p95 and mix lateness
// p99 (cumulative). On a TTY one line is rewritten in place each interval; otherwise (CI logs, pipes) a plain
// line is printed every `plainEvery` intervals, so logs stay readable.

export interface ProgressOut {
  write(text: string): void;
  isTTY: boolean;
}

export class Progress {
  private n = 0;
  /** (elapsed s, iterations) of the last few updates: the rate is over them, not one jumpy interval. */
  private readonly history: [number, number][] = [[0, 0]];

  constructor(
    private readonly out: ProgressOut,
    private readonly plainEvery = 5,
  ) {}

  line(o: { elapsedS: number; vus: number; total: MetricSet; label: string }): string {
    const its = o.total.counter("iterations");
    this.history.push([o.elapsedS, its]);
    if (this.history.length > 6) this.history.shift();
    const [s0, i0] = this.history[0]!;
    const rate = o.elapsedS > s0 ? (its - i0) / (o.elapsedS - s0) : 0;
    const errors = o.total.rates.get("errors")?.trues ?? 0;
    const ttfa = o.total.trends.get("ttfa_ms");
    const late = o.total.trends.get("mix_lateness_ms");
    const pct = its > 0 ? ` (${((errors / its) * 100).toFixed(1)}%)` : "";
    return [
      `${o.label} ${fmtS(o.elapsedS)}`,
      `vus ${o.vus}`,
      `${rate.toFixed(1)} it/s`,
      `iterations ${its}`,
      `errors ${errors}${pct}`,
      `ttfa p95 ${ttfa && ttfa.totalCount > 0 ? `${Math.round(percentile(ttfa, 95))}ms` : "-"}`,
      `mix lateness p99 ${late && late.totalCount > 0 ? `${percentile(late, 99).toFixed(2)}ms` : "-"}`,
    ].join("  ");
  }

  update(o: { elapsedS: number; vus: number; total: MetricSet; label: string }): void {
    const text = this.line(o);
    if (this.out.isTTY) this.out.write(`\r\x1b[2K${text}`);
    else if (this.n % this.plainEvery === 0) this.out.write(`${text}\n`);
    this.n++;
  }

  /** The final line, always printed whole. */
  finish(o: { elapsedS: number; vus: number; total: MetricSet; label: string }): void {
    const text = this.line(o);
    this.out.write(this.out.isTTY ? `\r\x1b[2K${text}\n` : `${text}\n`);
  }
}

function fmtS(s: number): string {
  const whole = Math.floor(s);
  const m = Math.floor(whole / 60);
  return m > 0 ? `${m}m${String(whole % 60).padStart(2, "0")}s` : `${whole}s`;
}
