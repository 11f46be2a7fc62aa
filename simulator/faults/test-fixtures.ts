// Integration rig for the fault tests: the real simulator on a loopback port; its own fault engine applies every
// decision to real vendor routes through the global fault hook, and its own admin routes control it.
import type { FastifyInstance } from "fastify";
import { testSimulator } from "../../test/sim.ts";
import type { Simulator } from "../app.ts";
import type { SimOptions } from "../options.ts";
import type { FaultEngine } from "./engine.ts";

export interface FaultRig {
  sim: Simulator;
  engine: FaultEngine;
  /** Base URL serving /admin/faults*. */
  adminUrl: string;
  /** The app serving the admin routes, for inject() with a foreign remote address. */
  adminApp: FastifyInstance;
  close(): Promise<void>;
}

export async function faultRig(o: Partial<SimOptions> = {}): Promise<FaultRig> {
  const sim = await testSimulator(o);
  return { sim, engine: sim.ctx.faults, adminUrl: sim.url, adminApp: sim.app, close: () => sim.close() };
}
