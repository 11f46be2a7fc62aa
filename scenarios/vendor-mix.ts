import { defineScenario } from "./format.ts";

// The vendor's whole surface under load, with the two fault kinds no other scenario uses. Every room draws, per
// round, a resource type (song, accompaniment, clip, segment), a vendor (0, 1, 2, 4), a scene (none, live-room
// KTV, grab-the-mic) and a billing mode (count, user, room, master) from the weights below (ktv.mix); singers
// pause and seek back while they publish (ktv.player). Meanwhile:
//   - the media path is lossy for the whole run (bursty loss on every stream, plus 2% random loss): listeners
//     must measure the loss (media_packets_lost), and their iterations still succeed; the media server closes
//     three publications in ten a second in (a `disconnect` fault: a media node restarting), whose singers must
//     reconnect and publish on (media-reconnect; a user who saw the reconnect fail, 1002053, fails the run);
//   - from 15 s to 27 s the vendor API is down (outage: 1017098 on every vendor route). A careful client backs
//     off (transient-backoff) and, when the outage outlasts its retries, stops with a clear 1017098
//     (vendor-unavailable) instead of half a song.
// The thresholds prove each fault fired and was handled: a run where the outage or the loss never happened, or
// where the client never backed off or never gave up clearly, fails them. The billing check compares the
// clients' count with the ledger per billing mode and per vendor.

export default defineScenario({
  name: "vendor-mix",
  description:
    "every resource type, vendors 0/1/2/4, scenes and billing modes mixed, pause/seek, lossy media and a 12 s outage",
  options: {
    scenarios: {
      rooms: { executor: "constant-vus", vus: 8, duration: "40s", gracefulStop: "15s" },
    },
    thresholds: {
      // The outage fired and the client rode it out where it could and surfaced it where it could not.
      "recoveries{rule:transient-backoff}": ["count>0"],
      "recoveries{rule:vendor-unavailable}": ["count>0"],
      // The lossy media path was measured by the listeners.
      media_packets_lost: ["count>0"],
      media_packets_received: ["count>0"],
      // The player actions happened, and singers whose connection the server closed reconnected and published on.
      player_pauses: ["count>0"],
      player_seeks: ["count>0"],
      "recoveries{rule:media-reconnect}": ["count>0"],
      // What the mix must never cause: a song of another vendor's library, a type the vendor lacks, a song
      // without the clip or segment asked for, a scene the app lacks.
      "errors{code:1017072}": ["rate==0"],
      "errors{code:1017053}": ["rate==0"],
      "errors{code:1017034}": ["rate==0"],
      "errors{code:1017076}": ["rate==0"],
      "errors{code:exception}": ["rate==0"],
      "errors{code:1017099}": ["rate==0"],
      // Songs are sung outside the outage. Inside it every iteration fails fast (a few backoffs, then a clear
      // 1017098) and the closed-model VU tries again at once, so failed iterations outnumber sung ones: the
      // rate says little, the codes above and the count below say what matters.
      songs_started: ["count>8"],
    },
  },
  ktv: {
    vu: "pipeline",
    population: { usersPerRoom: 2, singersPerRoom: 1 },
    mix: {
      types: { "0": 1, "1": 2, "2": 1, "3": 1 },
      vendors: { "0": 2, "1": 1, "2": 1, "4": 1 },
      scenes: { "0": 2, "2": 1, "4": 1 },
      billingModes: { "0": 2, "1": 1, "2": 1, "3": 1 },
    },
    songs: { poolSize: 20 },
    player: { pauseProb: 0.5, seekProb: 0.5, pauseMs: 500 },
    singSeconds: 4,
    cache: "memory",
    audio: { shared: true },
    simulator: { catalogSize: 4000 },
    faults: {
      profile: {
        description: "lossy media for the whole run, and the vendor API down from 15 s to 27 s",
        faults: [
          {
            id: "lossy-bursts",
            kind: "media",
            description: "about 3% of frames lost in bursts of ~4, plus 2% lost at random",
            burst_loss: { p_good_to_bad: 0.01, p_bad_to_good: 0.25, loss_in_bad: 0.8 },
            loss: 0.02,
          },
          {
            id: "media-disconnects",
            kind: "disconnect",
            description:
              "three publications in ten: the media server closes the publisher's connection 1 s in",
            probability: 0.3,
            after_frames: 50,
          },
          {
            id: "vendor-outage",
            kind: "outage",
            description: "every vendor call answers 1017098 network error",
            from: 15_000,
            until: 27_000,
          },
        ],
      },
    },
    // Every fault above fired (run/fault-check.ts), and no user was left with a failed reconnect (1002053)
    // more often than the media-reconnect rule ran.
    expect: { recoveries: { "media-reconnect": { atLeast: 1, hides: [1002053] } } },
  },
});
