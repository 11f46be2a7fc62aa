// `ktv sim` promises that stdout's first line is {"listening":"http://host:port"}: a parent that started it with
// --port 0 reads that line to learn the port. The simulator logs while it builds (catalog generated, ledger
// open), before it listens; this stream holds those lines and lets them through, in order, once `open()` has
// written the listening line (or once start-up failed, so nothing is lost).

export class StartupLog {
  private held: string[] | null = [];

  constructor(private readonly out: { write(text: string): unknown } = process.stdout) {}

  /** pino's stream interface: one serialized line per call. */
  write(line: string): void {
    if (this.held) this.held.push(line);
    else this.out.write(line);
  }

  /** Writes `first` (if any), then every held line; later lines pass straight through. */
  open(first?: string): void {
    if (first !== undefined) this.out.write(first);
    const held = this.held ?? [];
    this.held = null;
    for (const line of held) this.out.write(line);
  }
}
