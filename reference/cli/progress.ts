import type { PipelineEvent } from "../pipeline/events.ts";

// What `ktv sing` shows on stderr while it runs. On a terminal: a line per stage, a download bar and a live
// mixing line redrawn in place (\r). Elsewhere (a pipe, a CI log): the same stage lines, no bar, and a mixing
// line every 5 s of audio, so a log stays readable.

export interface Out {
  write(s: string): unknown;
  isTTY?: boolean;
}

const BAR_WIDTH = 30;
/** Redraws at most this often (ms); the last state always shows. */
const REDRAW_MS = 100;
const PLAIN_MIX_EVERY_S = 5;

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${n} B`;
}

export function progressBar(progress: number, width = BAR_WIDTH): string {
  const p = Math.min(1, Math.max(0, progress));
  const full = Math.round(p * width);
  return `[${"#".repeat(full)}${".".repeat(width - full)}] ${String(Math.floor(p * 100)).padStart(3)}%`;
}

const ms = (v: number) => `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`;

export class SingProgress {
  private live = false;
  private lastDraw = 0;
  private lastKind = "";
  private size = 0;
  private lastPlainMix = 0;

  constructor(private readonly out: Out) {}

  private get tty(): boolean {
    return this.out.isTTY === true;
  }

  onEvent = (e: PipelineEvent): void => {
    switch (e.type) {
      case "stage":
        if (e.stage === "download" && this.tty) this.draw(`download ${progressBar(1)}`, true);
        this.line(`${e.stage.padEnd(9)} ${ms(e.ms)}`);
        return;
      case "song":
        this.line(`song      "${e.song_name}" by ${e.singer_name} (${e.song_id})`);
        return;
      case "resource":
        this.size = e.size;
        this.line(`resource  ${e.resource_id} via ${e.via}, ${formatBytes(e.size)}`);
        return;
      case "download":
        if (this.tty) {
          const have =
            this.size > 0 ? ` ${formatBytes(e.progress * this.size)} / ${formatBytes(this.size)}` : "";
          this.draw(`download ${progressBar(e.progress)}${have}`, e.progress >= 1);
        }
        return;
      case "recovery": {
        const a = e.action;
        this.line(`recovery  ${a.rule} at ${a.stage} (code ${a.code}): ${a.detail}`);
        return;
      }
      case "publishing":
        this.line(`publish   stream ${e.stream_id}`);
        return;
      case "first_audio":
        this.line(`first audio after ${ms(e.ttfa_ms)}`);
        return;
      case "mixing": {
        const text =
          `mixing ${e.seconds.toFixed(1)} s | lateness p99 ${ms(e.lateness_p99_ms)} max ${ms(e.lateness_max_ms)}` +
          ` | late frames ${e.late_frames} | mix p99 ${Math.round(e.cost_p99_us)} µs | dropped ${e.packets_dropped}`;
        if (this.tty) this.draw(text);
        else if (e.seconds - this.lastPlainMix >= PLAIN_MIX_EVERY_S) {
          this.lastPlainMix = e.seconds;
          this.line(text);
        }
        return;
      }
      case "listening":
        if (this.tty)
          this.draw(`listening ${e.stream_id}: ${e.frames} packets, latency p50 ${ms(e.latency_p50_ms)}`);
        return;
    }
  };

  /** Ends the live line, if any, so what follows starts on a fresh line. */
  finish(): void {
    if (this.live) this.out.write("\n");
    this.live = false;
  }

  private line(text: string): void {
    if (this.live) this.out.write("\r\x1b[2K");
    this.live = false;
    this.out.write(`${text}\n`);
  }

  private draw(text: string, force = false): void {
    const now = performance.now();
    // Throttled per kind of line: a new kind (the bar giving way to the mixing line) always shows.
    const kind = text.slice(0, text.indexOf(" "));
    if (!force && kind === this.lastKind && now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    this.lastKind = kind;
    this.out.write(`\r\x1b[2K${text}`);
    this.live = true;
  }
}
