import type { PipelineConfig } from "../../reference/pipeline/config.ts";
import { runPipeline } from "../../reference/pipeline/run.ts";
import { ZegoMediaPlayer } from "../../reference/player/media-player.ts";

// Test fixture (conformance.test.ts): a careless client, as a partner's might be. It drops the scene id it was
// given (the app's scene is refused, so it requests as the default scene: billed as a scene nobody chose), its
// player "pauses" by muting the stream (the position runs on) and "seeks" by answering 0 without moving.
// `ktv run conformance --client` must fail it on scene-not-enabled, player-pause and player-seek, and on
// nothing else. The player is patched in this module's own copy of the reference client (the client module is
// loaded apart from the runner's bundle, in the one worker thread of the conformance run).

let muted = false;
ZegoMediaPlayer.prototype.pause = async function pauseByMuting(this: ZegoMediaPlayer) {
  muted = true;
  await this.setPublishVolume(0);
};
ZegoMediaPlayer.prototype.resume = async function unmute(this: ZegoMediaPlayer) {
  if (!muted) return;
  muted = false;
  await this.setPublishVolume(60);
};
ZegoMediaPlayer.prototype.seekTo = async (_millisecond: number) => ({ errorCode: 0 });

export default function carelessPlayerClient(config: PipelineConfig, signal: AbortSignal) {
  const { sceneID: _scene, ...rest } = config;
  return runPipeline(rest, signal);
}
