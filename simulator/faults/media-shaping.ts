import type { Deliver, MediaShaper, RelayContext } from "../media/relay.ts";
import type { MediaStream } from "../media/streams.ts";
import type { FaultSeam, MediaStreamFaults } from "./seam.ts";

// Carrying out media frame fates (seam.ts FrameFate) on the relay: a dropped frame is never delivered, a
// duplicated one is delivered twice back to back, a delayed one later on a timer, a reordered one after N
// later frames of its stream went out -- or after HOLD_LIMIT_MS, so the frames before a pause are not held
// until the publisher speaks again. When a fault behind a stream's fates goes away (removed, disabled, window
// over), or the stream stops being published, everything held for it goes out at once in arrival order: a
// fault's removal loses no frame, and no timer outlives the stream. A disconnect closes the publisher's
// connection (close code 1012, "service restart": not a kick, so a client reconnects) instead of relaying the
// frame; frames still arriving on that connection before it closes are dropped.

export const HOLD_LIMIT_MS = 500;

/** WebSocket close code of a `disconnect` fault: the server restarting, which a client rides out. */
export const DISCONNECT_CLOSE_CODE = 1012;

/** A frame waiting: for `left` more frames to go out (reordering), or for its timer (delay). */
interface Held {
  frame: Buffer;
  copies: number;
  delayMs: number;
  left: number;
  /** Arrival order at the relay, for releasing in order. */
  n: number;
  /** Held back: performance.now() after which it goes out anyway. */
  deadline: number;
  timer?: NodeJS.Timeout;
}

class StreamShaping {
  readonly faults: MediaStreamFaults;
  /** Held back behind later frames, in arrival order. */
  private readonly queue: Held[] = [];
  private readonly delayed = new Set<Held>();
  private holdTimer: NodeJS.Timeout | null = null;
  private arrivals = 0;
  private disconnected = false;

  constructor(
    private readonly deliver: Deliver,
    open: (release: () => void) => MediaStreamFaults,
    /** Closes the publisher's connection (a `disconnect` fault). */
    private readonly disconnect: () => void,
  ) {
    this.faults = open(() => this.release());
  }

  get pending(): number {
    return this.queue.length + this.delayed.size;
  }

  onFrame(frame: Buffer, seq: number): void {
    if (this.disconnected) return;
    const fate = this.faults.frame(seq);
    if (fate.disconnect) {
      this.disconnected = true;
      this.release();
      this.disconnect();
      return;
    }
    if (fate.drop) return;
    const n = this.arrivals++;
    const copies = 1 + fate.duplicates;
    // The common case allocates nothing: a frame neither held back nor delayed goes out now.
    if (fate.holdFrames === 0 && fate.delayMs <= 0 && this.queue.length === 0) {
      for (let i = 0; i < copies; i++) this.deliver(frame);
      return;
    }
    const h: Held = { frame, copies, delayMs: fate.delayMs, left: fate.holdFrames, n, deadline: 0 };
    if (h.left === 0) {
      this.goOut(h);
      return;
    }
    h.deadline = performance.now() + HOLD_LIMIT_MS;
    this.queue.push(h);
    this.holdTimer ??= setTimeout(() => this.expire(), HOLD_LIMIT_MS);
  }

  /**
   * `first` goes out; every frame held before it is one frame closer to its turn, and those whose turn comes go
   * out right after the frame that brought it, oldest first, each followed by those it brings in turn: so a
   * frame held for k goes out after exactly k later frames.
   */
  private goOut(first: Held): void {
    const stack = [first];
    let released = false;
    while (stack.length > 0) {
      const x = stack.pop()!;
      this.send(x);
      const top = stack.length;
      for (const q of this.queue) if (q.n < x.n && q.left > 0 && --q.left === 0) stack.push(q);
      if (stack.length === top) continue;
      released = true;
      stack.push(...stack.splice(top).reverse());
    }
    if (released) this.keepQueued((q) => q.left > 0);
  }

  private send(h: Held): void {
    if (h.delayMs <= 0) {
      this.out(h);
      return;
    }
    this.delayed.add(h);
    h.timer = setTimeout(() => {
      this.delayed.delete(h);
      this.out(h);
    }, h.delayMs);
  }

  private out(h: Held): void {
    for (let i = 0; i < h.copies; i++) this.deliver(h.frame);
  }

  private keepQueued(keep: (h: Held) => boolean): void {
    let kept = 0;
    for (const h of this.queue) if (keep(h)) this.queue[kept++] = h;
    this.queue.length = kept;
    if (kept === 0) this.stopHoldTimer();
  }

  /** The hold timer: frames held past HOLD_LIMIT_MS go, oldest first; it re-arms for the oldest one left. */
  private expire(): void {
    this.holdTimer = null;
    const now = performance.now();
    const late = this.queue.filter((h) => h.deadline <= now);
    this.keepQueued((h) => h.deadline > now);
    for (const h of late) this.send(h);
    const oldest = this.queue[0];
    if (oldest) this.holdTimer = setTimeout(() => this.expire(), Math.max(1, oldest.deadline - now));
  }

  private stopHoldTimer(): void {
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.holdTimer = null;
  }

  /** Everything held goes out now, in the order it arrived, and no timer is left. */
  release(): void {
    this.stopHoldTimer();
    if (this.pending === 0) return;
    const all = [...this.queue.splice(0), ...this.delayed];
    this.delayed.clear();
    all.sort((a, b) => a.n - b.n);
    for (const h of all) {
      clearTimeout(h.timer);
      this.out(h);
    }
  }
}

export interface MediaFaultShaper extends MediaShaper {
  /** Frames held for `stream` now (tests: nothing may stay held after a release). */
  pending(stream: MediaStream): number;
}

/** The relay's shaper when the fault engine decides: per stream, from its first frame to its end. */
export function mediaFaultShaper(faults: FaultSeam): MediaFaultShaper {
  const streams = new Map<MediaStream, StreamShaping>();
  return {
    shape(frame: Buffer, ctx: RelayContext, deliver: Deliver, stream: MediaStream) {
      let s = streams.get(stream);
      if (!s) {
        const { app_id, room_id, user_id, stream_id } = ctx;
        s = new StreamShaping(
          deliver,
          (release) => faults.mediaStream({ app_id, room_id, user_id, stream_id }, release),
          () =>
            stream.publisher?.ws.close(
              DISCONNECT_CLOSE_CODE,
              "fault: the media server closed the connection",
            ),
        );
        streams.set(stream, s);
      }
      s.onFrame(frame, ctx.seq);
    },
    ended(stream) {
      const s = streams.get(stream);
      if (!s) return;
      streams.delete(stream);
      s.release();
      s.faults.close();
    },
    pending: (stream) => streams.get(stream)?.pending ?? 0,
  };
}
