import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEngine, type ZegoExpressEngine } from "../engine/engine.ts";
import type { EngineCopyrightedMusic } from "../engine/engine-music.ts";
import { ZegoRoomState } from "../engine/types.ts";
import { codeOf } from "../errors.ts";
import { MemoryCache } from "../music/cache.ts";
import { acquireFirstUsable, type Failure, type Streaming } from "./acquire.ts";
import { checkPipelineConfig, type PipelineConfig, type ResolvedConfig, withDefaults } from "./config.ts";
import { getLyrics, type LyricsStep, lyricsReport } from "./lyrics.ts";
import {
  hasPitchLine,
  listenOnly,
  loadSong,
  type PerformContext,
  publishSong,
  startListening,
  stopListening,
} from "./perform.ts";
import { pickSongs } from "./pick-song.ts";
import type { PlayerActionReport } from "./player-actions.ts";
import { isRevocation, isVendorUnavailable, MEDIA_RECONNECT, transientRetryPolicy } from "./recovery.ts";
import { type PipelineResult, Recorder } from "./result.ts";
import { shouldRemint, TokenKeeper } from "./token.ts";
import { type RetryReport, retryObserver } from "./traffic.ts";

// The careful app's whole flow for one user, as one function a scenario runner calls per virtual user:
//
//   login the room -> init copyrighted music -> pick a song (search / chart / id) -> getSharedResource or
//   requestResource -> download -> load -> start -> mix accompaniment + voice -> publish  (+ play listened
//   streams)
//
// It takes its whole configuration and an AbortSignal, keeps no global state, always cleans up (engine,
// sockets, temporary cache), and resolves with a PipelineResult, also when it fails or is aborted: a run that
// could not finish says where and why in `failure`. Only an invalid configuration rejects. The one exception
// to the clean-up: given a PipelineSession (config `session`), a run that ended cleanly leaves its engine
// logged in there for the user's next song; the session's close() cleans it up.

export class PipelineConfigError extends Error {
  constructor(readonly errors: string[]) {
    super(`invalid pipeline config: ${errors.join("; ")}`);
    this.name = "PipelineConfigError";
  }
}

/** Ends the run at a stage; caught once, at the end, and turned into `result.failure`. */
class StageFailure extends Error {
  constructor(readonly failure: Omit<Failure, "ok">) {
    super(failure.message);
  }
}

const isFailure = (x: object): x is Failure => "ok" in x && x.ok === false;

/** The stage a retried route belongs to, for the recovery log. */
function stageOfRoute(route: string): string {
  if (route === "download") return "download";
  if (route.includes("/extended")) return "search";
  if (route.includes("/resource") || route.includes("/shared-resource")) return "request";
  if (route.includes("/init")) return "init";
  return "load";
}

/** What a kept login holds between songs (PipelineSession). */
interface KeptLogin {
  /** What the login is for (sessionKey): a run for another user, room, target or codec logs in anew. */
  key: string;
  engine: ZegoExpressEngine;
  music: EngineCopyrightedMusic;
  /** The temporary cache directory this login made, removed with it. */
  tempDir: string | undefined;
  /** The Recorder of the song running on the login: the music module's observers report to it. */
  sink: { rec: Recorder };
}

/**
 * A user's login kept across songs, as a real KTV app does it: it logs in to the room and initialises the
 * copyrighted-music module once, then sings (or listens to) song after song. Hand the same session to
 * consecutive runs (config `session`); a run logs in only when the session holds no usable login for its user,
 * room, target and codec (the room was lost, or the previous run failed or was aborted: its login is closed,
 * never reused). Each run still reports its own song: its own requests, bytes, recoveries and publish clock;
 * `stages.login_ms` and `init_ms` are null on a run that used a kept login, and its ttfa counts from its own
 * start. Token mode (token / renewToken) is never kept: a renewal belongs to the run that watches it.
 */
export class PipelineSession {
  private kept: KeptLogin | null = null;
  /** Logins kept through this session (each made by a run that then ended cleanly). */
  logins = 0;
  /** Runs that used a kept login instead of logging in. */
  reused = 0;
  /** Clean songs on the login kept now (0 when none is). */
  songsOnLogin = 0;

  /** The kept login for `key`, or null (a login for anything else, or no longer in its room, is closed). */
  async take(key: string): Promise<KeptLogin | null> {
    const k = this.kept;
    this.kept = null;
    if (k === null) return null;
    if (k.key === key && k.engine.roomState === ZegoRoomState.Connected) {
      this.reused++;
      return k;
    }
    this.songsOnLogin = 0;
    await closeLogin(k);
    return null;
  }

