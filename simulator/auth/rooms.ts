// Which users are logged in to which rooms, per app. Both the HTTP room login (`/v1/room/login`) and the media
// server's WebSocket login write here; requestResource (room_id -> 1017054) and getSharedResource read it.
export interface RoomRegistry {
  join(appId: number, roomId: string, userId: string): void;
  leave(appId: number, roomId: string, userId: string): void;
  isMember(appId: number, roomId: string, userId: string): boolean;
  members(appId: number, roomId: string): string[];
  reset(): void;
}

export function createRoomRegistry(): RoomRegistry {
  const rooms = new Map<string, Set<string>>();
  const k = (appId: number, roomId: string) => `${appId}\u0000${roomId}`;
  return {
    join(appId, roomId, userId) {
      const key = k(appId, roomId);
      const m = rooms.get(key);
      if (m) m.add(userId);
      else rooms.set(key, new Set([userId]));
    },
    leave(appId, roomId, userId) {
      const key = k(appId, roomId);
      const m = rooms.get(key);
      if (!m) return;
      m.delete(userId);
      if (m.size === 0) rooms.delete(key);
    },
    isMember: (appId, roomId, userId) => rooms.get(k(appId, roomId))?.has(userId) ?? false,
    members: (appId, roomId) => [...(rooms.get(k(appId, roomId)) ?? [])],
    reset: () => rooms.clear(),
  };
}
