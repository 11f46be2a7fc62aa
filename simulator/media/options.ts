// Media server knobs. Defaults mirror the vendor's test environment (rooms of 50) and the SDK's timings
// (token_will_expire 30 s ahead); tests shrink the intervals to keep runs short.
export interface MediaOptions {
  /** Users per room (registry members, HTTP and media logins alike) before either login answers 1002034. */
  roomCapacity: number;
  /** A player whose socket holds more than this many unsent bytes gets no frames until it drains. */
  playerBufferLimitBytes: number;
  /** Above this many unsent bytes even control messages stop: the socket is cut (a reader that never reads). */
  socketBufferHardLimitBytes: number;
  /** `token_will_expire` goes out this long before the login token's expiry. */
  tokenWarnSeconds: number;
  /** How often token expiry, login timeouts, keepalive and stats pushes are checked (real ms). */
  sweepIntervalMs: number;
  /** WebSocket ping period (real ms), each socket at its own phase; one that has not answered its previous ping is terminated. */
  pingIntervalMs: number;
  /** A socket without a room login for this long (real ms) gets 1002031 and is closed. */
  loginTimeoutMs: number;
  /** `stream_stats` push period to each stream's publisher and players (real ms), each stream at its own phase; 0 turns pushes off. */
  statsIntervalMs: number;
  /** Streams one socket may publish and play at once (each costs a few KB of counters). */
  maxStreamsPerPeer: number;
  /** Open sockets beyond this are refused at the upgrade with 503. */
  maxConnections: number;
  /** At most one frame `error` report per socket per this many ms (the rest are counted into `dropped`); 0 reports each. */
  frameErrorIntervalMs: number;
  /**
   * A socket the server closes (login timeout, kick) is cut if its client has not answered the close handshake
   * by then (real ms). ws alone waits 30 s: a client that stopped reading held its socket that long.
   */
  closeGraceMs: number;
}

export const DEFAULT_MEDIA_OPTIONS: MediaOptions = {
  roomCapacity: 50,
  playerBufferLimitBytes: 256 * 1024,
  socketBufferHardLimitBytes: 4 * 1024 * 1024,
  tokenWarnSeconds: 30,
  sweepIntervalMs: 250,
  pingIntervalMs: 15_000,
  loginTimeoutMs: 10_000,
  statsIntervalMs: 3_000,
  maxStreamsPerPeer: 32,
  maxConnections: 10_000,
  frameErrorIntervalMs: 1_000,
  closeGraceMs: 2_000,
};

/** Defaults + overrides; throws RangeError naming the first knob that is not a sensible number. */
export function resolveMediaOptions(partial: Partial<MediaOptions> = {}): MediaOptions {
  const o: MediaOptions = { ...DEFAULT_MEDIA_OPTIONS, ...partial };
  for (const [k, v] of Object.entries(o)) {
    const zeroOk = k === "statsIntervalMs" || k === "frameErrorIntervalMs";
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || (!zeroOk && v === 0)) {
      throw new RangeError(
        `media option ${k} must be a ${zeroOk ? "non-negative" : "positive"} number, got ${v}`,
      );
    }
  }
  return o;
}
