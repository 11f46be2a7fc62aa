import type { AppRegistry } from "./auth/apps.ts";
import type { RoomRegistry } from "./auth/rooms.ts";
import type { SessionStore } from "./auth/sessions.ts";
import type { Catalog } from "./catalog/types.ts";
import type { Clock } from "./clock.ts";
import type { FaultEngine } from "./faults/engine.ts";
import type { Ledger } from "./ledger/types.ts";
import type { MediaHub } from "./media/hub.ts";
import type { SimMetrics } from "./ops/metrics.ts";
import type { SimOptions } from "./options.ts";
import type { ResourceStore } from "./resources/types.ts";

/** Everything shared between the simulator's surfaces, decorated on the Fastify instance as `app.sim`. */
export interface SimContext {
  options: SimOptions;
  clock: Clock;
  catalog: Catalog;
  ledger: Ledger;
  resources: ResourceStore;
  apps: AppRegistry;
  sessions: SessionStore;
  rooms: RoomRegistry;
  faults: FaultEngine;
  metrics: SimMetrics;
  /** The media server, once its plugin is registered: admin reset closes its sockets. */
  media?: Pick<MediaHub, "reset">;
}

declare module "fastify" {
  interface FastifyInstance {
    sim: SimContext;
  }
}
