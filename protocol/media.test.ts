import { describe, expect, it } from "vitest";
import {
  Codec,
  decodeFrameHeader,
  emptyFrameHeader,
  encodeFrame,
  FRAME_HEADER_BYTES,
  FrameError,
  FrameFlag,
  type FrameHeader,
  framePayload,
  MAX_FRAME_BYTES,
  MAX_FRAME_PAYLOAD_BYTES,
  nowMicros,
  parseClientMessage,
  parseServerMessage,
  pcmPayloadBytes,
  streamHash,
  streamIdProblem,
  writeFrameHeader,
} from "./media.ts";

const header = (over: Partial<FrameHeader> = {}): Omit<FrameHeader, "payloadBytes"> => ({
  flags: 0,
  codec: Codec.PcmS16le,
  streamHash: streamHash("s1"),
  seq: 7,
  captureUs: 1_700_000_000_123_456,
  sampleRate: 48_000,
  channels: 2,
  ...over,
});

function frameOf(h: Omit<FrameHeader, "payloadBytes">, payload: Uint8Array): Buffer {
  const out = Buffer.alloc(MAX_FRAME_BYTES);
  return out.subarray(0, encodeFrame(out, h, payload));
}

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof FrameError) return e.problem;
    throw e;
  }
  return "none";
}

describe("frame codec", () => {
  it("round-trips every header field and the payload bytes", () => {
    const payload = new Uint8Array(3840).map((_, i) => (i * 37) & 0xff);
    const h = header({ flags: FrameFlag.Discontinuity, seq: 0xffffffff, streamHash: 0xdeadbeef });
    const f = frameOf(h, payload);
    expect(f.length).toBe(FRAME_HEADER_BYTES + 3840);
    const d = decodeFrameHeader(f);
    expect(d).toEqual({ ...h, payloadBytes: 3840 });
    expect(Buffer.from(framePayload(f)).equals(Buffer.from(payload))).toBe(true);
  });

  it("keeps fractional µs capture times exactly (float64)", () => {
    const t = nowMicros();
    expect(decodeFrameHeader(frameOf(header({ captureUs: t }), new Uint8Array(4))).captureUs).toBe(t);
  });

  it("lays the header out as documented (little-endian, 32 bytes)", () => {
    const f = frameOf(
      header({ seq: 0x01020304, streamHash: 0xa1b2c3d4, sampleRate: 44_100, channels: 1 }),
      new Uint8Array(2),
    );
    expect([...f.subarray(0, 4)]).toEqual([0x4b, 1, 0, 0]);
    expect(f.readUInt32LE(4)).toBe(0xa1b2c3d4);
    expect(f.readUInt32LE(8)).toBe(0x01020304);
    expect(f.readDoubleLE(12)).toBe(1_700_000_000_123_456);
    expect(f.readUInt32LE(20)).toBe(44_100);
    expect(f.readUInt32LE(24)).toBe(2);
    expect(f[28]).toBe(1);
  });

  it("writes into the caller's buffer at an offset and reuses the caller's header object", () => {
    const out = new Uint8Array(100).fill(0xee);
    const h: FrameHeader = { ...header(), payloadBytes: 8 };
    writeFrameHeader(out, h, 10);
    expect(out[9]).toBe(0xee);
    out.fill(0, 42, 50);
    const into = emptyFrameHeader();
    const same = decodeFrameHeader(out.subarray(10, 50), into);
    expect(same).toBe(into);
    expect(into.payloadBytes).toBe(8);
  });

  it("refuses frames that are short, corrupt or inconsistent, naming the problem", () => {
    const good = frameOf(header(), new Uint8Array(8));
    const bad = (mutate: (b: Buffer) => void, cut = good.length) => {
      const b = Buffer.from(good.subarray(0, cut));
      mutate(b);
      return problem(() => decodeFrameHeader(b));
    };
    expect(bad(() => {}, 31)).toBe("short");
    expect(bad(() => {}, 0)).toBe("short");
    expect(bad((b) => (b[0] = 0x4c))).toBe("magic");
    expect(bad((b) => (b[1] = 2))).toBe("version");
    expect(bad((b) => (b[2] = 0x80))).toBe("flags");
    expect(bad((b) => (b[3] = 9))).toBe("codec");
    expect(bad((b) => b.writeDoubleLE(Number.NaN, 12))).toBe("timestamp");
    expect(bad((b) => b.writeDoubleLE(-1, 12))).toBe("timestamp");
    expect(bad((b) => b.writeUInt32LE(7_999, 20))).toBe("sample_rate");
    expect(bad((b) => b.writeUInt32LE(192_001, 20))).toBe("sample_rate");
    expect(bad((b) => (b[28] = 0))).toBe("channels");
    expect(bad((b) => (b[28] = 9))).toBe("channels");
    expect(bad((b) => (b[30] = 1))).toBe("reserved");
    expect(bad(() => {}, good.length - 1)).toBe("length");
    expect(bad((b) => b.writeUInt32LE(4, 24))).toBe("length");
    expect(bad((b) => b.writeUInt32LE(MAX_FRAME_PAYLOAD_BYTES + 4, 24))).toBe("length");
    expect(problem(() => decodeFrameHeader(Buffer.concat([good, Buffer.alloc(1)])))).toBe("length");
    // 6 bytes of stereo s16 is a sample and a half.
    expect(bad((b) => b.writeUInt32LE(6, 24), 38)).toBe("alignment");
  });

  it("lets Opus payloads be any length (relayed, not decoded)", () => {
    const f = frameOf(header({ codec: Codec.Opus }), new Uint8Array(7));
    expect(decodeFrameHeader(f).codec).toBe(Codec.Opus);
  });

  it("round-trips the codec field for each codec, written in place or encoded", () => {
    for (const codec of [Codec.PcmS16le, Codec.Opus]) {
      const h: FrameHeader = { ...header({ codec, seq: 9 }), payloadBytes: 324 };
      const out = new Uint8Array(FRAME_HEADER_BYTES + 324);
      writeFrameHeader(out, h);
      expect(out[3]).toBe(codec);
      expect(decodeFrameHeader(out)).toEqual(h);
      expect(decodeFrameHeader(frameOf(h, new Uint8Array(324))).codec).toBe(codec);
    }
  });

  it("refuses to encode out-of-range fields or into a small buffer", () => {
    const p = new Uint8Array(4);
    const enc = (h: Omit<FrameHeader, "payloadBytes">, out = new Uint8Array(64)) =>
      problem(() => encodeFrame(out, h, p));
    expect(enc(header({ seq: -1 }))).toBe("sequence");
    expect(enc(header({ seq: 2 ** 32 }))).toBe("sequence");
    expect(enc(header({ streamHash: 1.5 }))).toBe("stream_hash");
    expect(enc(header({ channels: 3 }))).toBe("alignment");
    expect(enc(header(), new Uint8Array(35))).toBe("buffer");
    expect(
      problem(() =>
        encodeFrame(
          new Uint8Array(MAX_FRAME_BYTES + 2),
          header(),
          new Uint8Array(MAX_FRAME_PAYLOAD_BYTES + 2),
        ),
      ),
    ).toBe("length");
  });

  it("hashes stream ids with 32-bit FNV-1a over UTF-8", () => {
    // Reference vectors of FNV-1a 32.
    expect(streamHash("")).toBe(0x811c9dc5);
    expect(streamHash("a")).toBe(0xe40c292c);
    expect(streamHash("foobar")).toBe(0xbf9cf968);
    expect(streamHash("é")).not.toBe(streamHash("e"));
  });

  it("sizes PCM payloads", () => {
    expect(pcmPayloadBytes(48_000, 2, 20)).toBe(3840);
    expect(pcmPayloadBytes(44_100, 2, 10)).toBe(1764);
  });
});

