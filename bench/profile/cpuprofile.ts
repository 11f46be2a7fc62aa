import { readFileSync } from "node:fs";
import { basename, relative } from "node:path";

// Reads V8 .cpuprofile files (what `node --cpu-prof` writes, one per thread) into the two tables a profile is
// read for: where the CPU time is spent (self) and what it is spent under (inclusive). Time comes from the
// sample time deltas, not hit counts: V8 samples irregularly under load, and a loaded 2-core machine is where
// these profiles are taken. Inclusive time counts a function once per sample however deep it recurses, so a
// recursive walk never reads as more than 100%.

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

export interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionTime {
  /** `name file:line`, or V8's own bucket: (garbage collector), (idle), (program). */
  key: string;
  ms: number;
  /** Share of the thread's busy time (everything but (idle)). */
  share: number;
}

export interface ProfileSummary {
  file: string;
  /** Sampled wall span of the thread, ms. */
  wallMs: number;
  /** Sampled time not idle, ms. */
  busyMs: number;
  /** Whose code has the most self time (see codeOwner): which thread this was. */
  role: string;
  self: FunctionTime[];
  inclusive: FunctionTime[];
}

export function readCpuProfile(path: string): CpuProfile {
  const p = JSON.parse(readFileSync(path, "utf8")) as Partial<CpuProfile>;
  if (!Array.isArray(p.nodes) || !Array.isArray(p.samples) || !Array.isArray(p.timeDeltas)) {
    throw new Error(`${path}: not a V8 .cpuprofile (needs nodes, samples and timeDeltas)`);
  }
  return p as CpuProfile;
}

/** Turns a frame into a readable key; urls relative to `root` so a table fits a terminal. */
export function frameKey(f: CallFrame, root: string): string {
  if (f.url === "") return f.functionName === "" ? "(anonymous)" : f.functionName;
  const file = f.url.startsWith("file://") ? relative(root, new URL(f.url).pathname) : f.url;
  return `${f.functionName === "" ? "(anonymous)" : f.functionName} ${file}:${f.lineNumber + 1}`;
}

export function summarize(
  profile: CpuProfile,
  opts: { file: string; root: string; top: number },
): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const keyOf = new Map<number, string>();
  for (const n of profile.nodes) keyOf.set(n.id, frameKey(n.callFrame, opts.root));

  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const folderSelf = new Map<string, number>();
  let wallUs = 0;
  let idleUs = 0;
  const seen = new Set<string>();
  for (let i = 0; i < profile.samples.length; i++) {
    // A sample's delta is the time since the previous sample: charge it to this sample's stack.
    const dt = Math.max(0, profile.timeDeltas[i] ?? 0);
    wallUs += dt;
    const leaf = profile.samples[i]!;
    const leafKey = keyOf.get(leaf) ?? "(unknown)";
    if (leafKey === "(idle)") {
      idleUs += dt;
      continue;
    }
    self.set(leafKey, (self.get(leafKey) ?? 0) + dt);
    const folder = codeOwner(byId.get(leaf)?.callFrame.url ?? "", opts.root);
    if (folder !== null) folderSelf.set(folder, (folderSelf.get(folder) ?? 0) + dt);
    seen.clear();
    for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
      const k = keyOf.get(id)!;
      if (k === "(root)" || seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + dt);
    }
  }
  const busyUs = wallUs - idleUs;
  const table = (m: Map<string, number>): FunctionTime[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, opts.top)
      .map(([key, us]) => ({ key, ms: us / 1000, share: busyUs > 0 ? us / busyUs : 0 }));
  const role = [...folderSelf].sort((a, b) => b[1] - a[1])[0]?.[0] ?? "(node internals)";
  return {
    file: opts.file,
    wallMs: wallUs / 1000,
    busyMs: busyUs / 1000,
    role,
    self: table(self),
    inclusive: table(inclusive),
  };
}

/**
 * Which code a frame belongs to, to name the thread: the project's top folder (`simulator` for
 * file:///repo/simulator/media/hub.ts), `node_modules/<package>`, or the file's name outside the project
 * (the runner's workers run a bundle, /tmp/ktv-run-x/ktv-worker.mjs). Null for node's own code.
 */
export function codeOwner(url: string, root: string): string | null {
  if (!url.startsWith("file://")) return null;
  const rel = relative(root, new URL(url).pathname);
  if (rel.startsWith("..")) return basename(rel);
  const parts = rel.split("/");
  if (parts[0] === "node_modules")
    return `node_modules/${parts[1]?.startsWith("@") ? `${parts[1]}/${parts[2]}` : parts[1]}`;
  return parts.length > 1 ? parts[0]! : rel;
}

export function formatSummary(s: ProfileSummary): string {
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)}%`;
  const ms = (x: number) => x.toFixed(0).padStart(8);
  const lines = [
    `${basename(s.file)}  thread: ${s.role}  busy ${s.busyMs.toFixed(0)} ms of ${s.wallMs.toFixed(0)} ms sampled`,
    "  self ms   share  function",
    ...s.self.map((f) => `${ms(f.ms)}  ${pct(f.share)}  ${f.key}`),
    "  incl ms   share  function",
    ...s.inclusive.map((f) => `${ms(f.ms)}  ${pct(f.share)}  ${f.key}`),
  ];
  return lines.join("\n");
}
