import { VENDOR_IDS, type VendorId } from "../../protocol/enums.ts";
import { VendorError } from "../errors.ts";

// Typed readers for sendExtendedRequest params. The SDK passes params as a JSON string the vendor parses, so
// a wrong type is a vendor-level "illegal parameter" (1017040, HTTP 200) naming the param, not a 400.

export type Params = Readonly<Record<string, unknown>>;

export const illegal = (name: string, why: string) =>
  new VendorError(1017040, `illegal parameter: ${name} ${why}`);

const isInt = (x: unknown): x is number => typeof x === "number" && Number.isSafeInteger(x);

export function optInt(p: Params, name: string): number | undefined {
  const v = p[name];
  if (v === undefined || v === null) return undefined;
  if (!isInt(v)) throw illegal(name, "must be an integer");
  return v;
}

export function optString(p: Params, name: string): string | undefined {
  const v = p[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw illegal(name, "must be a string");
  return v;
}

export function reqString(p: Params, name: string): string {
  const v = optString(p, name);
  if (v === undefined || v.trim() === "") throw illegal(name, "is required");
  return v;
}

export function optIntList(p: Params, name: string): number[] | undefined {
  const v = p[name];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every(isInt)) throw illegal(name, "must be an array of integers");
  return v;
}

export function reqStringList(p: Params, name: string, max: number): string[] {
  const v = p[name];
  if (v === undefined || v === null) throw illegal(name, "is required");
  if (!Array.isArray(v) || !v.every((s) => typeof s === "string"))
    throw illegal(name, "must be an array of strings");
  if (v.length === 0) throw illegal(name, "must not be empty");
  if (v.length > max) throw illegal(name, `has ${v.length} ids; at most ${max} per call`);
  return v;
}

/** Longest keyword the search commands accept (real keywords are a few words). */
export const MAX_KEYWORD = 100;

export function keywordParam(p: Params): string {
  const v = reqString(p, "keyword");
  if (v.length > MAX_KEYWORD) throw illegal("keyword", `is longer than ${MAX_KEYWORD} characters`);
  return v;
}

/** `page` starts at 1. */
export function page(p: Params, required: boolean): number {
  const v = optInt(p, "page");
  if (v === undefined) {
    if (required) throw illegal("page", "is required");
    return 1;
  }
  if (v < 1) throw illegal("page", "starts at 1");
  return v;
}

/** Filter codes, restricted to the subset this command accepts. */
export function filter(p: Params, allowed: readonly number[]): number[] {
  const v = optIntList(p, "filter") ?? [];
  for (const c of v) {
    if (!allowed.includes(c)) throw illegal("filter", `code ${c} is not one of ${allowed.join(",")}`);
  }
  return v;
}

export function isVendorId(v: number): v is VendorId {
  return (VENDOR_IDS as readonly number[]).includes(v);
}

/** A vendor id value: integer (1017040 otherwise) naming a vendor (1017071 otherwise). */
export function vendorValue(name: string, v: unknown): VendorId {
  if (!isInt(v)) throw illegal(name, "must be an integer");
  if (!isVendorId(v)) throw new VendorError(1017071, `vendor id invalid: ${v}`);
  return v;
}

/** song_id of single-song commands: empty or missing is 1017002. */
export function songIdParam(p: Params): string {
  const v = optString(p, "song_id");
  if (v === undefined || v === "") throw new VendorError(1017002);
  return v;
}
