// token04 privilege payloads (spec §8): `{"room_id":"…","privilege":{"1":1,"2":0},"stream_id_list":null}`,
// 1 = log in to the room, 2 = publish; 1 allows, 0 denies. A token with an empty or non-privilege payload
// grants everything (the plain "basic" token). Shared by the HTTP room login and the media server's login.

export type RoomAction = "login" | "publish";

const KEY: Record<RoomAction, string> = { login: "1", publish: "2" };

/** Why the token's payload refuses `action` in `roomId`, or undefined when it allows it. */
export function roomPrivilegeDenial(
  payload: string | undefined,
  roomId: string,
  action: RoomAction,
): string | undefined {
  if (!payload) return undefined;
  let p: unknown;
  try {
    p = JSON.parse(payload);
  } catch {
    return undefined; // verifyToken04 already refused non-JSON payloads; nothing to enforce here
  }
  if (typeof p !== "object" || p === null) return undefined;
  const { room_id, privilege } = p as { room_id?: unknown; privilege?: unknown };
  if (typeof room_id === "string" && room_id !== "" && room_id !== roomId) {
    return `the token is for room ${JSON.stringify(room_id)}, not ${JSON.stringify(roomId)}`;
  }
  if (typeof privilege === "object" && privilege !== null) {
    const v = (privilege as Record<string, unknown>)[KEY[action]];
    if (v === 0) return `the token does not grant ${action} privilege in room ${JSON.stringify(roomId)}`;
  }
  return undefined;
}
