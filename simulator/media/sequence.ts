// Loss accounting from sequence numbers, per stream. The relay forwards every frame as it comes; this only
// observes. A frame is one of: in order (highest + 1), a gap (highest + k, k > 1: k - 1 frames missing),
// a duplicate (seen before), or reordered (older than highest and not seen: it was counted missing, so the
// loss shrinks by one). Numbers are uint32 and wrap; distances are taken modulo 2^32 as int32.
//
// A ring of the last WINDOW sequence numbers remembers which were seen. A frame older than the window cannot
// be classified: it counts as reordered and the loss it left stays counted (it arrived too late to matter).

export const SEQUENCE_WINDOW = 1024;
const MASK = SEQUENCE_WINDOW - 1;
const EMPTY = 0;
const MISSING = 1;
const SEEN = 2;

export type SeqVerdict = "first" | "in_order" | "gap" | "duplicate" | "reordered";

export class SequenceTracker {
  lost = 0;
  gaps = 0;
  duplicates = 0;
  reordered = 0;
  /** Highest sequence number seen (modulo wrap), or null before the first frame. */
  highest: number | null = null;
  private readonly ring = new Uint32Array(SEQUENCE_WINDOW);
  private readonly state = new Uint8Array(SEQUENCE_WINDOW);

  /** Forget the numbering (a publisher restarted it); the counts so far are kept. */
  restart(): void {
    this.highest = null;
    this.state.fill(EMPTY);
  }

  push(seq: number): SeqVerdict {
    const h = this.highest;
    if (h === null) {
      this.mark(seq, SEEN);
      this.highest = seq;
      return "first";
    }
    const d = (seq - h) | 0;
    if (d > 0) {
      const missing = d - 1;
      if (missing > 0) {
        this.lost += missing;
        this.gaps++;
        // Only the newest WINDOW - 1 of them can still arrive late and be recognised.
        for (let k = Math.max(1, d - MASK); k < d; k++) this.mark((h + k) >>> 0, MISSING);
      }
      this.mark(seq, SEEN);
      this.highest = seq;
      return missing > 0 ? "gap" : "in_order";
    }
    if (d === 0) {
      this.duplicates++;
      return "duplicate";
    }
    const slot = seq & MASK;
    if (-d < SEQUENCE_WINDOW && this.ring[slot] === seq && this.state[slot] !== EMPTY) {
      if (this.state[slot] === SEEN) {
        this.duplicates++;
        return "duplicate";
      }
      this.state[slot] = SEEN;
      this.lost--;
      this.reordered++;
      return "reordered";
    }
    this.reordered++;
    return "reordered";
  }

  private mark(seq: number, s: number): void {
    const slot = seq & MASK;
    this.ring[slot] = seq;
    this.state[slot] = s;
  }
}
