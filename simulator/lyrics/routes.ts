import type { Static } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { VENDOR_IDS, type VendorId } from "../../protocol/enums.ts";
import { requireSession } from "../auth/guards.ts";
import type { SongFacts } from "../catalog/types.ts";
import { VendorError } from "../errors.ts";
import { authHeaders, envelopeSchema, ok } from "../http.ts";
import { compositionOf } from "../music/composition.ts";
import { buildKrc, hasWordTimedLyrics } from "./krc.ts";
import { buildLrc } from "./lrc.ts";
import { pitchLine } from "./pitch-line.ts";
import { KrcData, KrcQuery, LrcData, LrcQuery, PitchData, PitchQuery } from "./schemas.ts";

// Lyrics and standard pitch (spec §4): getLrcLyric, getKrcLyricByToken, getStandardPitch. All three read the
// song's composition, the same one the download CDN sings, so lines, words, pitch and audio agree.

function parseVendor(raw: string | undefined): VendorId {
  if (raw === undefined || raw === "") return 0;
  const v = /^\d{1,2}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(VENDOR_IDS as readonly number[]).includes(v)) throw new VendorError(1017071);
  return v as VendorId;
}

export default async function lyricsRoutes(app: FastifyInstance): Promise<void> {
  const sim = app.sim;

  const revoked = (f: SongFacts) => sim.catalog.isRevoked(f.item.song_id);

  app.get(
    "/v1/music/lyrics/lrc",
    {
      schema: {
        summary:
          "getLrcLyric: line-timed lyrics of a song (raw LRC in data.lyrics plus the SDK's JSON fields)",
        description:
          "1017002 song_id empty, 1017071 vendor_id invalid, 1017048 no such song, 1017072 song not in this " +
          "vendor's library, 1017030 song revoked. Pure music has one line, 纯音乐，请欣赏.",
        tags: ["vendor"],
        headers: authHeaders,
        querystring: LrcQuery,
        response: { 200: envelopeSchema(LrcData) },
      },
      preHandler: requireSession,
    },
    async (req, reply) => {
      const q = req.query as Static<typeof LrcQuery>;
      if (!q.song_id) throw new VendorError(1017002);
      const vendor = parseVendor(q.vendor_id);
      const facts = sim.catalog.get(q.song_id);
      if (!facts) throw new VendorError(1017048, "lyric fetch failed: no such song");
      if (facts.item.vendor_id !== vendor) throw new VendorError(1017072);
      if (revoked(facts)) throw new VendorError(1017030, "no copyright: the song was revoked");
      return ok(req, reply, buildLrc(facts, compositionOf(facts)));
    },
  );

  app.get(
    "/v1/music/lyrics/krc",
    {
      schema: {
        summary: "getKrcLyricByToken: word-timed lyrics for the krc_token of an accompaniment / clip request",
        description:
          "1017008 token empty, 1017046 illegal (forged, malformed, another app's or user's), 1017047 expired, 1017048 " +
          "the song has no word-timed lyrics, 1017030 song revoked. The KRC covers the whole song, also for clips.",
        tags: ["vendor"],
        headers: authHeaders,
        querystring: KrcQuery,
        response: { 200: envelopeSchema(KrcData) },
      },
      preHandler: requireSession,
    },
    async (req, reply) => {
      const q = req.query as Static<typeof KrcQuery>;
      const claims = sim.resources.krc.verify(q.krc_token, sim.clock.now());
      // Bound to the app and user it was issued to (issue 12: a token of user A read lyrics for user B). The
      // vendor publishes no rule either way; the one code it has for a token this caller may not use is 1017046.
      const caller = req.musicSession!;
      if (claims.app_id !== caller.app_id) {
        throw new VendorError(1017046, "krc_token illegal: issued to another app");
      }
      if (claims.user_id !== caller.user_id) {
        throw new VendorError(1017046, "krc_token illegal: issued to another user");
      }
      const facts = sim.catalog.get(claims.song_id);
      // Unreachable with tokens this simulator issued for a song without words (it issues none), kept for
      // tokens whose song left the catalog.
      if (!facts || !hasWordTimedLyrics(facts)) {
        throw new VendorError(1017048, "lyric fetch failed: the song has no word-timed lyrics");
      }
      if (revoked(facts)) throw new VendorError(1017030, "no copyright: the song was revoked");
      return ok(req, reply, buildKrc(facts, compositionOf(facts)));
    },
  );

  app.get(
    "/v1/music/pitch",
    {
      schema: {
        summary: "getStandardPitch: the melody notes inside a resource's file, times relative to the file",
        description:
          "1017004 resource_id empty; 1017075 a song (original) resource or a song without a pitch line; " +
          "1017049 any other failure (unknown or another user's id, expired resource, revoked song), with the " +
          "cause in the message.",
        tags: ["vendor"],
        headers: authHeaders,
        querystring: PitchQuery,
        response: { 200: envelopeSchema(PitchData) },
      },
      preHandler: requireSession,
    },
    async (req, reply) => {
      const q = req.query as Static<typeof PitchQuery>;
      if (!q.resource_id) throw new VendorError(1017004);
      let rec: ReturnType<typeof sim.resources.use>;
      try {
        rec = sim.resources.use(q.resource_id, req.musicSession!);
      } catch (e) {
        if (!(e instanceof VendorError)) throw e;
        throw new VendorError(1017049, `pitch fetch failed: ${e.message} (${e.code})`);
      }
      if (rec.resource_type === 0)
        throw new VendorError(1017075, "the resource has no pitch line: it is a song");
      const facts = sim.catalog.get(rec.song_id);
      if (!facts) throw new VendorError(1017049, "pitch fetch failed: the song no longer exists");
      if (revoked(facts)) throw new VendorError(1017049, "pitch fetch failed: the song was revoked");
      if (!facts.has_pitch) throw new VendorError(1017075);
      return ok(req, reply, { pitch: pitchLine(compositionOf(facts), rec.span) });
    },
  );
}