describe("control messages", () => {
  it("accepts each documented client message", () => {
    const ok = [
      { type: "login", room_id: "r1", user_id: "u1", app_id: 1, app_sign: "x" },
      { type: "login", room_id: "r1", user_id: "u1", user_name: "Ann", token: "04abc", req_id: 3 },
      { type: "logout" },
      { type: "publish", stream_id: "s1", req_id: "a" },
      { type: "stop_publish", stream_id: "s1" },
      { type: "play", stream_id: "s1" },
      { type: "stop_play", stream_id: "s1" },
      { type: "renew_token", token: "04x" },
      { type: "ping", t: 1.5 },
      { type: "get_stream_stats", stream_id: "s1" },
    ];
    for (const m of ok)
      expect(parseClientMessage(JSON.stringify(m)), JSON.stringify(m)).toMatchObject({ ok: true, msg: m });
  });

  it("refuses malformed client messages with 1000017, naming the field and echoing req_id", () => {
    expect(parseClientMessage("{nope")).toMatchObject({ ok: false, code: 1000017, op: null });
    expect(parseClientMessage("[1]")).toMatchObject({ ok: false, code: 1000017 });
    expect(parseClientMessage('{"type":"dance","req_id":9}')).toMatchObject({
      ok: false,
      op: null,
      req_id: 9,
    });
    const r = parseClientMessage('{"type":"publish","req_id":"x"}');
    expect(r).toMatchObject({ ok: false, code: 1000017, op: "publish", req_id: "x" });
    expect(!r.ok && r.message).toContain("stream_id");
    expect(parseClientMessage('{"type":"login","room_id":"r","user_id":5}')).toMatchObject({
      ok: false,
      op: "login",
    });
    // Strict: a misspelt field is refused rather than silently ignored.
    expect(parseClientMessage('{"type":"play","stream_id":"s","streamid":"t"}')).toMatchObject({ ok: false });
    expect(parseClientMessage('{"type":"__proto__"}')).toMatchObject({ ok: false, op: null });
  });

  it("validates server messages and tolerates fields a newer server adds", () => {
    const login = {
      type: "login_ok",
      room_id: "r",
      user_id: "u",
      user_name: "u",
      users: [],
      streams: [],
      token_expire_at: null,
    };
    expect(parseServerMessage(JSON.stringify(login))).toMatchObject({ ok: true });
    expect(parseServerMessage(JSON.stringify({ ...login, extra: 1 }))).toMatchObject({ ok: true });
    expect(parseServerMessage(JSON.stringify({ ...login, users: "x" }))).toMatchObject({ ok: false });
    expect(parseServerMessage('{"type":"kicked","code":1002050,"message":"m"}')).toMatchObject({ ok: true });
    expect(
      parseServerMessage('{"type":"room_user_update","room_id":"r","update_type":2,"users":[]}'),
    ).toMatchObject({
      ok: false,
    });
  });

  it("checks stream ids like the SDK", () => {
    expect(streamIdProblem("s-1_A")).toBeUndefined();
    expect(streamIdProblem("")).toMatch(/empty/);
    expect(streamIdProblem("a".repeat(256))).toBeUndefined();
    expect(streamIdProblem("a".repeat(257))).toMatch(/256/);
    expect(streamIdProblem("a b")).toMatch(/letters/);
    expect(streamIdProblem("流")).toMatch(/letters/);
  });
});
