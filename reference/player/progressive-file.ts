// A resource file that is still downloading, as the player sees it: the bytes that arrived so far (a
// contiguous prefix of the file, in a buffer of the size the vendor announced) and how the download ended.
// The download (music/download.ts, through its `onData` hook) writes into it exactly the bytes it writes to
// its partial file, after its own checks (never more than the announced size); verification stays the
// download's: `complete()` is called only once download() resolved 0, `fail(code)` with its error otherwise.
//
// Why: playing only after the whole file is in makes time to first audio grow with the file (a 1.3 MB clip
// took 65-290 ms to arrive at smoke load), while the first 10 ms of audio need a few hundred bytes. A careful
// app starts on a small pre-roll and lets the download run ahead of the play position (8 kHz mono dual-track
// plays 32 KB/s; loopback delivers megabytes per second). When the download fails after playback began (a
// corrupt length, an expiry or revocation cut, a cancel), the player stops with that code: audio that cannot
// be verified is not played to the end.

function sameBytes(a: Uint8Array, at: number, b: Uint8Array, n: number): boolean {
  return Buffer.from(a.buffer, a.byteOffset + at, n).equals(Buffer.from(b.buffer, b.byteOffset, n));
}

export type ProgressiveState = "downloading" | "complete" | "failed";

export class ProgressiveFile {
  /** The whole file's bytes; only [0, available) are meaningful before `complete`. */
  readonly bytes: Uint8Array;
  private have = 0;
  private status: ProgressiveState = "downloading";
  private errorCode = 0;
  private waiters: { need: number; resolve: () => void }[] = [];

  /** `size`: the vendor's resources[].size (the download rejects anything longer). */
  constructor(readonly size: number) {
    if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`progressive file: bad size ${size}`);
    this.bytes = new Uint8Array(size);
  }

  /** Bytes from the file's start that have arrived (contiguous). */
  get available(): number {
    return this.have;
  }

  get state(): ProgressiveState {
    return this.status;
  }

  /** The download's error code once it failed, else 0. */
  get code(): number {
    return this.errorCode;
  }

  /**
   * The download's `onData`: `data` is file bytes [offset, offset + length). Bytes past a gap do not count
   * until the gap is filled; bytes that overwrite arrived ones must equal them, else the file fails (1017015).
   */
  write(data: Uint8Array, offset: number): void {
    if (this.status !== "downloading") return;
    const end = offset + data.byteLength;
    if (offset < 0 || end > this.size) {
      throw new RangeError(`progressive file: bytes ${offset}-${end} of ${this.size}`);
    }
    // Bytes the player may already have played must come again unchanged (a restart, a new request's
    // download): a file that changed under the player cannot be verified any more.
    const overlap = Math.min(end, this.have) - offset;
    if (overlap > 0 && !sameBytes(this.bytes, offset, data, overlap)) {
      this.fail(1017015);
      return;
    }
    this.bytes.set(data, offset);
    if (offset <= this.have) this.have = Math.max(this.have, end);
    this.wake();
  }

  /** The download finished and was verified: every byte is in (a revalidated cache copy sent none: see `have`). */
  complete(): void {
    if (this.status !== "downloading") return;
    this.status = "complete";
    this.wake();
  }

  /** The download ended with `code` (1017015 corrupt, 1017019 expired, 1017030 revoked, 1017016 cancelled...). */
  fail(code: number): void {
    if (this.status !== "downloading") return;
    this.status = "failed";
    this.errorCode = code;
    this.wake();
  }

  /** True when all bytes arrived and the download verified them. */
  get whole(): boolean {
    return this.status === "complete" && this.have === this.size;
  }

  /** Resolves once `bytes` bytes have arrived, or the download ended (check `state`). */
  whenAvailable(bytes: number): Promise<void> {
    if (this.have >= bytes || this.status !== "downloading") return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ need: bytes, resolve }));
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    const ended = this.status !== "downloading";
    const keep: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (ended || this.have >= w.need) w.resolve();
      else keep.push(w);
    }
    this.waiters = keep;
  }
}
