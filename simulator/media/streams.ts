import { streamHash } from "../../protocol/media.ts";
import type { Peer } from "./peer.ts";
import { StreamStatsRecorder } from "./stream-stats.ts";

// Streams per app, by id and by the 32-bit id hash that binary frames carry. A stream exists while someone
// publishes or plays it (players may wait for a publisher); two live ids of one app never share a hash, so
// the hash in a frame names exactly one stream.

export interface MediaStream {
  readonly id: string;
  readonly hash: number;
  readonly appId: number;
  publisher: Peer | null;
  readonly players: Set<Peer>;
  readonly stats: StreamStatsRecorder;
  /** Real time (ms) of this stream's next stream_stats push; NaN until the sweep first sees it (sweep.ts). */
  statsDueAt: number;
  /** Sends one frame to the current players (bound once per stream: the relay's per-frame path). */
  deliver: (frame: Buffer) => void;
}

interface AppStreams {
  byId: Map<string, MediaStream>;
  byHash: Map<number, MediaStream>;
}

export class StreamDirectory {
  private readonly apps = new Map<number, AppStreams>();

  constructor(private readonly makeDeliver: (s: MediaStream) => (frame: Buffer) => void) {}

  get(appId: number, id: string): MediaStream | undefined {
    return this.apps.get(appId)?.byId.get(id);
  }

  byHash(appId: number, hash: number): MediaStream | undefined {
    return this.apps.get(appId)?.byHash.get(hash);
  }

  /** The live stream whose hash `id` would collide with, if any (a different id, same app, same hash). */
  collision(appId: number, id: string): MediaStream | undefined {
    const s = this.byHash(appId, streamHash(id));
    return s && s.id !== id ? s : undefined;
  }

  /** The stream `id` of `appId`, created when absent. Check collision() first. */
  claim(appId: number, id: string): MediaStream {
    let app = this.apps.get(appId);
    if (!app) {
      app = { byId: new Map(), byHash: new Map() };
      this.apps.set(appId, app);
    }
    const found = app.byId.get(id);
    if (found) return found;
    const s: MediaStream = {
      id,
      hash: streamHash(id),
      appId,
      publisher: null,
      players: new Set(),
      stats: new StreamStatsRecorder(),
      statsDueAt: Number.NaN,
      deliver: () => {},
    };
    s.deliver = this.makeDeliver(s);
    app.byId.set(id, s);
    app.byHash.set(s.hash, s);
    return s;
  }

  /** Forgets the stream once nobody publishes or plays it. */
  releaseIfUnused(s: MediaStream): void {
    if (s.publisher || s.players.size > 0) return;
    const app = this.apps.get(s.appId);
    if (!app || app.byId.get(s.id) !== s) return;
    app.byId.delete(s.id);
    app.byHash.delete(s.hash);
    if (app.byId.size === 0) this.apps.delete(s.appId);
  }

  *all(): IterableIterator<MediaStream> {
    for (const app of this.apps.values()) yield* app.byId.values();
  }
}
