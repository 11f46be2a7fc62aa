import { type Command, InvalidArgumentError, Option } from "commander";
import { messageFor } from "../../protocol/codes.ts";
import { decodeToken04, mintToken04, privilegePayload, Token04Error } from "../../protocol/token04.ts";
import { DEV_APP } from "../options.ts";
import { loadAppsFile } from "./apps-file.ts";
import { roomIdProblem, userIdProblem } from "./ids.ts";

// `ktv token`: mints a token04 for tests and partners, with the same code the reference client uses, so a
// token printed here is exactly what the simulator verifies.

/** zego_server_assistant samples use one hour. */
export const DEFAULT_TTL_SECONDS = 3600;
/** A week covers any soak run; more is most likely milliseconds typed as seconds. */
const MAX_TTL_SECONDS = 7 * 24 * 3600;

function uint(name: string, min: number, max: number) {
  return (v: string): number => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be an integer`);
    const n = Number(v);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be in ${min}..${max}`);
    return n;
  };
}

function idArg(problem: (v: string) => number) {
  return (v: string): string => {
    const code = problem(v);
    if (code) throw new InvalidArgumentError(`${messageFor(code)} (vendor code ${code})`);
    return v;
  };
}

interface TokenOptions {
  appId: number;
  userId: string;
  secret?: string;
  apps?: string;
  ttl: number;
  room?: string;
  publish: boolean;
  json?: boolean;
}

/** Which secret signs the token: --secret, else the app's entry in --apps, else the dev app's. */
function secretFor(o: TokenOptions): string {
  if (o.secret !== undefined) return o.secret;
  if (o.apps !== undefined) {
    const app = loadAppsFile(o.apps).find((a) => a.app_id === o.appId);
    if (!app) throw new Error(`app ${o.appId} is not in ${o.apps}`);
    return app.token_secret;
  }
  if (o.appId === DEV_APP.app_id) return DEV_APP.token_secret;
  // Signing with the dev secret for another app would print a token every server rejects (1002033).
  throw new Error(
    `no secret for app ${o.appId}: pass --secret or --apps (only the dev app ${DEV_APP.app_id} has a default)`,
  );
}

export function registerTokenCommand(program: Command): void {
  program
    .command("token")
    .description(
      "mint a token04 (AES-256-CBC, '04' + base64) for a user of an app; the dev app's secret by default",
    )
    .addOption(
      new Option("--app-id <n>", "uint32 app id")
        .argParser(uint("--app-id", 1, 0xffffffff))
        .default(DEV_APP.app_id, `${DEV_APP.app_id}, the simulator's development app`),
    )
    .requiredOption(
      "--user-id <id>",
      "the user the token is for (< 64 bytes, the SDK's id characters)",
      idArg(userIdProblem),
    )
    .addOption(new Option("--secret <secret>", "the app's 32-character server secret").conflicts("apps"))
    .option("--apps <file>", "take the secret of --app-id from this apps.json")
    .option("--ttl <seconds>", "validity in seconds", uint("--ttl", 1, MAX_TTL_SECONDS), DEFAULT_TTL_SECONDS)
    .option("--room <id>", "add a privilege payload for this room (login allowed)", idArg(roomIdProblem))
    .option("--publish", "with --room: allow publishing (default)")
    .option("--no-publish", "with --room: deny publishing")
    .option("--json", "print {token, app_id, user_id, ctime, expire, payload} instead of the bare token")
    .action(function (this: Command, o: TokenOptions) {
      if (this.getOptionValueSource("publish") === "cli" && o.room === undefined) {
        this.error("error: --publish/--no-publish need --room", { exitCode: 2, code: "ktv.token.usage" });
      }
      const out = this.configureOutput().writeOut ?? ((s: string) => process.stdout.write(s));
      let token: string;
      let secret: string;
      try {
        secret = secretFor(o);
        const payload = o.room === undefined ? "" : privilegePayload(o.room, true, o.publish !== false);
        token = mintToken04({ appId: o.appId, userId: o.userId, secret, effectiveSeconds: o.ttl, payload });
      } catch (e) {
        const code = e instanceof Token04Error ? ` (vendor code ${e.code})` : "";
        return this.error(`error: ${(e as Error).message}${code}`, { exitCode: 2, code: "ktv.token.failed" });
      }
      if (!o.json) return out(`${token}\n`);
      const c = decodeToken04(token, secret);
      out(
        `${JSON.stringify({ token, app_id: c.app_id, user_id: c.user_id, ctime: c.ctime, expire: c.expire, payload: c.payload })}\n`,
      );
    });
}
