import { type Quality, type ResourceType, VENDOR_IDS, type VendorId } from "../../protocol/enums.ts";
import { VendorError } from "../errors.ts";

// Which vendor offers which resource type and quality (spec §2, "Vendors" and "Quality").

const TYPE_VENDORS: Record<ResourceType, readonly VendorId[]> = {
  0: [0, 1, 2, 4],
  1: [0, 1, 2, 4],
  2: [0, 1],
  3: [0, 1, 2],
};

const QUALITY_VENDORS: Record<ResourceType, Record<Quality, readonly VendorId[]>> = {
  0: { 0: [0, 1, 2, 4], 1: [0, 1, 2], 2: [0, 1] },
  1: { 0: [0, 1, 2, 4], 1: [2], 2: [] },
  2: { 0: [0, 1], 1: [], 2: [] },
  3: { 0: [0, 1, 2], 1: [], 2: [] },
};

export function isVendorId(v: number): v is VendorId {
  return (VENDOR_IDS as readonly number[]).includes(v);
}

/** 1017053 when this vendor does not offer this resource type (long clip 0/1, short segment 0/1/2). */
export function checkTypeSupported(type: ResourceType, vendor: VendorId): void {
  if (!TYPE_VENDORS[type].includes(vendor)) {
    throw new VendorError(1017053, `vendor ${vendor} does not offer resource_type ${type}`);
  }
}

/**
 * A quality no vendor offers for this type (sq accompaniment, hq/sq clips and segments) is an illegal
 * parameter (1017040); one other vendors offer but this one does not (hq song on vendor 4, hq accompaniment
 * outside vendor 2) is a missing vendor function (1017053).
 */
export function checkQuality(type: ResourceType, quality: Quality, vendor: VendorId): void {
  const vendors = QUALITY_VENDORS[type][quality];
  if (vendors.length === 0) {
    throw new VendorError(
      1017040,
      `illegal parameter: quality ${quality} does not exist for resource_type ${type}`,
    );
  }
  if (!vendors.includes(vendor)) {
    throw new VendorError(
      1017053,
      `vendor ${vendor} does not offer quality ${quality} for resource_type ${type}`,
    );
  }
}
