import { ZegoError } from "../errors.ts";
import { type AuxMixer, ZegoMediaPlayer } from "./media-player.ts";
import type { PlayableResources } from "./resources.ts";
import { MAX_MEDIA_PLAYERS } from "./state.ts";

// createMediaPlayer / destroyMediaPlayer of the engine: at most four players at once (1008030 beyond), each
// with a stable index 0..3 that is reused once its player is destroyed.

export interface MediaPlayerFactoryOptions {
  resources: PlayableResources;
  /** The engine's publish mixer, if any: players join it muted and enableAux unmutes them. */
  mixer?: AuxMixer;
}

export class MediaPlayerFactory {
  private readonly slots: (ZegoMediaPlayer | null)[] = new Array(MAX_MEDIA_PLAYERS).fill(null);

  constructor(private readonly o: MediaPlayerFactoryOptions) {}

  async createMediaPlayer(): Promise<ZegoMediaPlayer> {
    const index = this.slots.indexOf(null);
    if (index < 0) throw new ZegoError(1008030, `at most ${MAX_MEDIA_PLAYERS} media players`);
    const player = new ZegoMediaPlayer({
      index,
      resources: this.o.resources,
      ...(this.o.mixer ? { mixer: this.o.mixer } : {}),
      onDestroy: (p) => {
        if (this.slots[index] === p) this.slots[index] = null;
      },
    });
    this.slots[index] = player;
    return player;
  }

  async destroyMediaPlayer(player: ZegoMediaPlayer): Promise<void> {
    player.destroy();
  }

  /** Live players, by index. */
  get players(): readonly ZegoMediaPlayer[] {
    return this.slots.filter((p): p is ZegoMediaPlayer => p !== null);
  }
}
