import { VendorError } from "../errors.ts";
import { DEFAULT_LIMITS, type Limits } from "../limits.ts";

// Which users are logged in to which rooms, per app. Both the HTTP room login (`/v1/room/login`) and the media
// server's WebSocket login write here; requestResource (room_id -> 1017054) and getSharedResource read it.
// A room exists while it has a member. Logins past the caps are refused (limits.ts says why and what they bound).
export interface RoomRegistry {
  /**
   * Makes `userId` a member of the room (idempotent). Throws VendorError, changing nothing, when it would exceed
   * a cap: 1002001 the user's rooms, 1002035 the app's rooms or room logins.
   */
  join(appId: number, roomId: string, userId: string): void;
  leave(appId: number, roomId: string, userId: string): void;
  isMember(appId: number, roomId: string, userId: string): boolean;
  members(appId: number, roomId: string): string[];
  /** How many members the room has (0: no such room), without listing them. */
  memberCount(appId: number, roomId: string): number;
  reset(): void;
  /** Logins refused by the caps (since start). */
  readonly refused: number;
}

type RoomLimits = Pick<Limits, "roomsPerUser" | "roomsPerApp" | "roomMembersPerApp">;

export function createRoomRegistry(limits: RoomLimits = DEFAULT_LIMITS): RoomRegistry {
  const rooms = new Map<string, Set<string>>();
  // app + user -> rooms that user is in; app -> rooms and room logins it holds. Counts, not lists: a leave
  // names its room, so nothing needs finding.
  const userRooms = new Map<string, number>();
  const appCounts = new Map<number, { rooms: number; members: number }>();
  const k = (appId: number, id: string) => `${appId}\u0000${id}`;
  let refused = 0;

  function admit(appId: number, roomId: string, userId: string, roomExists: boolean): void {
    const held = userRooms.get(k(appId, userId)) ?? 0;
    if (held >= limits.roomsPerUser) {
      // 1002001 is the SDK's answer to one room too many for the login mode: the closest the vendor has.
      throw new VendorError(
        1002001,
        `user ${JSON.stringify(userId)} is already in ${held} rooms, the most one user may be in (roomsPerUser): log out of one first`,
      );
    }
    const app = appCounts.get(appId);
    if (!app) return;
    // 1002035: the vendor's own per-app room count limit (its test environment allows 10 rooms).
    if (!roomExists && app.rooms >= limits.roomsPerApp) {
      throw new VendorError(
        1002035,
        `app ${appId} has ${app.rooms} rooms, its limit (roomsPerApp): room ${JSON.stringify(roomId)} cannot be opened`,
      );
    }
    if (app.members >= limits.roomMembersPerApp) {
      throw new VendorError(
        1002035,
        `app ${appId} holds ${app.members} room logins, its limit (roomMembersPerApp): log users out first`,
      );
    }
  }

  return {
    join(appId, roomId, userId) {
      const key = k(appId, roomId);
      const m = rooms.get(key);
      if (m?.has(userId)) return;
      try {
        admit(appId, roomId, userId, m !== undefined);
      } catch (e) {
        refused++;
        throw e;
      }
      if (m) m.add(userId);
      else rooms.set(key, new Set([userId]));
      const uk = k(appId, userId);
      userRooms.set(uk, (userRooms.get(uk) ?? 0) + 1);
      const app = appCounts.get(appId);
      if (app) {
        app.members++;
        if (!m) app.rooms++;
      } else appCounts.set(appId, { rooms: 1, members: 1 });
    },
    leave(appId, roomId, userId) {
      const key = k(appId, roomId);
      const m = rooms.get(key);
      if (!m?.delete(userId)) return;
      const uk = k(appId, userId);
      const held = (userRooms.get(uk) ?? 1) - 1;
      if (held > 0) userRooms.set(uk, held);
      else userRooms.delete(uk);
      const app = appCounts.get(appId)!;
      app.members--;
      if (m.size === 0) {
        rooms.delete(key);
        app.rooms--;
      }
      if (app.members === 0) appCounts.delete(appId);
    },
    isMember: (appId, roomId, userId) => rooms.get(k(appId, roomId))?.has(userId) ?? false,
    members: (appId, roomId) => [...(rooms.get(k(appId, roomId)) ?? [])],
    memberCount: (appId, roomId) => rooms.get(k(appId, roomId))?.size ?? 0,
    reset: () => {
      rooms.clear();
      userRooms.clear();
      appCounts.clear();
    },
    get refused() {
      return refused;
    },
  };
}
