import { readFileSync } from "node:fs";
import { extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { ScenarioDefinition } from "./format.ts";

// The scenarios shipped with ktv (scenarios/<name>.ts), and loading a scenario by name or from a file: a
// TypeScript/JavaScript module whose default export is the scenario (defineScenario), or a JSON document.

export const BUILT_IN = [
  "smoke",
  "capacity",
  "expiry-storm",
  "revocation",
  "latency-tail",
  "regression",
  "conformance",
  "rooms-250",
  "token-renewal",
  "vendor-mix",
  "backend",
] as const;

export class ScenarioLoadError extends Error {
  override name = "ScenarioLoadError";
}

export async function loadScenario(nameOrPath: string): Promise<ScenarioDefinition> {
  if ((BUILT_IN as readonly string[]).includes(nameOrPath)) {
    const mod = (await import(`./${nameOrPath}.ts`)) as { default: ScenarioDefinition };
    return mod.default;
  }
  const path = resolve(nameOrPath);
  const ext = extname(path);
  if (![".ts", ".mts", ".js", ".mjs", ".json"].includes(ext)) {
    throw new ScenarioLoadError(
      `"${nameOrPath}" is neither a built-in scenario (${BUILT_IN.join(", ")}) nor a .ts/.js/.json scenario file`,
    );
  }
  try {
    if (ext === ".json") return JSON.parse(readFileSync(path, "utf8")) as ScenarioDefinition;
    const mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
    if (mod.default === undefined)
      throw new ScenarioLoadError(`${path}: no default export (export default defineScenario({...}))`);
    return mod.default as ScenarioDefinition;
  } catch (err) {
    if (err instanceof ScenarioLoadError) throw err;
    throw new ScenarioLoadError(`${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
