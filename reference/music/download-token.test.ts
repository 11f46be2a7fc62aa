import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintToken04 } from "../../protocol/token04.ts";
import type { Simulator } from "../../simulator/app.ts";
import { manualClock } from "../../simulator/clock.ts";
import { DEV_APP } from "../../simulator/options.ts";
import { testSimulator } from "../../test/sim.ts";
import { MemoryCache } from "./cache.ts";
import { ZegoCopyrightedMusic } from "./copyrighted-music.ts";
import { TOKEN_EXPIRED } from "./transport.ts";

// A download refused because the token ran out (401 + 1002078) against a real simulator whose clock jumps past
// a short-lived token's expiry between the request and the download: the app renews once (onTokenExpired, the
// rule vendor calls already had) and the download goes again; a renewal that cannot help is tried once only.

const clock = manualClock(Date.now());
let sim: Simulator;
beforeAll(async () => {
  sim = await testSimulator({ clock });
});
afterAll(async () => {
  await sim.close();
});

const LIFE_S = 5;
const mint = (user: string) =>
  mintToken04({
    appId: DEV_APP.app_id,
    userId: user,
    secret: DEV_APP.token_secret,
    effectiveSeconds: LIFE_S,
    now: Math.floor(clock.now() / 1000),
  });

/** A vendor-0 song whose accompaniment can be requested. */
function singable(): string {
  for (let i = 0; i < sim.ctx.catalog.size; i++) {
    const f = sim.ctx.catalog.at(i);
    if (
      f.item.vendor_id === 0 &&
      f.item.copyright.song_lyric === 1 &&
      f.has_accompaniment &&
      !sim.ctx.catalog.isRevoked(f.item.song_id)
    )
      return f.item.song_id;
  }
  throw new Error("no singable song in the catalog");
}

/** A client in token mode whose resource was requested with a live token, then the token's life ran out. */
async function expiredBeforeDownload(user: string, renew: () => string | null) {
  let current = mint(user);
  const renewals: number[] = [];
  const cm = new ZegoCopyrightedMusic({
    baseUrl: sim.url,
    appId: DEV_APP.app_id,
    token: () => current,
    cache: new MemoryCache(),
    onTokenExpired: async (code) => {
      renewals.push(code);
      const t = renew();
      if (t === null) return false;
      current = t;
      return true;
    },
  });
  expect(await cm.initCopyrightedMusic({ user: { userID: user } })).toEqual({ errorCode: 0 });
  const songID = singable();
  const r = await cm.requestResource({ songID, mode: 0, vendorID: 0, resourceType: 1 });
  expect(r.errorCode, r.resource).toBe(0);
  const id = r.data!.resources[0]!.resource_id;
  clock.advance((LIFE_S + 1) * 1000);
  expect(renewals).toEqual([]);
  return { cm, id, renewals };
}

describe("download with a token that expired since the request", () => {
  it("1002078 on the download: renewed once through onTokenExpired, downloaded with the fresh token", async () => {
    const { cm, id, renewals } = await expiredBeforeDownload("dl-renew", () => mint("dl-renew"));
    expect(await cm.download(id)).toEqual({ errorCode: 0 });
    expect(renewals).toEqual([TOKEN_EXPIRED]);
  });

  it("the app cannot renew: the download reports 1002078", async () => {
    const { cm, id, renewals } = await expiredBeforeDownload("dl-none", () => null);
    expect(await cm.download(id)).toEqual({ errorCode: TOKEN_EXPIRED });
    expect(renewals).toEqual([TOKEN_EXPIRED]);
  });

  it("the renewed token is dead too: renewed once only, then 1002078", async () => {
    const user = "dl-dead";
    const dead = () =>
      mintToken04({
        appId: DEV_APP.app_id,
        userId: user,
        secret: DEV_APP.token_secret,
        effectiveSeconds: 60,
        now: Math.floor(clock.now() / 1000) - 120,
      });
    const { cm, id, renewals } = await expiredBeforeDownload(user, dead);
    expect(await cm.download(id)).toEqual({ errorCode: TOKEN_EXPIRED });
    expect(renewals).toEqual([TOKEN_EXPIRED]);
  });
});
