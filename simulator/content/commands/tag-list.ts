import { ALL_VENDORS, type ExtendedCommand } from "../command.ts";

export const tagList: ExtendedCommand = {
  name: "/tag/list",
  vendors: ALL_VENDORS,
  run: ({ sim, vendor }) => ({ groups: sim.catalog.tagGroups(vendor) }),
};
