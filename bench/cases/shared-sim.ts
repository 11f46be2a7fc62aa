// The simulator the server races share within one bench run (bench/runner/shared.ts): one process per CPU
// pinning, started by the first case that asks, stopped when the run ends. Each case opens its own session
// and warms the simulator up on its own call before measuring.

import { shared } from "../runner/shared.ts";
import { type Started, startSimulator } from "../server/servers.ts";

export function sharedSimulator(cpus: string | undefined): Promise<Started> {
  return shared(
    `simulator on CPU ${cpus ?? "any"}`,
    () => startSimulator({ cpus }),
    (s) => s.stop(),
  );
}
