import { defineScenario } from "./format.ts";

// The harness's own scale case (issue 10): 250 rooms of 4 (one singer, three listeners) = 1,000 pipeline VUs
// on one machine with the simulator embedded, for two minutes after a 30 s ramp. It is configured the way a
// load run should be, so the generator's cost stays small next to the target's:
//   - cache "memory": downloads never touch the filesystem (each VU still downloads and verifies its bytes);
//   - audio.shared + voiceProfiles: one decoded, resampled accompaniment per song and one rendered voice per
//     (song, profile) per process (the workers share an arena), read by every VU through cursors (reference/audio);
//   - media.codec "opus-preencoded": what a real SDK puts on the wire (Opus at the Karaoke profile's 128 kbit/s,
//     20 ms packets) without an encoder per stream;
//   - clips (resource type 2, ~40 s): a singer publishes 30 s per iteration;
//   - songsPerLogin 8: a user logs in to the room once and sings (or listens to) song after song, as in a real
//     app, so each VU logs in once in the run, during the ramp (~33 logins/s at 1,000 VUs over 30 s). A login,
//     its media socket and init per song would be the harness's cost, not a load a real room makes: the
//     turnover between songs is what a real app does (pick, request or share, download, load, start).
//     ttfa_ms then counts the session start on each VU's first song only; pick_to_first_packet_ms is the same on all.
// The thresholds are the targets; generator_* keep the run honest: when the harness saturates, the
// run fails rather than reporting the harness's limit as the target's.

export default defineScenario({
  name: "rooms-250",
  description:
    "1,000 pipeline VUs (250 rooms of 1 singer + 3 listeners) for 2 min after a 30 s ramp, Opus on the wire",
  options: {
    scenarios: {
      rooms: {
        executor: "ramping-vus",
        startVUs: 0,
        stages: [
          { duration: "30s", target: 1000 },
          { duration: "2m", target: 1000 },
        ],
        gracefulRampDown: "5s",
        gracefulStop: "40s",
      },
    },
    thresholds: {
      errors: ["rate<0.001"],
      mix_lateness_ms: ["p(99)<10"],
      e2e_latency_ms: ["p(95)<30"],
      songs_started: ["count>0"],
      // The generator keeps up: event-loop utilisation of every worker, second by second (a 1-2 s burst at an
      // iteration turnover is allowed; summary.generator_saturated applies the sustained rules).
      generator_elu: ["p(95)<0.9"],
    },
  },
  ktv: {
    vu: "pipeline",
    population: { usersPerRoom: 4, singersPerRoom: 1 },
    // 2 x 20 songs: the process renders a played song's first 30 s once (5.8 MB at 48 kHz stereo) into the
    // run's audio arena (1 GiB, shared by the workers; reference/audio/shared-arena.ts): 40 songs and their
    // voices fit; past the arena, renderings fall back to each worker's own budgeted store.
    songs: { charts: ["8888", "6666"], zipf: 1, poolSize: 20, searchMix: 0.2 },
    shareRatio: 0.8,
    cache: "memory",
    audio: { shared: true, voiceProfiles: 8 },
    media: { codec: "opus-preencoded" },
    resource: { type: 2, quality: 0 },
    singSeconds: 30,
    songsPerLogin: 8,
    extrapolateRooms: [1000, 5000],
  },
});
