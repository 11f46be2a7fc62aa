import { join } from "node:path";
import { decodeFromCompressedBase64 } from "hdr-histogram-js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { nowMicros } from "../../protocol/media.ts";
import type { Simulator } from "../../simulator/app.ts";
import { testSimulator } from "../../test/sim.ts";
import { MediaSocket } from "../engine/media-socket.ts";
import { until } from "../engine/test-fixtures.ts";
import { WavFileReader } from "../mixer/wav-reader.ts";
import type { PipelineEvent } from "./events.ts";
import type { PipelineResult } from "./result.ts";
import { runPipeline } from "./run.ts";
import { billedTo, scratchDir, userConfig } from "./test-fixtures.ts";

// Two users in one room: the singer requests (and pays for) the song and publishes; the second takes the
// room's share for free and plays the singer's stream. What the listener hears must be what was published.

let sim: Simulator;
const tmp = scratchDir("ktv-room-test-");

beforeAll(async () => {
  sim = await testSimulator();
});
afterAll(async () => {
  await sim.close();
  tmp.remove();
});

/** Normalized cross-correlation of x against y shifted by `lag` samples (x[i] vs y[i + lag]). */
function ncc(x: Int16Array, y: Int16Array, lag: number): number {
  let xy = 0;
  let xx = 0;
  let yy = 0;
  for (let i = 0; i < x.length; i++) {
    const a = x[i]!;
    const b = y[i + lag] ?? 0;
    xy += a * b;
    xx += a * a;
    yy += b * b;
  }
  return xx === 0 || yy === 0 ? 0 : xy / Math.sqrt(xx * yy);
}

/** Left channel of interleaved stereo. */
const left = (pcm: Int16Array) => pcm.filter((_, i) => i % 2 === 0);