  /** Keeps a login after a clean song: `fresh` when the run made it. */
  keep(k: KeptLogin, fresh: boolean): void {
    this.kept = k;
    if (fresh) this.logins++;
    this.songsOnLogin = fresh ? 1 : this.songsOnLogin + 1;
  }

  /** Whether a login is kept now. */
  get holding(): boolean {
    return this.kept !== null;
  }

  /** Logs out (destroys the engine) and removes what the login made. Idempotent. */
  async close(): Promise<void> {
    const k = this.kept;
    this.kept = null;
    this.songsOnLogin = 0;
    if (k) await closeLogin(k);
  }
}

async function closeLogin(k: KeptLogin): Promise<void> {
  await k.engine.destroyEngine().catch(() => {});
  if (k.tempDir !== undefined) await rm(k.tempDir, { recursive: true, force: true });
}

/** What a login is bound to: a run that differs in any of these cannot use it. */
function sessionKey(cfg: ResolvedConfig): string {
  return JSON.stringify([
    cfg.target,
    cfg.mediaSocketPath ?? null,
    cfg.mediaSocket ?? null,
    cfg.appID,
    cfg.appSign ?? null,
    cfg.roomID,
    cfg.userID,
    cfg.codec,
    cfg.histograms,
    cfg.memoryCache,
    cfg.cacheDir ?? null,
    cfg.sharedAudio !== undefined,
  ]);
}

