import type { ZegoExpressEngine } from "../engine/engine.ts";
import { codeOf, ZegoError } from "../errors.ts";
import { TOKEN_EXPIRED } from "../music/transport.ts";
import type { Recorder } from "./result.ts";

// Token mode's recovery rules (spec §8: token04 at loginRoom, onRoomTokenWillExpire 30 s ahead, renewToken),
// the careful app's way, so that no user ever sees an error caused by a token's life running out:
//
//   onRoomTokenWillExpire      -> mint a fresh token and renewToken, before the expiry     ("token-renew")
//                                 (a refused or failed renewal is tried once more with a newly minted token;
//                                 0 s left: a reconnect found the token expired and waits for the new one)
//   1002078 token expired      -> mint a fresh token and retry the call once                ("token-remint")
//      on loginRoom               (an app resuming with a cached token)
//      on a vendor call           (the music module's onTokenExpired: renewToken, then the same call again)
//
// Minting is the app's token server (`renewToken` of the pipeline config); the rules only decide when to ask
// it. A second expiry in a row is reported as it is: it means the token server hands out dead tokens (clock
// skew, a lifetime shorter than the vendor's 30 s warning), which no retry can fix.

export { TOKEN_EXPIRED };

/** Rule "1002078 -> mint a fresh token and retry once": only the expiry is renewable, and only once. */
export function shouldRemint(code: number, remintedAlready: boolean): boolean {
  return code === TOKEN_EXPIRED && !remintedAlready;
}

export class TokenKeeper {
  /** Renewals that reached the room before the expiry. */
  renewals = 0;
  private detach: (() => void) | null = null;

  constructor(
    private readonly engine: ZegoExpressEngine,
    private readonly roomID: string,
    private readonly mint: () => Promise<string>,
    private readonly rec: Recorder,
  ) {}

  /** Rule "token-renew": listens for onRoomTokenWillExpire until stop(). */
  watch(): void {
    const listener = (roomID: string, remainSeconds: number) => {
      if (roomID === this.roomID) void this.renewAhead(remainSeconds);
    };
    this.engine.on("onRoomTokenWillExpire", listener);
    this.detach = () => this.engine.off("onRoomTokenWillExpire", listener);
  }

  stop(): void {
    this.detach?.();
    this.detach = null;
  }

  /**
   * Rule "token-remint" for a vendor call refused with 1002078 (VendorTransport's onTokenExpired): a fresh
   * token for the room and so for the vendor API; true when the call may go again.
   */
  readonly afterExpiredCall = async (code: number): Promise<boolean> => {
    this.rec.error(code);
    try {
      await this.engine.renewToken(this.roomID, await this.mint());
    } catch (err) {
      this.rec.error(codeOf(err, 1002033));
      return false;
    }
    this.rec.recover(
      "token-remint",
      "vendor",
      code,
      "a vendor call found the token expired: minted, renewed, sent again",
    );
    return true;
  };

  private async renewAhead(remainSeconds: number): Promise<void> {
    let lastCode = 0;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await this.engine.renewToken(this.roomID, await this.mint());
        this.renewals++;
        // 0 s left: the engine's reconnect met the expiry (the warning went to a dropped link) and waits for this.
        const why =
          remainSeconds > 0
            ? `the room warned ${remainSeconds} s before expiry`
            : "the token ran out while the link was down: the reconnect asked for a new one";
        this.rec.recover(
          "token-renew",
          remainSeconds > 0 ? "room" : "reconnect",
          0,
          `${why}: renewed${attempt > 0 ? ` on try ${attempt + 1} (first: ${lastCode})` : ""}`,
        );
        return;
      } catch (err) {
        lastCode = codeOf(err, 1002033);
        this.rec.error(lastCode);
        // Out of the room (1002002): nothing left to renew.
        if (err instanceof ZegoError && err.code === 1002002) return;
      }
    }
  }
}