describe("two users in one room", () => {
  it("the second takes the share for free and hears the first's stream, sample for sample", async () => {
    const out = join(tmp.dir, "singer.wav");
    let singerLive = false;
    const singerRun = runPipeline(
      userConfig(sim.url, "singer", {
        outPath: out,
        seconds: 4,
        startPositionMs: 5_000,
        onEvent: (e: PipelineEvent) => {
          if (e.type === "publishing") singerLive = true;
        },
      }),
    );
    await until(() => singerLive, "the singer to publish", 10_000);

    const received = new Map<number, Int16Array>();
    const listener = await runPipeline(
      userConfig(sim.url, "listener", {
        preferShared: true,
        publish: false,
        listen: ["singer_main"],
        seconds: 1.5,
        onReceivedAudio: (_id, pcm, header) => {
          received.set(header.seq, pcm.slice());
        },
      }),
    );
    const singer: PipelineResult = await singerRun;
    expect(singer.ok, JSON.stringify(singer.failure)).toBe(true);
    expect(listener.ok, JSON.stringify(listener.failure)).toBe(true);

    // The same song; the singer paid once, the listener took the share for free.
    expect(listener.song).toMatchObject({ song_id: singer.song!.song_id, via: "shared" });
    expect([singer.billable_requests, singer.shared_fetches]).toEqual([1, 0]);
    expect([listener.billable_requests, listener.shared_fetches]).toEqual([0, 1]);
    expect(await billedTo(sim.url, "singer")).toHaveLength(1);
    expect(await billedTo(sim.url, "listener")).toHaveLength(0);

    // The listener heard ~1.5 s of the stream without loss, with a plausible end-to-end latency.
    const heard = listener.listen!.streams.singer_main!;
    expect(heard.frames).toBeGreaterThan(50);
    expect(heard.lost).toBe(0);
    expect(listener.stages.first_heard_ms).not.toBeNull();
    expect(listener.listen!.latency_ms!.count).toBe(heard.frames);
    expect(listener.listen!.latency_ms!.p50).toBeGreaterThan(0);
    expect(listener.listen!.latency_ms!.p50).toBeLessThan(200);
    // The histogram behind the summary travels with the result (µs), so runs can be merged exactly.
    const latency = decodeFromCompressedBase64(listener.histograms.listen_latency!);
    expect(latency.totalCount).toBe(heard.frames);
    expect(latency.getValueAtPercentile(50) / 1000).toBe(listener.listen!.latency_ms!.p50);
    expect([listener.histograms.mix_lateness, listener.histograms.mix_cost]).toEqual([null, null]);

    // Reassemble what was heard (consecutive packets from the first) and find it in what was published.
    const seqs = [...received.keys()].sort((a, b) => a - b);
    const first = seqs[0]!;
    const n = Math.min(seqs.length, 25);
    expect(seqs.slice(0, n)).toEqual([...Array(n).keys()].map((k) => first + k));
    const heardPcm = new Int16Array(n * 1920);
    for (let k = 0; k < n; k++) heardPcm.set(received.get(first + k)!, k * 1920);
    const wav = new WavFileReader(out, 48_000 * 4);
    const published = new Int16Array(wav.frames * 2);
    wav.read(published, wav.frames);
    wav.close();
    expect(wav.frames).toBe(4 * 48_000);

    // Packet k of the stream carries published sample frames 960k...: the right lag is 960 · first seq.
    const x = left(heardPcm).subarray(0, 9_600);
    const y = left(published);
    const expectedLag = 960 * first;
    let best = { lag: -1, r: -2 };
    for (let lag = Math.max(0, expectedLag - 1_920); lag <= expectedLag + 1_920; lag++) {
      const r = ncc(x, y, lag);
      if (r > best.r) best = { lag, r };
    }
    expect(best.lag).toBe(expectedLag);
    expect(best.r).toBeGreaterThan(0.9);
    // Ten milliseconds off, the same audio correlates far worse: the match is the alignment, not the level.
    expect(ncc(x, y, expectedLag + 480)).toBeLessThan(best.r - 0.1);
    // And over loopback nothing was altered on the way.
    expect(heardPcm).toEqual(published.subarray(expectedLag * 2, expectedLag * 2 + heardPcm.length));
  });

  it("an Opus singer is heard by a listener who decodes it, the audio matching what was published", async () => {
    const out = join(tmp.dir, "opus-singer.wav");
    let singerLive = false;
    const singerRun = runPipeline(
      userConfig(sim.url, "osinger", {
        roomID: "opus-room",
        codec: "opus",
        outPath: out,
        seconds: 3,
        startPositionMs: 5_000,
        onEvent: (e: PipelineEvent) => {
          if (e.type === "publishing") singerLive = true;
        },
      }),
    );
    await until(() => singerLive, "the singer to publish", 10_000);
    const received = new Map<number, Int16Array>();
    const listener = await runPipeline(
      userConfig(sim.url, "olistener", {
        roomID: "opus-room",
        preferShared: true,
        publish: false,
        listen: ["osinger_main"],
        seconds: 1.2,
        onReceivedAudio: (_id, pcm, header) => {
          received.set(header.seq, pcm.slice());
        },
      }),
    );
    const singer = await singerRun;
    expect(singer.ok, JSON.stringify(singer.failure)).toBe(true);
    expect(listener.ok, JSON.stringify(listener.failure)).toBe(true);
    // Measured, not estimated: ~128 kbit/s Opus frames, an order of magnitude under PCM's 3872 per packet.
    const pub = singer.publish!;
    expect(pub.codec).toBe("opus");
    expect(pub.bytes_sent / pub.packets_sent).toBeGreaterThan(32 + 100);
    expect(pub.bytes_sent / pub.packets_sent).toBeLessThan(32 + 1000);
    const heard = listener.listen!.streams.osinger_main!;
    expect(heard).toMatchObject({ lost: 0, reordered: 0 });
    expect(heard.bytes / heard.frames).toBeLessThan(1032);
    expect(listener.listen!.latency_ms!.count).toBe(heard.frames);

    const seqs = [...received.keys()].sort((a, b) => a - b);
    const first = seqs[0]!;
    const n = Math.min(seqs.length, 25);
    expect(seqs.slice(0, n)).toEqual([...Array(n).keys()].map((k) => first + k));
    const heardPcm = new Int16Array(n * 1920);
    for (let k = 0; k < n; k++) heardPcm.set(received.get(first + k)!, k * 1920);
    const wav = new WavFileReader(out, 48_000 * 3);
    const published = new Int16Array(wav.frames * 2);
    wav.read(published, wav.frames);
    wav.close();
    // Decoded packet k starts with the codec's delay (a few ms) after published sample frame 960k: compare
    // past the decoder's start-up, at every lag up to a packet later.
    const x = left(heardPcm).subarray(4_800, 4_800 + 9_600);
    const y = left(published);
    const at = 960 * first + 4_800;
    let best = { lag: -1, r: -2 };
    for (let lag = at - 960; lag <= at + 960; lag++) {
      const r = ncc(y.subarray(lag, lag + x.length), x, 0);
      if (r > best.r) best = { lag, r };
    }
    expect(best.r).toBeGreaterThan(0.9);
    expect(Math.abs(best.lag - at)).toBeLessThan(480);
  });

  it("without per-run histograms (load runs) every packet still reaches the caller, nothing is summarised", async () => {
    let singerLive = false;
    // As a load run's VUs do: packets written pre-framed and read before ws (the engine's media socket tuning).
    const opened: MediaSocket[] = [];
    const open = MediaSocket.open.bind(MediaSocket);
    const spy = vi.spyOn(MediaSocket, "open").mockImplementation(async (...args) => {
      const s = await open(...args);
      opened.push(s);
      return s;
    });
    const tuning = { framedWrites: true, readPackets: true };
    const singerRun = runPipeline(
      userConfig(sim.url, "hsinger", {
        roomID: "nohist-room",
        seconds: 2,
        histograms: false,
        mediaSocket: tuning,
        onEvent: (e: PipelineEvent) => {
          if (e.type === "publishing") singerLive = true;
        },
      }),
    );
    await until(() => singerLive, "the singer to publish", 10_000);
    let packets = 0;
    let badArrivals = 0;
    const listener = await runPipeline(
      userConfig(sim.url, "hlistener", {
        roomID: "nohist-room",
        preferShared: true,
        publish: false,
        listen: ["hsinger_main"],
        seconds: 0.8,
        histograms: false,
        mediaSocket: tuning,
        // Each packet's arrival time comes with it (the receiver's one clock read): after its capture, not later
        // than now.
        onReceivedPacket: (_id, header, arrivalUs) => {
          packets++;
          if (!(arrivalUs >= header.captureUs && arrivalUs <= nowMicros())) badArrivals++;
        },
      }),
    );
    const singer = await singerRun;
    expect(singer.ok, JSON.stringify(singer.failure)).toBe(true);
    expect(listener.ok, JSON.stringify(listener.failure)).toBe(true);
    expect(singer.publish!.packets_sent).toBe(100);
    expect(singer.mix).toBeNull();
    expect(singer.histograms.mix_lateness).toBeNull();
    const heard = listener.listen!.streams.hsinger_main!;
    expect(heard.frames).toBeGreaterThan(0);
    expect(packets).toBe(heard.frames);
    expect(badArrivals).toBe(0);
    const asked = spy.mock.calls.map((c) => [c[2].framedWrites, c[2].readPackets]);
    spy.mockRestore();
    // Both sockets took the tuning: the singer's 100 packets went out through the frame writer, the listener's
    // came in through the packet reader.
    expect(asked).toEqual([
      [true, true],
      [true, true],
    ]);
    expect(opened.map((s) => s.packetsFramed).sort((a, b) => a - b)).toEqual([0, 100]);
    // Every packet the listener heard came through the reader (one still in flight when its run ended may be
    // read after the stream was removed: counted here, not heard).
    const read = opened.map((s) => s.packetsRead).sort((a, b) => a - b);
    expect(read[0]).toBe(0);
    expect(read[1]).toBeGreaterThanOrEqual(heard.frames);
    expect(listener.listen!.latency_ms).toBeNull();
    expect(listener.histograms.listen_latency).toBeNull();
  });
});