export async function runPipeline(
  config: PipelineConfig,
  signal: AbortSignal = new AbortController().signal,
): Promise<PipelineResult> {
  const problems = checkPipelineConfig(config);
  if (problems.length > 0) throw new PipelineConfigError(problems);
  const cfg = withDefaults(config);
  const rec = new Recorder(cfg.onEvent);
  const session = cfg.token || cfg.renewToken ? undefined : cfg.session;
  const key = session ? sessionKey(cfg) : "";
  const kept = session ? await session.take(key) : null;
  if (kept) kept.sink.rec = rec;
  const sink = kept?.sink ?? { rec };
  const tempDir =
    kept || cfg.memoryCache || cfg.cacheDir ? kept?.tempDir : await mkdtemp(join(tmpdir(), "ktv-pipeline-"));
  const cacheDir = cfg.memoryCache ? undefined : (cfg.cacheDir ?? tempDir);
  const engine =
    kept?.engine ??
    createEngine({
      appID: cfg.appID,
      ...(cfg.appSign ? { appSign: cfg.appSign } : {}),
      server: cfg.target,
      ...(cfg.mediaSocketPath ? { mediaSocketPath: cfg.mediaSocketPath } : {}),
      ...(cfg.mediaSocket ? { mediaSocket: cfg.mediaSocket } : {}),
      reconnect: cfg.reconnect,
      codec: cfg.codec,
      publishHistograms: cfg.histograms,
      ...(cacheDir !== undefined ? { cacheDir } : {}),
      ...(cfg.logger ? { logger: cfg.logger } : {}),
    });
  /** Reconnects counted before this run (a kept login's earlier songs'). */
  const reconnectsBefore = kept ? engine.reconnectCount : 0;
  /** The music module once the session start is done (a kept login's at once). */
  let started: EngineCopyrightedMusic | null = kept?.music ?? null;
  let failure: PipelineResult["failure"] = null;
  let song: PipelineResult["song"] = null;
  let publish: PipelineResult["publish"] = null;
  let playerReport: PlayerActionReport | null = null;
  let listen: PipelineResult["listen"] = null;
  let ctx: PerformContext | null = null;
  let streaming: Streaming | null = null;
  let st: ReturnType<typeof engine.getPublishStats> | null = null;
  let clockHistograms: ReturnType<typeof engine.getPublishHistograms> = null;
  // Asserted, not narrowed: logInAndInit assigns it from a closure.
  let tokens = null as TokenKeeper | null;
  let lyrics: LyricsStep | null = null;
  let score: PipelineResult["score"] = null;

  /** Room login, then initCopyrightedMusic: the session start (skipped on a kept login). */
  const logInAndInit = async (): Promise<EngineCopyrightedMusic> => {
    const logIn = (token: string | undefined) =>
      rec.stage("login", () =>
        engine.loginRoom(
          cfg.roomID,
          { userID: cfg.userID, userName: cfg.userName ?? cfg.userID },
          token ? { token } : {},
        ),
      );
    let login = await logIn(cfg.token);
    if (cfg.renewToken && shouldRemint(login.errorCode, false)) {
      // Rule "token-remint" (token.ts): the app's cached token had expired; a fresh one, and one more login.
      rec.error(login.errorCode);
      rec.recover("token-remint", "login", login.errorCode, "the login token had expired: minted a new one");
      login = await logIn(await cfg.renewToken());
    }
    if (login.errorCode !== 0) {
      throw new StageFailure({ stage: "login", code: login.errorCode, message: "room login failed" });
    }
    if (cfg.renewToken) {
      tokens = new TokenKeeper(engine, cfg.roomID, cfg.renewToken, rec);
      tokens.watch();
    }
    signal.throwIfAborted();

    const onRetry = (r: RetryReport) => {
      sink.rec.error(r.code);
      sink.rec.recover(
        "transient-backoff",
        stageOfRoute(r.stage),
        r.code,
        `${r.detail}: retry in ${r.delayMs} ms`,
      );
    };
    const m: EngineCopyrightedMusic = engine.createCopyrightedMusic({
      ...(cacheDir !== undefined ? { cacheDir } : { cache: new MemoryCache(cfg.sharedAudio?.pool) }),
      ...(cfg.sharedAudio ? { sharedAudio: cfg.sharedAudio.songs } : {}),
      retry: transientRetryPolicy(cfg.retry),
      downloadRetry: transientRetryPolicy({
        maxAttempts: 6,
        baseDelayMs: 200,
        maxDelayMs: 5_000,
        ...cfg.retry,
      }),
      onDownloadBytes: (n) => {
        sink.rec.bytes += n;
      },
      logger: retryObserver(onRetry, cfg.logger),
      ...(tokens ? { onTokenExpired: tokens.afterExpiredCall } : {}),
    });
    const init = await rec.stage("init", () =>
      m.initCopyrightedMusic({ user: { userID: cfg.userID, userName: cfg.userName ?? cfg.userID } }),
    );
    if (init.errorCode !== 0) {
      rec.error(init.errorCode);
      throw new StageFailure({ stage: "init", code: init.errorCode, message: "initCopyrightedMusic failed" });
    }
    return m;
  };

  try {
    const music = started ?? (await logInAndInit());
    started = music;
    signal.throwIfAborted();

    const picked = await rec.stage("search", () =>
      pickSongs(music, cfg.song, {
        vendorID: cfg.vendorID,
        resourceType: cfg.resourceType,
        max: cfg.maxSongs,
      }),
    );
    if (!picked.ok) {
      rec.error(picked.code);
      throw new StageFailure({ stage: "search", code: picked.code, message: picked.message });
    }
    rec.pickedAt = rec.sinceStart();
    signal.throwIfAborted();
    // The publish handshake goes out now, beside the song's request and download, not after the load
    // (engine.preparePublishingStream). A song that fails before publishing ends it with the engine (a failed
    // run never keeps its login); publishSong's startPublishingStream reports the handshake's error.
    if (cfg.publish) engine.preparePublishingStream(cfg.streamID);

    // The pitch line is a vendor call of its own: fetched while the song downloads, not after.
    const pitches = new Map<string, ReturnType<typeof music.getStandardPitch>>();
    const settings = { ...cfg, prerollMs: cfg.prerollMs ?? null };
    const got = await acquireFirstUsable(
      {
        music,
        rec,
        signal,
        settings,
        onObtained: (id, song) => {
          // No pitch line to ask for (1017075): perform.ts does not ask for one either.
          if (!hasPitchLine(cfg.resourceType, song)) return;
          const p = music.getStandardPitch(id);
          p.catch(() => {});
          pitches.set(id, p);
        },
      },
      picked.candidates,
    );
    if (!got.ok) throw new StageFailure(got);
    const acquired = got.acquired;
    song = {
      song_id: acquired.song.song_id,
      song_name: acquired.song.song_name,
      singer_name: acquired.song.singer_name,
      resource_id: acquired.resourceID,
      resource_type: cfg.resourceType,
      via: acquired.via,
    };
    rec.event({
      type: "song",
      song_id: song.song_id,
      song_name: song.song_name,
      singer_name: song.singer_name,
      duration_ms: acquired.song.duration,
    });
    signal.throwIfAborted();

    ctx = { engine, music, rec, cfg, signal };
    streaming = acquired.stream ?? null;
    // Lyrics load while the song does (a singer's only: a listener's player does not play).
    // getLyrics resolves with its failures; a rejection is a bug, and must not leave a floating promise.
    const lyricsFetch =
      cfg.lyrics && cfg.publish ? getLyrics(music, rec, cfg, acquired).catch(() => null) : null;
    const loaded = await loadSong(ctx, acquired, pitches.get(acquired.resourceID));
    // Nothing reads the pitch calls' answers after the load: kept in the map, every VU held its pitch line's
    // JSON (~25 KB) for the whole song. A listener sings nothing, so it does not keep the parsed line either.
    pitches.clear();
    if (!isFailure(loaded) && !cfg.publish) loaded.pitch = [];
    lyrics = lyricsFetch ? await lyricsFetch : null;
    if (isFailure(loaded)) throw new StageFailure(loaded);
    loaded.lyrics = lyrics?.follower ?? null;
    signal.throwIfAborted();

    await startListening(ctx);
    if (cfg.publish) {
      const outcome = await publishSong(ctx, loaded);
      // The engine counts reconnects since its login: a kept login's earlier songs' are not this song's.
      publish = { ...outcome.report, reconnects: outcome.report.reconnects - reconnectsBefore };
      playerReport = outcome.player;
      score = outcome.score;
      for (let i = 0; i < publish.reconnects; i++) {
        rec.recover(MEDIA_RECONNECT, "publish", 0, "media socket lost: logged in again and re-published");
      }
      if (outcome.roomLost !== null) {
        throw new StageFailure({
          stage: "publish",
          code: outcome.roomLost,
          message: "the room was lost while publishing",
        });
      }
      const err = engine.getPublishStats().error;
      if (err)
        throw new StageFailure({
          stage: "publish",
          code: 1000017,
          message: `the publish clock stopped: ${err}`,
        });
    } else if (cfg.listen.length > 0) {
      const lost = await listenOnly(ctx);
      if (lost !== null)
        throw new StageFailure({ stage: "listen", code: lost, message: "the room was lost while listening" });
    }
    // A song played while it downloaded: the run is only as good as the download's verification.
    if (streaming) {
      const code = await streaming.done;
      if (code !== 0 && !signal.aborted) {
        if (isRevocation(code)) {
          rec.recover(
            "revoked-stop",
            "download",
            code,
            "the song was revoked while it played: stopped at once",
          );
        }
        throw new StageFailure({
          stage: "download",
          code,
          message: `download of ${acquired.resourceID} failed while the song played`,
        });
      }
    }
  } catch (err) {
    if (err instanceof StageFailure) {
      failure = { stage: err.failure.stage, code: err.failure.code, message: err.failure.message };
    } else if (!signal.aborted) {
      failure = {
        stage: "run",
        code: codeOf(err, 1017099),
        message: err instanceof Error ? err.message : String(err),
      };
    }
    const backoffs = rec.recovery.filter((a) => a.rule === "transient-backoff").length;
    if (failure && isVendorUnavailable(failure.code, backoffs)) {
      const why = `the vendor is unavailable: ${failure.code} after ${backoffs} backoff retries`;
      rec.recover("vendor-unavailable", failure.stage, failure.code, why);
      failure.message = `${why} (${failure.message})`;
    }
  } finally {
    tokens?.stop();
    if (ctx) listen = await stopListening(ctx).catch(() => null);
    st = engine.getPublishStats();
    clockHistograms = engine.getPublishHistograms();
    // A login is kept only after a clean song: a failed or aborted run may have left anything behind.
    if (session && started && failure === null && !signal.aborted) {
      if (ctx?.player) await engine.destroyMediaPlayer(ctx.player).catch(() => {});
      session.keep({ key, engine, music: started, tempDir, sink }, kept === null);
    } else {
      await engine.destroyEngine();
      if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
    }
  }
  return {
    ok: failure === null && !signal.aborted,
    aborted: signal.aborted,
    failure,
    user_id: cfg.userID,
    room_id: cfg.roomID,
    song,
    skipped: rec.skipped,
    stages: rec.stages,
    phases: rec.phases,
    errors: rec.errors,
    billable_requests: rec.billable,
    unconfirmed_requests: rec.unconfirmed,
    shared_fetches: rec.shared,
    bytes_downloaded: rec.bytes,
    recovery: rec.recovery,
    publish,
    mix: publish ? st.clock : null,
    ...(playerReport ? { player: playerReport } : {}),
    listen,
    histograms: {
      unit: "us",
      mix_lateness: publish ? (clockHistograms?.lateness ?? null) : null,
      mix_cost: publish ? (clockHistograms?.cost ?? null) : null,
      listen_latency: rec.latencyHistogram(),
    },
    elapsed_ms: rec.sinceStart(),
    ...(cfg.lyrics ? { lyrics: lyrics ? lyricsReport(lyrics) : null } : {}),
    ...(cfg.scoring && cfg.publish ? { score } : {}),
  };
}
