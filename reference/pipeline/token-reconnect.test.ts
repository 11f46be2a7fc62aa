import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintToken04 } from "../../protocol/token04.ts";
import type { Simulator } from "../../simulator/app.ts";
import { manualClock } from "../../simulator/clock.ts";
import { DEV_APP } from "../../simulator/options.ts";
import { testSimulator } from "../../test/sim.ts";
import { runPipeline } from "./run.ts";
import { userConfig } from "./test-fixtures.ts";

// A singer's link drops after its token ran out (the simulator's clock jumps past the expiry once publishing
// starts; its sweep, which would warn and kick, runs once a minute here, as if the warning had gone to a link
// already down). The reconnect's login is refused with 1002078: the reference client mints a fresh token when
// the engine asks (onRoomTokenWillExpire with 0 s left) and the reconnect goes through.

const clock = manualClock(Date.now());
let sim: Simulator;
beforeAll(async () => {
  sim = await testSimulator({ clock, media: { sweepIntervalMs: 60_000 } });
});
afterAll(async () => {
  await sim.close();
});

const mint = (user: string) =>
  mintToken04({
    appId: DEV_APP.app_id,
    userId: user,
    secret: DEV_APP.token_secret,
    effectiveSeconds: 60,
    now: Math.floor(clock.now() / 1000),
  });

function droppingSinger(user: string, renew: boolean) {
  let mints = 0;
  const config = {
    ...userConfig(sim.url, user, { seconds: 2, player: { dropProb: 1 } }),
    appSign: undefined,
    token: mint(user),
    ...(renew
      ? {
          renewToken: async () => {
            mints++;
            return mint(user);
          },
        }
      : {}),
    onEvent: (e: { type: string }) => {
      if (e.type === "publishing") clock.advance(120_000);
    },
  };
  return { config, mints: () => mints };
}

describe("a media reconnect after the token ran out", () => {
  it("the engine asks for a token, the client mints one, the reconnect logs in and the song goes on", async () => {
    const { config, mints } = droppingSinger("late-drop", true);
    const r = await runPipeline(config);
    expect(r.failure).toBeNull();
    expect(r.player).toMatchObject({ drops: 1 });
    expect(r.publish).toMatchObject({ reconnects: 1 });
    expect(mints()).toBe(1);
    expect(r.recovery.filter((a) => a.rule === "token-renew" || a.rule === "media-reconnect")).toMatchObject([
      { rule: "token-renew", stage: "reconnect" },
      { rule: "media-reconnect", stage: "publish" },
    ]);
  });

  it("without a way to mint (the control): the reconnect fails with 1002078 and the run says so", async () => {
    const { config } = droppingSinger("late-drop-stale", false);
    const r = await runPipeline(config);
    expect(r.ok).toBe(false);
    expect(r.failure).toMatchObject({ code: 1002078 });
  });
});
