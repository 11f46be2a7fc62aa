import { describe, expect, it } from "vitest";
import { PreencodedOpus } from "../../reference/codec/packet-codec.ts";
import { warmUpThread } from "./warm-up.ts";

// A worker builds its boot-time tables before "ready" (worker.ts), so the run's first seconds do not.

describe("worker warm-up", () => {
  it("builds the thread's pre-encoded Opus packets for an opus-preencoded scenario only", () => {
    expect(warmUpThread({ media: { codec: "pcm", transport: "unix" } })).toEqual({ preencodedOpus: false });
    expect(PreencodedOpus.built).toBe(false);
    expect(warmUpThread({ media: { codec: "opus-preencoded", transport: "unix" } })).toEqual({
      preencodedOpus: true,
    });
    expect(PreencodedOpus.built).toBe(true);
    // The engines of the run take the same table: nothing is built again on the audio path.
    const table = PreencodedOpus.shared();
    warmUpThread({ media: { codec: "opus-preencoded", transport: "unix" } });
    expect(PreencodedOpus.shared()).toBe(table);
    expect(table.packets.length).toBe(250);
  });
});
