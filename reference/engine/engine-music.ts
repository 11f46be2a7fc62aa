import { ZegoCopyrightedMusic, type ZegoCopyrightedMusicOptions } from "../music/copyrighted-music.ts";
import type { ResultBase, ZegoCopyrightedMusicConfig } from "../music/types.ts";

// createCopyrightedMusic's module: the copyrighted-music client with the engine's credentials. In token mode
// (no app sign) every vendor call carries the room's current login token, so a renewToken reaches the vendor
// API too, and initialising before the room login is the SDK's 1017009 ("log in before init when using
// tokens", spec §5/§8).

export interface EngineCredentials {
  hasAppSign: boolean;
  /** The room login token, if any (renewed by renewToken). */
  token(): string | undefined;
}

export class EngineCopyrightedMusic extends ZegoCopyrightedMusic {
  constructor(
    opts: ZegoCopyrightedMusicOptions,
    private readonly creds: EngineCredentials,
  ) {
    super(opts);
  }

  override async initCopyrightedMusic(config: ZegoCopyrightedMusicConfig): Promise<ResultBase> {
    if (!this.creds.hasAppSign && !this.creds.token()) return { errorCode: 1017009 };
    return super.initCopyrightedMusic(config);
  }
}
