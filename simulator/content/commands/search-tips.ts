import type { ExtendedCommand } from "../command.ts";
import { keywordParam } from "../params.ts";

export const searchTips: ExtendedCommand = {
  name: "/search/tips",
  vendors: [0, 1, 2],
  run: ({ sim, vendor, params }) => ({ tips: sim.catalog.tips(keywordParam(params), vendor) }),
};
