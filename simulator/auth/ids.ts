// The SDK's own id limits (1002005-1002013): user and room ids are letters, digits and a fixed set of symbols,
// bounded in bytes. Pure functions returning the vendor code, so routes, the media login and `ktv token`
// agree on what a valid id is.

const ID_CHARS = /^[A-Za-z0-9~!@#$%^&*()_+=\-`;',.<>/\\]+$/;

/** 0 when valid, else 1002005 empty, 1002007 64 bytes or longer, 1002006 illegal characters. */
export function userIdProblem(userId: string): number {
  if (userId === "") return 1002005;
  if (Buffer.byteLength(userId) >= 64) return 1002007;
  if (!ID_CHARS.test(userId)) return 1002006;
  return 0;
}

/** 0 when valid, else 1002008 empty, 1002010 256 bytes or longer, 1002009 control characters. */
export function userNameProblem(userName: string): number {
  if (userName === "") return 1002008;
  if (Buffer.byteLength(userName) >= 256) return 1002010;
  if (/[\u0000-\u001f\u007f]/.test(userName)) return 1002009;
  return 0;
}

/** 0 when valid, else 1002011 empty, 1002013 128 bytes or longer, 1002012 illegal characters. */
export function roomIdProblem(roomId: string): number {
  if (roomId === "") return 1002011;
  if (Buffer.byteLength(roomId) >= 128) return 1002013;
  if (!ID_CHARS.test(roomId)) return 1002012;
  return 0;
}
