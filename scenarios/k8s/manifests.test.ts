import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
// `yaml` comes with @fastify/swagger (a dependency) and vite; no YAML parser is added for this test.
import { parseAllDocuments } from "yaml";
import { buildProgram } from "../cli/ktv.ts";
import { checkSegments } from "../merge/segments.ts";

// The Kubernetes manifests of README "Scale past one machine", checked as far as CI can without a cluster or a
// k6: they parse; the k6-operator TestRun uses only fields its CRD defines and passes only __ENV names the
// script reads; the Indexed Job's segment script, run with a stub for `npx` at every index, gives segments
// that cover 0:1 exactly once; and every `ktv` flag the manifests pass exists.

const root = fileURLToPath(new URL("../..", import.meta.url));
// biome-ignore lint/suspicious/noExplicitAny: a manifest is walked field by field, as kubectl would read it
type Y = Record<string, any>;
const docs = (file: string) => {
  const parsed = parseAllDocuments(readFileSync(join(root, "scenarios/k8s", file), "utf8"));
  for (const d of parsed) expect(d.errors, file).toEqual([]);
  return parsed.map((d) => d.toJS()) as Y[];
};
const byKind = (list: Y[], kind: string, name?: string) =>
  list.find((d) => d.kind === kind && (name === undefined || d.metadata?.name === name))!;

// grafana/k6-operator api/v1alpha1/testrun_types.go (commit e2c9571a, v1.6.0+): TestRunSpec's and Pod's JSON fields.
const TESTRUN_SPEC = [
  "script",
  "parallelism",
  "separate",
  "arguments",
  "args",
  "ports",
  "initializer",
  "starter",
  "runner",
  "quiet",
  "paused",
  "scuttle",
  "cleanup",
  "testRunId",
  "token",
];
const POD = [
  "disabled",
  "affinity",
  "automountServiceAccountToken",
  "env",
  "image",
  "imagePullSecrets",
  "imagePullPolicy",
  "metadata",
  "nodeSelector",
  "tolerations",
  "topologySpreadConstraints",
  "resources",
  "serviceAccountName",
  "securityContext",
  "containerSecurityContext",
  "envFrom",
  "readinessProbe",
  "livenessProbe",
  "initContainers",
  "volumes",
  "volumeMounts",
  "priorityClassName",
  "schedulerName",
];

const program = await buildProgram();

/** The long flags of `ktv <name>`. */
function flagsOf(name: string): Set<string> {
  const cmd = (program.commands as Command[]).find((c) => c.name() === name)!;
  return new Set(cmd.options.map((o) => o.long!));
}
const flagsIn = (text: string) => [...text.matchAll(/(?<=\s)--[a-z][a-z0-9-]*/g)].map((m) => m[0]);

