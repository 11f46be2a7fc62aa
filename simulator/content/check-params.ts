import type { TObject } from "@sinclair/typebox";
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import { ValueErrorType } from "@sinclair/typebox/errors";
import type { VendorError } from "../errors.ts";
import { illegal, type Params } from "./params.ts";
import { COMMAND_SCHEMAS } from "./schemas.ts";

// The params of a command checked against its schema (schemas.ts), compiled once per command. The first
// violation answers 1017040 naming the param, as the vendor answers a wrong param. A missing required param is
// (or null) is not judged here: the command answers it with the vendor's code for that param (1017002 for
// song_id).

const CHECKS = new Map<string, TypeCheck<TObject>>(
  Object.entries(COMMAND_SCHEMAS).map(([name, s]) => [name, TypeCompiler.Compile(s.params)]),
);

/** The 1017040 error for the first wrong param of `command`, or null when every present param fits. */
export function paramsError(command: string, params: Params): VendorError | null {
  const check = CHECKS.get(command);
  if (!check || check.Check(params)) return null;
  for (const e of check.Errors(params)) {
    if (e.type === ValueErrorType.ObjectRequiredProperty) continue;
    const name = e.path.split("/")[1] || "params";
    // Absent (or null, which the commands read as absent): the command's own rule for a missing param.
    if (params[name] === undefined || params[name] === null) continue;
    return illegal(name, `does not fit its schema: ${e.message.toLowerCase()} (at ${e.path})`);
  }
  return null;
}
