import { mintToken04 } from "../../protocol/token04.ts";
import type { PipelineConfig } from "../../reference/pipeline/config.ts";
import type { IterationSpec, VuContext } from "./types.ts";

// token04 login for pipeline VUs (scenario `ktv.auth`): the app's token server, inside the load generator. It
// mints with the app's server secret, exactly as `ktv token` and ZEGO's zego_server_assistant do, and hands
// the client a first token plus the way to get fresh ones (the pipeline renews on onRoomTokenWillExpire and
// re-mints after an expired-token refusal: reference/pipeline/token.ts).

export interface TokenAuth {
  /** Lifetime of each minted token, s. */
  ttlSeconds: number;
  /**
   * The iteration's first token: "fresh" (a full lifetime), "expired" (a cached token that ran out a minute
   * ago: the login answers 1002078), or "expiring" (30 s left: inside the vendor's warning from the start).
   */
  first: "fresh" | "expired" | "expiring";
}

/** The config fields of token mode for `spec`: no app sign, a first token and a token source. */
export function tokenConfig(
  ctx: VuContext,
  spec: Pick<IterationSpec, "userID">,
  auth: TokenAuth,
): Pick<PipelineConfig, "appSign" | "token" | "renewToken"> {
  const secret = ctx.tokenSecret;
  if (!secret) throw new Error(`token04 login needs the server secret of app ${ctx.appID}`);
  const mint = (seconds: number, ageSeconds = 0) =>
    mintToken04({
      appId: ctx.appID,
      userId: spec.userID,
      secret,
      effectiveSeconds: seconds,
      now: Math.floor(Date.now() / 1000) - ageSeconds,
    });
  const first =
    auth.first === "expired"
      ? mint(auth.ttlSeconds, auth.ttlSeconds + 60)
      : auth.first === "expiring"
        ? mint(30)
        : mint(auth.ttlSeconds);
  return { appSign: undefined, token: first, renewToken: async () => mint(auth.ttlSeconds) };
}
