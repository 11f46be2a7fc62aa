import { createRequire } from "node:module";
import { K6ConfigError, UnsupportedApiError } from "./errors.ts";
import { MODULES } from "./modules.ts";

// The script as one CommonJS function body, built once per run with esbuild (tsx's own dependency, loaded as
// run/worker-bundle.ts does): TypeScript stripped, its relative imports inlined, the k6 modules left as
// `require("k6/http")` calls that each VU answers with its own instances (modules.ts). k6's globals become
// reads of the VU's state (`__VU` -> `__k6vu.id`, `__ITER`, `__ENV`, `open`), so one compiled function
// evaluated once per VU gives every VU its own module scope - k6's per-VU state - without a VM per VU.
//
// What k6 could load and this runner cannot (remote modules, npm packages, k6 modules it lacks) fails here,
// before anything runs, naming the import.

export interface Bundled {
  /** Body of `function (require, module, exports, __k6vu)`. */
  code: string;
  /** The k6 modules the script imports. */
  imports: string[];
}

interface EsbuildLike {
  build(options: Record<string, unknown>): Promise<{
    errors: { text: string }[];
    outputFiles?: { text: string }[];
  }>;
}

function loadEsbuild(): EsbuildLike {
  const require = createRequire(import.meta.url);
  return createRequire(require.resolve("tsx"))("esbuild") as EsbuildLike;
}

const KNOWN = new Set<string>(MODULES);

export async function bundleScript(path: string): Promise<Bundled> {
  const esbuild = loadEsbuild();
  const imports = new Set<string>();
  const refused: Error[] = [];
  let result: Awaited<ReturnType<EsbuildLike["build"]>>;
  try {
    result = await esbuild.build({
      entryPoints: [path],
      bundle: true,
      write: false,
      format: "cjs",
      platform: "neutral",
      target: "es2022",
      logLevel: "silent",
      define: { __VU: "__k6vu.id", __ITER: "__k6vu.iter", __ENV: "__k6vu.env", open: "__k6vu.open" },
      plugins: [
        {
          name: "k6-modules",
          setup(build: { onResolve(o: { filter: RegExp }, f: (a: { path: string }) => unknown): void }) {
            build.onResolve({ filter: /^k6(\/|$)/ }, (a) => {
              if (!KNOWN.has(a.path)) {
                refused.push(
                  new UnsupportedApiError(`the module "${a.path}"`, `the runner has ${MODULES.join(", ")}`),
                );
                return { path: a.path, external: true };
              }
              imports.add(a.path);
              return { path: a.path, external: true };
            });
            build.onResolve({ filter: /^https?:\/\// }, (a) => {
              refused.push(
                new UnsupportedApiError(`a remote module (${a.path})`, "vendor it next to the script"),
              );
              return { path: a.path, external: true };
            });
            build.onResolve({ filter: /^[^./]/ }, (a) => {
              refused.push(
                new UnsupportedApiError(
                  `the import "${a.path}"`,
                  "k6 scripts import k6 modules and relative files only",
                ),
              );
              return { path: a.path, external: true };
            });
          },
        },
      ],
    });
  } catch (e) {
    const errors = (e as { errors?: { text: string; location?: { file: string; line: number } }[] }).errors;
    if (errors?.length) {
      throw new K6ConfigError(
        `cannot build ${path}:\n  ${errors.map((x) => `${x.location ? `${x.location.file}:${x.location.line}: ` : ""}${x.text}`).join("\n  ")}`,
      );
    }
    throw e;
  }
  if (refused.length > 0) throw refused[0]!;
  const code = result.outputFiles?.[0]?.text;
  if (code === undefined) throw new K6ConfigError(`cannot build ${path}: esbuild gave no output`);
  return { code: `"use strict";\n${code}`, imports: [...imports] };
}

export type ScriptFactory = (
  require: (name: string) => unknown,
  module: { exports: Record<string, unknown> },
  exports: Record<string, unknown>,
  k6vu: unknown,
) => void;

/** The bundled body as a function, compiled once and called once per VU. */
export function compileScript(b: Bundled, filename: string): ScriptFactory {
  // sourceURL: stack traces name the script.
  return new Function(
    "require",
    "module",
    "exports",
    "__k6vu",
    `${b.code}\n//# sourceURL=${filename}`,
  ) as ScriptFactory;
}
