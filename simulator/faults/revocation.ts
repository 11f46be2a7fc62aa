import { type Static, Type } from "@sinclair/typebox";
import { defineKind, type Issue } from "./kind.ts";

// revocation: the vendor withdraws copyright from songs while the fault is active (from `from`, or from when
// the profile is applied, until `until` or until the fault is removed). The songs are the selector's: listed
// `song_ids`, a stable `song_fraction` of the catalog, a `vendor_id`, or a combination (all must match).
// Revoked songs vanish from lists and search, requestResource answers 1017030, cached ids read as having no
// rights (/song/infos), downloads of their resources are refused and cut in flight. With `listen_only: true`
// only the accompaniment rights go: the song stays listed and playable as the original, accompaniment, clip and
// segment requests answer 1017031 and their downloads are cut. Removing the fault restores the songs.
//
// A revocation is a state of the catalog, not a per-request roll: it has no probability or count limits.

const schema = Type.Object({
  listen_only: Type.Optional(
    Type.Boolean({ description: "true: withdraw only the accompaniment rights (1017031), not the original" }),
  ),
});
type RevocationFault = Static<typeof schema> & {
  probability?: number;
  first?: number;
  every?: number;
  max?: number;
  count_scope?: string;
  selector?: Record<string, unknown>;
};

const SONG_FIELDS = ["song_ids", "song_fraction", "vendor_id"];
const PER_REQUEST = ["first", "every", "max", "count_scope"] as const;

function check(f: RevocationFault): Issue[] {
  const issues: Issue[] = [];
  const sel = f.selector ?? {};
  if (!SONG_FIELDS.some((k) => sel[k] !== undefined)) {
    issues.push({
      path: "selector",
      message: "a revocation needs selector.song_ids, selector.song_fraction or selector.vendor_id",
    });
  }
  for (const k of Object.keys(sel)) {
    if (!SONG_FIELDS.includes(k)) {
      issues.push({
        path: `selector.${k}`,
        message: "a revocation applies to songs for every caller: only song_ids, song_fraction, vendor_id",
      });
    }
  }
  if (f.probability !== undefined && f.probability !== 1) {
    issues.push({
      path: "probability",
      message: "a revocation is not rolled per request: pick songs with selector.song_fraction",
    });
  }
  for (const k of PER_REQUEST) {
    if (f[k] !== undefined) {
      issues.push({ path: k, message: "a revocation is a state, not a per-request effect: no count limits" });
    }
  }
  return issues;
}

export default defineKind<RevocationFault>({
  kind: "revocation",
  summary:
    "copyright withdrawn from the selector's songs while active: unlisted, 1017030 (1017031 with `listen_only`), downloads cut",
  schema,
  check,
  phases: () => ["catalog"],
  revokes: (f) => (f.listen_only === true ? "listen_only" : "all"),
});
