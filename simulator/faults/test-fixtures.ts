// Integration rig for the fault tests: the real simulator on a loopback port; its own fault engine applies every
// decision to real vendor routes through the global fault hook, and its own admin routes control it.
import type { FastifyInstance } from "fastify";
import { Codec, encodeFrame, nowMicros, streamHash } from "../../protocol/media.ts";
import { call, testSimulator } from "../../test/sim.ts";
import type { Simulator } from "../app.ts";
import type { SongFacts } from "../catalog/types.ts";
import type { SimOptions } from "../options.ts";
import type { FaultEngine } from "./engine.ts";
import type { FaultEvent } from "./events.ts";

export interface FaultRig {
  sim: Simulator;
  engine: FaultEngine;
  /** Base URL serving /admin/faults*. */
  adminUrl: string;
  /** The app serving the admin routes, for inject() with a foreign remote address. */
  adminApp: FastifyInstance;
  close(): Promise<void>;
}

export async function faultRig(o: Partial<SimOptions> = {}): Promise<FaultRig> {
  const sim = await testSimulator(o);
  return { sim, engine: sim.ctx.faults, adminUrl: sim.url, adminApp: sim.app, close: () => sim.close() };
}

/** PUT /admin/faults; throws with the refusal when the profile is not accepted. */
export async function putFaults(rig: FaultRig, faults: unknown[], extra: object = {}): Promise<void> {
  const r = await call(rig.adminUrl, "PUT", "/admin/faults", { body: { ...extra, faults } });
  if (r.status !== 200) throw new Error(JSON.stringify(r.body));
}

/** GET /admin/faults/events, parsed. */
export async function faultEvents(rig: FaultRig): Promise<FaultEvent[]> {
  const text = await (await fetch(`${rig.adminUrl}/admin/faults/events`)).text();
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as FaultEvent);
}

/**
 * The `skip`-th vendor-0 song with every right, an accompaniment and a clip that also passes `pred`: any
 * resource type can be requested for it. Small files: a clip at normal quality is ~0.6-1.3 MB.
 */
export function findSong(sim: Simulator, pred: (f: SongFacts) => boolean = () => true, skip = 0): SongFacts {
  const { catalog } = sim.ctx;
  let seen = 0;
  for (let i = 0; i < catalog.size; i++) {
    const f = catalog.at(i);
    const ok =
      f.item.vendor_id === 0 &&
      f.item.copyright.song_lyric === 1 &&
      f.item.copyright.recording === 1 &&
      f.has_accompaniment &&
      f.item.has_clip === 1 &&
      !catalog.isRevoked(f.item.song_id);
    if (ok && pred(f) && seen++ >= skip) return f;
  }
  throw new Error("no such song in the test catalog");
}

export interface Issued {
  code: number;
  id: string;
  size: number;
  ttl: number;
}

/** requestResource (count billing, normal quality) for `song`. */
export async function requestRes(
  sim: Simulator,
  headers: Record<string, string>,
  song: SongFacts | string,
  resource_type: number,
): Promise<Issued> {
  const song_id = typeof song === "string" ? song : song.item.song_id;
  const r = await call(sim.url, "POST", "/v1/music/resource", {
    headers,
    body: { song_id, resource_type, billing_mode: 0, vendor_id: 0, quality: 0 },
  });
  const res = r.body.data?.resources?.[0];
  return {
    code: r.body.code,
    id: res?.resource_id ?? "",
    size: res?.size ?? 0,
    ttl: res?.resource_ttl ?? -1,
  };
}

export interface Received {
  status: number;
  /** Time the response headers arrived, ms after the request was sent. */
  headersMs: number;
  bytes: number;
  /** Each chunk as it arrived: ms after the request was sent, and the byte total after it. */
  chunks: { ms: number; total: number }[];
  /** Set when the body ended in an error (reset, cut) instead of its end. */
  error?: unknown;
  body: Buffer;
}

/** Downloads over real HTTP, timing every chunk; `onChunk` may act mid-body (return true to stop reading). */
export async function download(
  sim: Simulator,
  id: string,
  headers: Record<string, string>,
  opts: { method?: string; onChunk?: (total: number) => unknown; signal?: AbortSignal } = {},
): Promise<Received> {
  const t0 = performance.now();
  const res = await fetch(`${sim.url}/v1/music/download/${id}`, {
    method: opts.method ?? "GET",
    headers,
    signal: opts.signal,
  });
  const out: Received = {
    status: res.status,
    headersMs: performance.now() - t0,
    bytes: 0,
    chunks: [],
    body: Buffer.alloc(0),
  };
  const parts: Buffer[] = [];
  if (!res.body) return out;
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parts.push(Buffer.from(value));
      out.bytes += value.length;
      out.chunks.push({ ms: performance.now() - t0, total: out.bytes });
      if ((await opts.onChunk?.(out.bytes)) === true) {
        await reader.cancel();
        break;
      }
    }
  } catch (e) {
    out.error = e;
  }
  out.body = Buffer.concat(parts);
  return out;
}

/** Polls `cond` every 20 ms for at most `ms`; true once it holds. */
export async function eventually(cond: () => boolean | Promise<boolean>, ms = 2000): Promise<boolean> {
  const until = performance.now() + ms;
  for (;;) {
    if (await cond()) return true;
    if (performance.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const scratch = Buffer.alloc(64);
const payload = new Uint8Array(16);
/** A media frame as small as the wire allows (8 kHz mono, 16 bytes): thousands cross loopback in moments. */
export function tinyFrame(streamId: string, seq: number): Buffer {
  const n = encodeFrame(
    scratch,
    {
      flags: 0,
      codec: Codec.PcmS16le,
      streamHash: streamHash(streamId),
      seq,
      captureUs: nowMicros(),
      sampleRate: 8000,
      channels: 1,
    },
    payload,
  );
  return Buffer.from(scratch.subarray(0, n));
}
