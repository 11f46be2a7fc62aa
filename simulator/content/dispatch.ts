import type { VendorId } from "../../protocol/enums.ts";
import { VendorError } from "../errors.ts";
import type { AppConfig } from "../options.ts";
import { paramsError } from "./check-params.ts";
import type { CommandContext, ExtendedCommand } from "./command.ts";
import { ALL_VENDORS } from "./command.ts";
import { COMMANDS } from "./commands/index.ts";
import type { PageCache } from "./page-cache.ts";
import { illegal, type Params, vendorValue } from "./params.ts";

export interface ExtendedBody {
  command?: string;
  params?: Record<string, unknown> | string | null;
}

/** Params as an object: the SDK sends a JSON string, HTTP clients may send the object itself. */
function parseParams(raw: ExtendedBody["params"]): Params {
  if (raw === undefined || raw === null || raw === "") throw new VendorError(1017001);
  if (typeof raw !== "string") return raw;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw illegal("params", "is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw illegal("params", "must be a JSON object");
  }
  return parsed as Params;
}

/**
 * Checks in the vendor's order: command (1017000 empty, 1017040 unknown), params (1017001 empty), then
 * vendor_id (1017040 type, 1017071 invalid, 1017052 not enabled for the app, 1017053 no such function), then
 * the other params against the command's schema (1017040 naming the param; schemas.ts), then the command.
 */
export function dispatch(
  body: ExtendedBody,
  ctx: Omit<CommandContext, "vendor" | "params">,
): Record<string, unknown> {
  const { command, full } = checked(body, ctx);
  return command.run(full);
}

/**
 * dispatch, with the answer as JSON bytes when it can be: a command that names its page (pageKey) is served
 * from `pages`, built and serialized only on a miss; any other command's answer is the object `dispatch`
 * returns.
 */
export function dispatchRendered(
  body: ExtendedBody,
  ctx: Omit<CommandContext, "vendor" | "params">,
  pages: PageCache,
): Record<string, unknown> | Buffer {
  const { command, full } = checked(body, ctx);
  if (!command.pageKey) return command.run(full);
  return pages.render(full.sim.catalog, pageKeyOf(command, full), () => command.run(full));
}

/** A page command's call once every check that depends on its body alone has passed (pageCall). */
export interface PageCall {
  readonly command: ExtendedCommand;
  readonly vendor: VendorId;
  readonly params: Params;
  /** The page's key in the page cache: what dispatchRendered keys it under. */
  readonly key: string;
}

const pageKeyOf = (command: ExtendedCommand, full: CommandContext) =>
  `${command.name}|${full.vendor}|${command.pageKey!(full)}`;

/**
 * The page `body` asks for, when it names a page command and passes every check dispatch makes that depends on
 * the body alone (as for an app with every vendor enabled); null otherwise (dispatch then answers the error).
 * A pure function of the body (a page key depends on the command, vendor and params only: command.ts), so a
 * caller may keep the answer for the same body text. Serve it only where `appServes` also holds.
 */
export function pageCall(
  body: ExtendedBody,
  ctx: Omit<CommandContext, "vendor" | "params">,
): PageCall | null {
  try {
    const { command, vendor, params } = checkedCall(body, ALL_VENDORS);
    if (!command.pageKey) return null;
    const key = pageKeyOf(command, {
      sim: ctx.sim,
      session: ctx.session,
      app: ctx.app,
      plus: ctx.plus,
      vendor,
      params,
    });
    return { command, vendor, params, key };
  } catch {
    return null;
  }
}

/** The app check pageCall leaves out: the app has the call's vendor enabled (else dispatch answers 1017052). */
export function appServes(call: PageCall, app: AppConfig): boolean {
  return call.command.vendors === "multi" || (app.vendors ?? ALL_VENDORS).includes(call.vendor);
}

/** dispatchRendered's answer for a call pageCall accepted and appServes admits, without checking it again. */
export function renderPage(
  call: PageCall,
  ctx: Omit<CommandContext, "vendor" | "params">,
  pages: PageCache,
): Buffer {
  const catalog = ctx.sim.catalog;
  const hit = pages.lookup(catalog, call.key);
  if (hit !== undefined) return hit;
  const full: CommandContext = {
    sim: ctx.sim,
    session: ctx.session,
    app: ctx.app,
    plus: ctx.plus,
    vendor: call.vendor,
    params: call.params,
  };
  return pages.render(catalog, call.key, () => call.command.run(full));
}

function checked(
  body: ExtendedBody,
  ctx: Omit<CommandContext, "vendor" | "params">,
): { command: ExtendedCommand; full: CommandContext } {
  const { command, vendor, params } = checkedCall(body, ctx.app.vendors ?? ALL_VENDORS);
  // Spelled out, not `{ ...ctx, vendor, params }`: V8 11 (Node 20) takes a slow path for a spread followed by
  // more properties, ~2 µs per object (measured: 2,200 ns vs 1-20 ns for this literal) - the largest single
  // cost of this function on every extended request.
  return {
    command,
    full: { sim: ctx.sim, session: ctx.session, app: ctx.app, plus: ctx.plus, vendor, params },
  };
}

function checkedCall(
  body: ExtendedBody,
  appVendors: readonly number[],
): { command: ExtendedCommand; vendor: VendorId; params: Params } {
  const name = body.command;
  if (name === undefined || name === "") throw new VendorError(1017000);
  const command = COMMANDS.get(name);
  if (!command)
    throw new VendorError(1017040, `illegal parameter: unknown command ${JSON.stringify(name).slice(0, 80)}`);
  const params = parseParams(body.params);
  let vendor = 0 as VendorId;
  if (command.vendors !== "multi") {
    if (params.vendor_id !== undefined && params.vendor_id !== null)
      vendor = vendorValue("vendor_id", params.vendor_id);
    if (!appVendors.includes(vendor)) throw new VendorError(1017052, `vendor ${vendor} not enabled`);
    if (!command.vendors.includes(vendor)) {
      throw new VendorError(1017053, `vendor ${vendor} does not support ${command.name}`);
    }
  }
  const wrong = paramsError(command.name, params);
  if (wrong) throw wrong;
  return { command, vendor, params };
}
