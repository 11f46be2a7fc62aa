import type { FastifyBaseLogger } from "fastify";

// Fastify gives every request a child logger (pino child(): bindings serialized, a new logger object) before
// any hook runs. The simulator runs at warn under load, where almost no request ever logs, so that child was
// ~1.5% of its CPU per JSON call for nothing. The child here is made on the first call that would write
// (level enabled); its records are the same as the eager child's (same bindings, same parent).

type Level = "fatal" | "error" | "warn" | "info" | "debug" | "trace";
type LogFn = (...args: unknown[]) => void;
type Parent = FastifyBaseLogger & { isLevelEnabled(level: string): boolean };

class LazyChildLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: Parent,
    private readonly bindings: Record<string, unknown>,
  ) {}

  private real(): FastifyBaseLogger {
    if (this.made === undefined) this.made = this.parent.child(this.bindings);
    return this.made;
  }

  private writer(level: Level): FastifyBaseLogger | undefined {
    if (this.made !== undefined) return this.made;
    return this.parent.isLevelEnabled(level) ? this.real() : undefined;
  }

  get level(): string {
    return this.made?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.real().level = level;
  }

  isLevelEnabled(level: string): boolean {
    return this.made ? (this.made as Parent).isLevelEnabled(level) : this.parent.isLevelEnabled(level);
  }

  child(bindings: Record<string, unknown>, opts?: Record<string, unknown>): FastifyBaseLogger {
    return this.real().child(bindings, opts);
  }

  fatal(...args: unknown[]): void {
    const w = this.writer("fatal");
    if (w) (w.fatal as LogFn).apply(w, args);
  }
  error(...args: unknown[]): void {
    const w = this.writer("error");
    if (w) (w.error as LogFn).apply(w, args);
  }
  warn(...args: unknown[]): void {
    const w = this.writer("warn");
    if (w) (w.warn as LogFn).apply(w, args);
  }
  info(...args: unknown[]): void {
    const w = this.writer("info");
    if (w) (w.info as LogFn).apply(w, args);
  }
  debug(...args: unknown[]): void {
    const w = this.writer("debug");
    if (w) (w.debug as LogFn).apply(w, args);
  }
  trace(...args: unknown[]): void {
    const w = this.writer("trace");
    if (w) (w.trace as LogFn).apply(w, args);
  }
  silent(): void {}
}

/**
 * Fastify's `childLoggerFactory`: a lazy child for the plain case, the ordinary child when a route sets its
 * own level or serializers.
 */
export function lazyChildLogger(
  logger: FastifyBaseLogger,
  bindings: Record<string, unknown>,
  opts: { level?: string; serializers?: unknown },
): FastifyBaseLogger {
  if (opts.level !== undefined || opts.serializers !== undefined)
    return logger.child(bindings, opts as never);
  return new LazyChildLogger(logger as Parent, bindings) as unknown as FastifyBaseLogger;
}
