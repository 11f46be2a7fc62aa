import { type Command, InvalidArgumentError, Option } from "commander";
import { isServerApiAction, SERVER_API_ACTIONS, type ServerApiParams } from "../../protocol/server-api.ts";
import { ServerApiClient } from "./client.ts";

// `ktv server-api <Action> [--param k=v]...`: one call of the vendor's server-side KTV REST API, signed and
// retried the way the reference client does it, against the simulator (default) or any base URL. Data goes to
// stdout as JSON (--json: the whole envelope plus attempts); a non-zero Code is one line on stderr and exit 1;
// bad arguments exit 2.

/** The simulator's development app and its ServerSecret (the token04 secret; wire-api.md "Auth"). */
export const DEV_APP_ID = 1000000001;
export const DEV_SERVER_SECRET = "0123456789abcdef0123456789abcdef";

interface ServerApiOptions {
  target: string;
  appId: number;
  secret?: string;
  userId: string;
  roomId?: string;
  vendorId?: number;
  param: string[];
  maxAttempts: number;
  json?: boolean;
}

function intIn(name: string, min: number, max: number) {
  return (v: string): number => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be an integer`);
    const n = Number(v);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be in ${min}..${max}`);
    return n;
  };
}

const collect = (v: string, acc: string[]) => [...acc, v];

/** `--param` values as action params: `Name=v` once per scalar, `Name[]=v` repeated for a list. */
export function paramsOf(pairs: readonly string[]): ServerApiParams {
  const out: Record<string, string | string[]> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new InvalidArgumentError(`--param ${JSON.stringify(pair)}: expected Name=value`);
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    if (key.endsWith("[]")) {
      const name = key.slice(0, -2);
      const list = out[name];
      if (typeof list === "string")
        throw new InvalidArgumentError(`--param ${name} is given as a value and a list`);
      out[name] = [...(list ?? []), value];
    } else {
      if (out[key] !== undefined) {
        throw new InvalidArgumentError(
          `--param ${key} is given twice (a list is ${key}[]=a --param ${key}[]=b)`,
        );
      }
      out[key] = value;
    }
  }
  return out;
}

export function registerServerApiCommand(program: Command): void {
  program
    .command("server-api")
    .description(
      "call the server-side KTV REST API once (GET /?Action=...), signed with the app's ServerSecret; Data on stdout",
    )
    .argument("<action>", `one of ${SERVER_API_ACTIONS.join(", ")}`)
    .option("--target <url>", "the API's base URL", "http://127.0.0.1:7400")
    .option(
      "--param <k=v>",
      "an action param, repeatable; lists as Name[]=v (e.g. --param SongsId[]=1)",
      collect,
      [],
    )
    .option("--app-id <n>", "app id (default: the dev app)", intIn("--app-id", 1, 0xffffffff), DEV_APP_ID)
    .addOption(
      new Option("--secret <secret>", "the app's 32-character ServerSecret (default: the dev app's)"),
    )
    .option("--user-id <id>", "UserId common param", "ktv-cli")
    .option("--room-id <id>", "RoomId common param")
    .option("--vendor-id <n>", "VendorId common param (0, 1, 2, 4)", intIn("--vendor-id", 0, 4))
    .option("--max-attempts <n>", "attempts in all, retries included", intIn("--max-attempts", 1, 10), 4)
    .option("--json", "print {envelope, attempts, status} instead of Data")
    .action(async function (this: Command, action: string, o: ServerApiOptions) {
      const fail = (msg: string) =>
        this.error(`error: ${msg}`, { exitCode: 2, code: "ktv.server-api.usage" });
      if (!isServerApiAction(action))
        return fail(`unknown action ${action}: one of ${SERVER_API_ACTIONS.join(", ")}`);
      if (o.secret === undefined && o.appId !== DEV_APP_ID) {
        return fail(`app ${o.appId} needs --secret (only the dev app ${DEV_APP_ID} has a default)`);
      }
      const out = this.configureOutput().writeOut ?? ((s: string) => process.stdout.write(s));
      const err = this.configureOutput().writeErr ?? ((s: string) => process.stderr.write(s));
      let client: ServerApiClient;
      let params: ServerApiParams;
      try {
        params = paramsOf(o.param);
        client = new ServerApiClient({
          baseUrl: o.target,
          appId: o.appId,
          serverSecret: o.secret ?? DEV_SERVER_SECRET,
          userId: o.userId,
          ...(o.roomId !== undefined ? { roomId: o.roomId } : {}),
          ...(o.vendorId !== undefined ? { vendorId: o.vendorId } : {}),
          maxAttempts: o.maxAttempts,
        });
      } catch (e) {
        return fail((e as Error).message);
      }
      const r = await client.attempt(action, params);
      const e = r.envelope;
      if (o.json) out(`${JSON.stringify({ envelope: e, attempts: r.attempts, status: r.status })}\n`);
      else if (e?.Code === 0) out(`${JSON.stringify(e.Data, null, 2)}\n`);
      if (e?.Code === 0) return;
      const why = e
        ? `${e.Code} ${e.Message} (RequestId ${e.RequestId})`
        : `no answer from ${o.target}: ${r.transportError ?? `HTTP ${r.status}`}`;
      err(`ktv server-api: ${action}: ${why}${r.attempts > 1 ? ` after ${r.attempts} attempts` : ""}\n`);
      this.error("", { exitCode: 1, code: "ktv.server-api.failed" });
    });
}
