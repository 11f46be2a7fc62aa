import type { RecoveryAction } from "./recovery.ts";
import type { StageName } from "./result.ts";

// What a running pipeline reports to its observer (the CLI's progress bar and live line, a scenario runner's
// metrics). Events are for people and dashboards: a handful per stage plus one mixing report per interval,
// never one per audio frame.

export type PipelineEvent =
  /** A stage finished (ms since it began); `detail` names what it produced. */
  | { type: "stage"; stage: StageName; ms: number; detail?: string }
  | { type: "song"; song_id: string; song_name: string; singer_name: string; duration_ms: number }
  | { type: "resource"; song_id: string; resource_id: string; via: "request" | "shared"; size: number }
  | { type: "download"; resource_id: string; progress: number }
  | { type: "recovery"; action: RecoveryAction }
  | { type: "publishing"; stream_id: string }
  /** The first packet left: time-to-first-audio since the intent (the pipeline's start). */
  | { type: "first_audio"; ttfa_ms: number }
  | {
      type: "mixing";
      seconds: number;
      frames: number;
      late_frames: number;
      lateness_p99_ms: number;
      lateness_max_ms: number;
      cost_p99_us: number;
      packets_dropped: number;
    }
  | { type: "listening"; stream_id: string; frames: number; latency_p50_ms: number };
