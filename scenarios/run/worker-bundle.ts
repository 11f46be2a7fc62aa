import { readFileSync } from "node:fs";
import { createRequire, isBuiltin } from "node:module";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

// The runner's worker threads as one plain JavaScript module, built once per run with esbuild, so that no
// worker compiles TypeScript or runs tsx's loader hooks (about 4% of the workers' CPU in a 1,000-VU profile,
// and most of a worker's start-up). esbuild is tsx's own dependency (tsx cannot run without it): it is loaded
// through tsx's resolution rather than declared twice. Packages stay outside the bundle, imported by the
// absolute file URL esbuild resolves for them (Node's conditions), so the bundle may live in a temporary
// directory. If anything fails, the caller falls back to the tsx entry (worker-boot.mjs).
//
// In the bundle, every module's import.meta.url is rewritten to its source file's URL, so code that finds
// files next to itself still does. A --client module written in TypeScript is still loaded: the worker
// registers tsx for it (WorkerInit.bundled), only then.

const WORKER_SOURCE = fileURLToPath(new URL("./worker.ts", import.meta.url));
const SKIP = Symbol("resolve as esbuild would");

interface EsbuildLike {
  build(options: Record<string, unknown>): Promise<{ errors: unknown[] }>;
}

function loadEsbuild(): EsbuildLike {
  const require = createRequire(import.meta.url);
  const tsx = require.resolve("tsx");
  return createRequire(tsx)("esbuild") as EsbuildLike;
}

/** Writes the bundled worker into `dir` and returns its URL; throws when it cannot be built. */
export async function bundleWorker(dir: string): Promise<URL> {
  const esbuild = loadEsbuild();
  const outfile = join(dir, "ktv-worker.mjs");
  const result = await esbuild.build({
    entryPoints: [WORKER_SOURCE],
    outfile,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    conditions: ["node"],
    sourcemap: "inline",
    banner: { js: "process.setSourceMapsEnabled(true);" },
    logLevel: "silent",
    plugins: [
      {
        name: "ktv-externals",
        setup(build: {
          onResolve(o: { filter: RegExp }, f: (a: ResolveArgs) => Promise<unknown> | unknown): void;
          onLoad(o: { filter: RegExp }, f: (a: { path: string }) => unknown): void;
          resolve(path: string, o: Record<string, unknown>): Promise<{ path: string; errors: unknown[] }>;
        }) {
          // Bare specifiers: node builtins as they are, packages by absolute URL (resolved as esbuild would).
          build.onResolve({ filter: /^[^./]/ }, async (args) => {
            if (args.pluginData === SKIP) return undefined;
            if (args.path.startsWith("node:") || isBuiltin(args.path))
              return { path: args.path, external: true };
            const r = await build.resolve(args.path, {
              kind: args.kind,
              resolveDir: args.resolveDir,
              importer: args.importer,
              pluginData: SKIP,
            });
            if (r.errors.length > 0 || !r.path) return undefined;
            return { path: pathToFileURL(r.path).href, external: true };
          });
          build.onLoad({ filter: /\.[cm]?tsx?$/ }, (args) => {
            const text = readFileSync(args.path, "utf8");
            if (!text.includes("import.meta.url")) return undefined;
            return {
              contents: text.replaceAll("import.meta.url", JSON.stringify(pathToFileURL(args.path).href)),
              loader: "ts",
            };
          });
        },
      },
    ],
  });
  if (result.errors.length > 0) throw new Error(`esbuild: ${JSON.stringify(result.errors[0])}`);
  return pathToFileURL(outfile);
}

interface ResolveArgs {
  path: string;
  kind: string;
  resolveDir: string;
  importer: string;
  pluginData: unknown;
}
