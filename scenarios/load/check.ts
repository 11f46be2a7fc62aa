import { parseDuration } from "./duration.ts";

// Strict field checks that collect every problem as "path: why" instead of stopping at the first, the way
// k6's Validate() does; each executor and the scenario validator build on these.

export class Checks {
  readonly errors: string[] = [];

  constructor(private readonly base: string) {}

  at(field: string): string {
    return this.base ? `${this.base}.${field}` : field;
  }

  fail(field: string, why: string): void {
    this.errors.push(`${this.at(field)}: ${why}`);
  }

  /** An integer in [min, max]; undefined passes unless required. */
  int(
    o: Record<string, unknown>,
    field: string,
    min: number,
    opts: { required?: boolean; max?: number } = {},
  ) {
    const v = o[field];
    if (v === undefined) {
      if (opts.required) this.fail(field, "is required");
      return;
    }
    const max = opts.max ?? Number.MAX_SAFE_INTEGER;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      this.fail(
        field,
        `must be an integer in ${min}..${max === Number.MAX_SAFE_INTEGER ? "" : max}, got ${show(v)}`,
      );
    }
  }

  /** A finite number in [min, max]. */
  num(
    o: Record<string, unknown>,
    field: string,
    min: number,
    max: number,
    opts: { required?: boolean } = {},
  ) {
    const v = o[field];
    if (v === undefined) {
      if (opts.required) this.fail(field, "is required");
      return;
    }
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) {
      this.fail(field, `must be a number in ${min}..${max}, got ${show(v)}`);
    }
  }

  /** A k6 duration; `positive` refuses 0. Returns ms, or undefined when absent or invalid. */
  duration(
    o: Record<string, unknown>,
    field: string,
    opts: { required?: boolean; positive?: boolean } = {},
  ): number | undefined {
    const v = o[field];
    if (v === undefined) {
      if (opts.required) this.fail(field, "is required");
      return undefined;
    }
    const ms = parseDuration(v);
    if (ms instanceof Error) {
      this.fail(field, ms.message);
      return undefined;
    }
    if (opts.positive && ms <= 0) {
      this.fail(field, "must be longer than 0");
      return undefined;
    }
    return ms;
  }

  /** Refuses keys outside `allowed` (strict parsing: a typo is an error, not a silent default). */
  onlyKeys(
    o: Record<string, unknown>,
    allowed: readonly string[],
    explain: Record<string, string> = {},
  ): void {
    for (const k of Object.keys(o)) {
      if (allowed.includes(k)) continue;
      this.fail(k, explain[k] ?? `unknown field (expected one of ${allowed.join(", ")})`);
    }
  }

  isObject(v: unknown, field: string): v is Record<string, unknown> {
    if (typeof v === "object" && v !== null && !Array.isArray(v)) return true;
    this.fail(field, `must be an object, got ${show(v)}`);
    return false;
  }
}

export function show(v: unknown): string {
  if (v === undefined) return "nothing";
  try {
    const s = JSON.stringify(v);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return String(v);
  }
}
