import { closeSync, createReadStream, openSync, writeSync } from "node:fs";
import { createInterface } from "node:readline";
import { createGunzip, gzipSync } from "node:zlib";

// k6's JSON output (`k6 run --out json=file`): NDJSON, a `Metric` line the first time a metric gets a sample,
// then one `Point` line per sample. Both of this project's runners write it (`ktv k6 --out json=`, and
// `ktv run --k6-json` from its recorded intervals) and `ktv merge` reads it, from them or from a real k6.
//
// The shape follows k6's own writer (internal/output/json/wrapper.go in grafana/k6): a Metric line's data is
// {name, type, contains, thresholds, submetrics}; a Point's is {time, value, tags} (tags null when none; k6
// may add `metadata`, which carries no value and is ignored here). Older k6 wrote `tainted: null` and no
// `name` in a Metric line (the sample lines in k6's docs still show that shape): the reader takes both. A file
// whose name ends in .gz is gzip, as k6 writes it.

export type K6MetricType = "counter" | "gauge" | "rate" | "trend";
export type Contains = "default" | "time" | "data";
export type Tags = Record<string, string>;

export interface K6Submetric {
  name: string;
  suffix: string;
  tags: Tags;
}

export interface K6MetricLine {
  name: string;
  type: K6MetricType;
  contains: Contains;
  thresholds: string[];
  submetrics: K6Submetric[] | null;
}

export interface K6Point {
  metric: string;
  /** ms since epoch (k6 writes ns; a JS Date keeps ms). */
  time: number;
  value: number;
  tags: Tags;
}

export function metricLine(m: K6MetricLine): string {
  return `${JSON.stringify({
    type: "Metric",
    data: {
      name: m.name,
      type: m.type,
      contains: m.contains,
      thresholds: m.thresholds,
      submetrics: m.submetrics,
    },
    metric: m.name,
  })}\n`;
}

const EMPTY_TAGS = "null";

export function pointLine(metric: string, timeMs: number, value: number, tags: Tags | null): string {
  const t = tags && Object.keys(tags).length > 0 ? JSON.stringify(tags) : EMPTY_TAGS;
  return `{"type":"Point","data":{"time":"${new Date(timeMs).toISOString()}","value":${value},"tags":${t}},"metric":${JSON.stringify(metric)}}\n`;
}

/**
 * Writes k6 JSON to `write`: a metric's Metric line before its first Point, once. `describe` gives the line for a
 * metric the first time one of its points is written (the thresholds and submetrics known by then).
 */
export class K6JsonWriter {
  private readonly seen = new Set<string>();

  constructor(
    private readonly write: (text: string) => void,
    private readonly describe: (metric: string) => K6MetricLine,
  ) {}

  point(metric: string, value: number, tags: Tags | null, timeMs = Date.now()): void {
    if (!this.seen.has(metric)) {
      this.seen.add(metric);
      this.write(metricLine(this.describe(metric)));
    }
    this.write(pointLine(metric, timeMs, value, tags));
  }
}

/**
 * A K6JsonWriter into a file, gzip when the name ends in .gz (as k6). Lines are gathered into 64 KB chunks, each
 * written synchronously (a gzip member each: a gzip reader reads the members as one stream), so a run that
 * writes millions of points holds one chunk in memory, not a stream's queue of them.
 */
export function k6JsonFile(
  path: string,
  describe: (metric: string) => K6MetricLine,
): { writer: K6JsonWriter; close(): Promise<void> } {
  const fd = openSync(path, "w");
  const gz = path.endsWith(".gz");
  let chunk = "";
  const flush = () => {
    if (chunk === "") return;
    writeSync(fd, gz ? gzipSync(chunk) : Buffer.from(chunk));
    chunk = "";
  };
  return {
    writer: new K6JsonWriter((t) => {
      chunk += t;
      if (chunk.length >= 65_536) flush();
    }, describe),
    close: async () => {
      try {
        flush();
      } finally {
        closeSync(fd);
      }
    },
  };
}

// --- reading ---------------------------------------------------------------------------------------------

