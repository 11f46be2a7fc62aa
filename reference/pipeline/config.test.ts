import { describe, expect, it } from "vitest";
import { checkPipelineConfig, type PipelineConfig } from "./config.ts";

const base: PipelineConfig = {
  target: "http://127.0.0.1:7400",
  appID: 1000000001,
  appSign: "0123456789abcdef".repeat(4),
  roomID: "r1",
  userID: "u1",
  song: { query: "love" },
};

describe("checkPipelineConfig", () => {
  it("accepts a minimal config", () => {
    expect(checkPipelineConfig(base)).toEqual([]);
  });

  it("requires a masterID under Master billing, as the vendor does (1017073)", () => {
    expect(checkPipelineConfig({ ...base, billingMode: 3 })).toEqual([
      "masterID: required with billingMode 3 (Master)",
    ]);
    expect(checkPipelineConfig({ ...base, billingMode: 3, masterID: "owner" })).toEqual([]);
  });

  it("lists every problem at once", () => {
    const errors = checkPipelineConfig({
      ...base,
      target: "nope",
      appID: 0,
      billingMode: 9,
      song: {} as never,
    });
    expect(errors.length).toBe(4);
  });

  it("memoryCache excludes cacheDir; voiceProfiles is a count 0..4096", () => {
    expect(checkPipelineConfig({ ...base, memoryCache: true })).toEqual([]);
    expect(checkPipelineConfig({ ...base, memoryCache: true, cacheDir: "/tmp/x" })).toEqual([
      "memoryCache: keeps downloads in memory, so it cannot be combined with cacheDir",
    ]);
    expect(checkPipelineConfig({ ...base, voiceProfiles: 8 })).toEqual([]);
    expect(checkPipelineConfig({ ...base, voiceProfiles: -1 })).toEqual([
      "voiceProfiles: must be an integer in 0..4096",
    ]);
  });
});
