import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { decodeFrameHeader } from "../../protocol/media.ts";
import { call } from "../../test/sim.ts";
import { loginClient, type MediaTestClient } from "../media/test-client.ts";
import { DISCONNECT_CLOSE_CODE } from "./media-shaping.ts";
import { eventually, type FaultRig, faultEvents, faultRig, putFaults, tinyFrame } from "./test-fixtures.ts";

// The `disconnect` kind against real WebSocket clients of the real simulator: the picked publisher's connection
// is closed (1012, not a kick) when its after_frames-th frame arrives, the frames before it reach the player
// and none after; streams the selector does not pick are untouched; a publication made again is picked again
// only as the count limits allow; the event log says what happened; bad parameters are refused.

let rig: FaultRig;
const open: MediaTestClient[] = [];
beforeAll(async () => {
  rig = await faultRig({ seed: 9, media: { statsIntervalMs: 0, frameErrorIntervalMs: 0 } });
});
afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
  await rig.close();
});
beforeEach(async () => {
  await call(rig.adminUrl, "POST", "/admin/faults/reset");
});

/** A publisher and a player of `streamId` in a room of their own; `heard` collects the player's frame numbers. */
async function pair(streamId: string, user = `pub-${streamId}`) {
  const room = `room-${streamId}`;
  const pub = await loginClient(rig.sim.url, room, user);
  const player = await loginClient(rig.sim.url, room, `play-${streamId}-${open.length}`);
  open.push(pub, player);
  expect((await pub.request({ type: "publish", stream_id: streamId })).type).toBe("publish_ok");
  expect((await player.request({ type: "play", stream_id: streamId })).type).toBe("play_ok");
  const heard: number[] = [];
  const header = { seq: 0 } as ReturnType<typeof decodeFrameHeader>;
  player.ws.on("message", (data, isBinary) => {
    if (!isBinary) return;
    decodeFrameHeader(data as Buffer, header);
    heard.push(header.seq);
  });
  const send = (n: number) => {
    for (let s = 0; s < n; s++) if (pub.ws.readyState === pub.ws.OPEN) pub.sendFrame(tinyFrame(streamId, s));
  };
  /** Stops publishing (after every frame sent, on the same socket), then waits until the player has them all. */
  const finish = async () => {
    expect((await pub.request({ type: "stop_publish", stream_id: streamId })).type).toBe("stop_publish_ok");
    expect((await player.request({ type: "ping" })).type).toBe("pong");
  };
  return { pub, player, heard, send, finish };
}

const upTo = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("disconnect fault", () => {
  it("closes the picked publisher's connection (1012) at its after_frames-th frame; others carry on", async () => {
    await putFaults(rig, [
      { id: "cut", kind: "disconnect", after_frames: 10, selector: { stream_ids: ["st-cut"] } },
    ]);
    const cut = await pair("st-cut");
    const clean = await pair("st-clean");
    cut.send(40);
    clean.send(40);
    const closed = await cut.pub.closed;
    expect(closed).toEqual({
      code: DISCONNECT_CLOSE_CODE,
      reason: "fault: the media server closed the connection",
    });
    // The player got what came before the cut and nothing after it (the cut was relayed before the close).
    await clean.finish();
    expect((await cut.player.request({ type: "ping" })).type).toBe("pong");
    expect(cut.heard).toEqual(upTo(10));
    expect(clean.heard).toEqual(upTo(40));
    expect(clean.pub.ws.readyState).toBe(clean.pub.ws.OPEN);
    await eventually(async () => (await faultEvents(rig)).some((e) => e.fault_id === "cut"));
    const evs = (await faultEvents(rig)).filter((e) => e.fault_id === "cut");
    expect(evs).toHaveLength(1);
    expect(evs[0]).toMatchObject({
      kind: "disconnect",
      route: "WS /v1/media",
      effect: { frames: 1, disconnected: 1, seq_first: 10, seq_last: 10 },
    });
    expect(evs[0]!.request_key.endsWith("|WS /v1/media|st-cut#1")).toBe(true);
  });

  it("first: 1 per user: the publication made again after the reconnect is left alone", async () => {
    await putFaults(rig, [
      {
        id: "once",
        kind: "disconnect",
        first: 1,
        count_scope: "user",
        selector: { stream_ids: ["st-once"] },
      },
    ]);
    const a = await pair("st-once", "pub-once");
    a.send(5);
    expect((await a.pub.closed).code).toBe(DISCONNECT_CLOSE_CODE);
    expect(a.heard).toEqual([]);
    // The same user logs in again and publishes the same stream: a new publication, not picked again.
    const b = await pair("st-once", "pub-once");
    b.send(20);
    await b.finish();
    expect(b.heard).toEqual(upTo(20));
    expect(b.pub.ws.readyState).toBe(b.pub.ws.OPEN);
  });

  it("probability picks publications by the seed: the same ones on another simulator with the same seed", async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `st-p${i}`);
    const cutOn = async (on: FaultRig): Promise<string[]> => {
      await call(on.adminUrl, "POST", "/admin/faults/reset");
      await putFaults(on, [{ id: "half", kind: "disconnect", probability: 0.5, after_frames: 2 }]);
      const cut: string[] = [];
      for (const id of ids) {
        const pub = await loginClient(on.sim.url, `room-${id}`, `pub-${id}`);
        open.push(pub);
        expect((await pub.request({ type: "publish", stream_id: id })).type).toBe("publish_ok");
        for (let s = 0; s < 5; s++) pub.sendFrame(tinyFrame(id, s));
        // Either the connection closes (picked) or the stop is answered after the frames (passed over).
        const stopped = pub
          .request({ type: "stop_publish", stream_id: id })
          .then(() => "open" as const)
          .catch(() => "closed" as const);
        const outcome = await Promise.race([pub.closed.then(() => "closed" as const), stopped]);
        if (outcome === "closed") cut.push(id);
      }
      return cut;
    };
    const first = await cutOn(rig);
    const twin = await faultRig({ seed: 9, media: { statsIntervalMs: 0, frameErrorIntervalMs: 0 } });
    try {
      expect(await cutOn(twin)).toEqual(first);
    } finally {
      await twin.close();
    }
    expect(first.length).toBeGreaterThan(0);
    expect(first.length).toBeLessThan(ids.length);
  });

  it("refuses selectors that name requests, and bad after_frames", async () => {
    const bad = async (fault: Record<string, unknown>) =>
      call(rig.adminUrl, "PUT", "/admin/faults", {
        body: { faults: [{ id: "d", kind: "disconnect", ...fault }] },
      });
    const byRoute = await bad({ selector: { route: "POST /v1/music/init" } });
    expect(byRoute.status).toBe(400);
    expect(JSON.stringify(byRoute.body)).toMatch(/media faults pick streams/);
    expect((await bad({ after_frames: -1 })).status).toBe(400);
    expect((await bad({ after_frames: 1.5 })).status).toBe(400);
    expect((await bad({ after_frame: 3 })).status).toBe(400);
  });
});