export class K6JsonError extends Error {
  override name = "K6JsonError";
}

const TYPES = new Set(["counter", "gauge", "rate", "trend"]);
const CONTAINS = new Set(["default", "time", "data"]);

/**
 * Every line of a k6 JSON file in order, checked: Metric lines as K6MetricLine, Point lines as K6Point. A line
 * that is not k6's shape, a Point before its metric's Metric line, or a metric declared twice with different
 * types is a K6JsonError naming the file and line.
 */
export async function* readK6Json(
  path: string,
): AsyncGenerator<{ kind: "metric"; line: K6MetricLine } | { kind: "point"; point: K6Point }> {
  const raw = createReadStream(path);
  const input = path.endsWith(".gz") ? raw.pipe(createGunzip()) : raw;
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  const declared = new Map<string, K6MetricType>();
  let n = 0;
  try {
    for await (const text of lines) {
      n++;
      if (text.trim() === "") continue;
      const at = `${path}:${n}`;
      let o: unknown;
      try {
        o = JSON.parse(text);
      } catch (e) {
        throw new K6JsonError(`${at}: not JSON (${(e as Error).message})`);
      }
      const rec = o as { type?: unknown; data?: Record<string, unknown>; metric?: unknown };
      if (typeof rec !== "object" || rec === null || typeof rec.metric !== "string" || !rec.data)
        throw new K6JsonError(`${at}: not a k6 JSON line (expected {"type","data","metric"})`);
      const name = rec.metric;
      const d = rec.data;
      if (rec.type === "Metric") {
        if (!TYPES.has(d.type as string))
          throw new K6JsonError(`${at}: metric "${name}" has type ${JSON.stringify(d.type)}`);
        const type = d.type as K6MetricType;
        const had = declared.get(name);
        if (had && had !== type)
          throw new K6JsonError(`${at}: metric "${name}" declared as a ${had} and then as a ${type}`);
        declared.set(name, type);
        // k6 writes a threshold as its source, or as {threshold, abortOnFail, ...} when it aborts on failure.
        const raw = d.thresholds ?? [];
        const thresholds = Array.isArray(raw)
          ? raw.map((t) => (typeof t === "string" ? t : (t as { threshold?: unknown } | null)?.threshold))
          : [null];
        if (thresholds.some((t) => typeof t !== "string"))
          throw new K6JsonError(`${at}: metric "${name}": thresholds must be a list of expressions`);
        yield {
          kind: "metric",
          line: {
            name,
            type,
            contains: CONTAINS.has(d.contains as string) ? (d.contains as Contains) : "default",
            thresholds: thresholds as string[],
            submetrics: Array.isArray(d.submetrics) ? (d.submetrics as K6Submetric[]) : null,
          },
        };
      } else if (rec.type === "Point") {
        if (!declared.has(name))
          throw new K6JsonError(`${at}: a Point of "${name}" before its Metric line (not k6's order)`);
        const time = typeof d.time === "string" ? Date.parse(d.time) : Number.NaN;
        if (!Number.isFinite(time))
          throw new K6JsonError(`${at}: time ${JSON.stringify(d.time)} is not a time`);
        if (typeof d.value !== "number" || !Number.isFinite(d.value))
          throw new K6JsonError(`${at}: value ${JSON.stringify(d.value)} is not a number`);
        const tags = d.tags ?? {};
        if (typeof tags !== "object" || Array.isArray(tags))
          throw new K6JsonError(`${at}: tags must be an object or null`);
        yield { kind: "point", point: { metric: name, time, value: d.value, tags: tags as Tags } };
      } else throw new K6JsonError(`${at}: type ${JSON.stringify(rec.type)} is neither "Metric" nor "Point"`);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new K6JsonError(`${path}: no such file`);
    if ((e as NodeJS.ErrnoException).code === "Z_DATA_ERROR")
      throw new K6JsonError(`${path}: not gzip (${(e as Error).message})`);
    throw e;
  } finally {
    lines.close();
    raw.destroy();
  }
}