describe("scenarios/k8s manifests", () => {
  it("k6-testrun.yaml: a TestRun of the k6-operator's fields, running vendor-api.ts with the __ENV it reads", () => {
    const list = docs("k6-testrun.yaml");
    const tr = byKind(list, "TestRun");
    expect(tr.apiVersion).toBe("k6.io/v1alpha1");
    for (const k of Object.keys(tr.spec)) expect(TESTRUN_SPEC, `spec.${k}`).toContain(k);
    for (const k of Object.keys(tr.spec.runner)) expect(POD, `spec.runner.${k}`).toContain(k);
    expect(tr.spec.parallelism).toBeGreaterThan(1);
    expect(tr.spec.script.configMap.file).toMatch(/\.(tar|js)$/);
    // Every KTV_* the runners get is read by the script (k6 passes the environment to __ENV).
    const script = ["scenarios/k6/vendor-api.ts", "scenarios/k6/lib/vendor.ts"]
      .map((f) => readFileSync(join(root, f), "utf8"))
      .join("\n");
    const env = tr.spec.runner.env as { name: string; value?: string }[];
    const ktvEnv = env.filter((e) => e.name.startsWith("KTV_"));
    expect(ktvEnv.length).toBeGreaterThan(0);
    for (const e of ktvEnv) expect(script, e.name).toContain(`__ENV.${e.name}`);
    // Each runner writes k6's JSON output to the shared volume, named by its pod (a $(VAR) Kubernetes expands).
    const args = tr.spec.args as string[];
    const out = args[args.indexOf("--out") + 1]!;
    expect(out).toMatch(/^json=\/results\/\$\(POD_NAME\)\.json$/);
    expect(env.some((e) => e.name === "POD_NAME")).toBe(true);
    const mount = tr.spec.runner.volumeMounts[0];
    expect(mount.mountPath).toBe("/results");
    const claim = tr.spec.runner.volumes.find((v: Y) => v.name === mount.name).persistentVolumeClaim
      .claimName;
    expect(byKind(list, "PersistentVolumeClaim", claim).spec.accessModes).toContain("ReadWriteMany");
    // The archive command in the file names the script.
    expect(readFileSync(join(root, "scenarios/k8s/k6-testrun.yaml"), "utf8")).toContain(
      "k6 archive scenarios/k6/vendor-api.ts -O vendor-api.tar",
    );
  });

  it("k6-merge-job.yaml: ktv merge of every runner's JSON with the script's thresholds, flags that exist", () => {
    const job = byKind(docs("k6-merge-job.yaml"), "Job");
    const cmd = job.spec.template.spec.containers[0].command.at(-1) as string;
    expect(cmd).toMatch(/npx ktv merge \/results\/\*\.json /);
    const merge = flagsOf("merge");
    for (const f of flagsIn(cmd)) expect(merge, f).toContain(f);
    const script = /--script (\S+)/.exec(cmd)![1]!;
    expect(existsSync(join(root, script)), script).toBe(true);
    expect(job.spec.template.spec.volumes[0].persistentVolumeClaim.claimName).toBe("ktv-results");
  });

  const indexed = () => {
    const list = docs("ktv-indexed-job.yaml");
    const job = byKind(list, "Job", "ktv-segments");
    const c = job.spec.template.spec.containers[0];
    const env = Object.fromEntries(
      (c.env as { name: string; value: string }[]).map((e) => [e.name, e.value]),
    );
    return { list, job, script: c.command.at(-1) as string, env };
  };

  it("ktv-indexed-job.yaml: N pods whose segments, computed from JOB_COMPLETION_INDEX, cover 0:1 exactly once", () => {
    const { job, script, env } = indexed();
    expect(job.spec.completionMode).toBe("Indexed");
    const n = Number(env.SEGMENTS);
    expect(job.spec.completions).toBe(n);
    expect(job.spec.parallelism).toBe(n);
    // The pod's script under sh, with `npx` a stub that prints its arguments one per line.
    const bin = mkdtempSync(join(tmpdir(), "ktv-k8s-"));
    writeFileSync(join(bin, "npx"), '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n');
    chmodSync(join(bin, "npx"), 0o755);
    const runs = Array.from({ length: n }, (_, i) => {
      const argv = execFileSync("sh", ["-c", script], {
        env: { ...env, PATH: `${bin}:${process.env.PATH}`, JOB_COMPLETION_INDEX: String(i) },
        encoding: "utf8",
      })
        .trimEnd()
        .split("\n");
      const arg = (f: string) => argv[argv.indexOf(f) + 1]!;
      expect(argv.slice(0, 3)).toEqual(["ktv", "run", env.KTV_SCENARIO]);
      expect(arg("--out")).toBe(`/results/segment-${i}`);
      return {
        source: `index ${i}`,
        segment: arg("--execution-segment"),
        sequence: arg("--execution-segment-sequence"),
      };
    });
    expect(runs[0]).toMatchObject({ segment: "0/4:1/4", sequence: "0,1/4,2/4,3/4,4/4" });
    expect(checkSegments(runs)).toBe("0:1");
  });

  it("ktv-indexed-job.yaml: the ktv run and ktv merge flags it passes exist, the merge waits for every segment", () => {
    const { list, script, env } = indexed();
    const run = flagsOf("run");
    // --execution-segment(-sequence) come with the segments work (branch s5/segments), checked by the next test.
    for (const f of flagsIn(script).filter((f) => !f.startsWith("--execution-segment")))
      expect(run, f).toContain(f);
    const merge = byKind(list, "Job", "ktv-merge").spec.template.spec;
    const cmd = merge.containers[0].command.at(-1) as string;
    expect(cmd).toContain("npx ktv merge /results/segment-* ");
    for (const f of flagsIn(cmd)) expect(flagsOf("merge"), f).toContain(f);
    const wait = merge.initContainers[0];
    expect(wait.command.at(-1)).toContain("/results/segment-*/summary.json");
    expect(wait.env.find((e: { name: string }) => e.name === "SEGMENTS").value).toBe(env.SEGMENTS);
  });

  it.runIf(flagsOf("run").has("--execution-segment"))(
    "ktv-indexed-job.yaml: ktv run takes --execution-segment and --execution-segment-sequence",
    () => {
      const run = flagsOf("run");
      for (const f of flagsIn(indexed().script).filter((f) => f.startsWith("--execution-segment")))
        expect(run, f).toContain(f);
    },
  );

  it("README 'Scale past one machine': the manifests, the Jobs it waits for and the ktv flags it names exist", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const section = /## Scale past one machine\n([\s\S]*?)\n## /.exec(readme)![1]!;
    const files = [...section.matchAll(/scenarios\/k8s\/[\w.-]+\.yaml/g)].map((m) => m[0]);
    expect(new Set(files)).toEqual(
      new Set([
        "scenarios/k8s/k6-testrun.yaml",
        "scenarios/k8s/k6-merge-job.yaml",
        "scenarios/k8s/ktv-indexed-job.yaml",
      ]),
    );
    const all = files.flatMap((f) => docs(f.slice("scenarios/k8s/".length)));
    for (const m of section.matchAll(/kubectl wait [^\n]*? (job|testrun)\/([\w-]+)/g))
      expect(
        all.some((d) => d.kind.toLowerCase() === m[1] && d.metadata.name === m[2]),
        m[0],
      ).toBe(true);
    const configMap = /kubectl create configmap (\S+) --from-file=(\S+)/.exec(section)!;
    expect(byKind(docs("k6-testrun.yaml"), "TestRun").spec.script.configMap).toEqual({
      name: configMap[1],
      file: configMap[2],
    });
    for (const line of section.split("\n")) {
      const m = /npx ktv (merge|run) (.*)$/.exec(line);
      if (!m || line.includes("<")) continue;
      const known = flagsOf(m[1]!);
      for (const f of flagsIn(` ${m[2]}`).filter(
        (f) => known.has("--execution-segment") || !f.startsWith("--execution-segment"),
      ))
        expect(known, `${line}: ${f}`).toContain(f);
    }
  });
});
