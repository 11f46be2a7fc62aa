import { nowMicros, parseClientMessage, type ServerMessage } from "../../protocol/media.ts";
import { VendorError } from "../errors.ts";
import type { MediaHub } from "./hub.ts";
import type { Peer } from "./peer.ts";

// A text frame: validate it as a control message, let the hub act, answer with `<type>_ok` (or `pong`,
// `stream_stats`) or `error`, echoing req_id. Nothing a client sends can throw out of here.

function answer(hub: MediaHub, peer: Peer, text: string): ServerMessage {
  const parsed = parseClientMessage(text);
  if (!parsed.ok) {
    const { code, message, op, req_id } = parsed;
    return req_id === undefined
      ? { type: "error", op, code, message }
      : { type: "error", op, code, message, req_id };
  }
  const m = parsed.msg;
  let reply: ServerMessage;
  try {
    switch (m.type) {
      case "login":
        reply = hub.login(peer, m);
        break;
      case "logout":
        reply = hub.logout(peer, m.room_id);
        break;
      case "publish":
        reply = hub.publish(peer, m.stream_id);
        break;
      case "stop_publish":
        reply = hub.stopPublish(peer, m.stream_id);
        break;
      case "play":
        reply = hub.play(peer, m.stream_id);
        break;
      case "stop_play":
        reply = hub.stopPlay(peer, m.stream_id);
        break;
      case "renew_token":
        reply = hub.renewToken(peer, m.token);
        break;
      case "ping":
        reply =
          m.t === undefined
            ? { type: "pong", server_us: nowMicros() }
            : { type: "pong", t: m.t, server_us: nowMicros() };
        break;
      case "get_stream_stats":
        reply = { type: "stream_stats", ...hub.statsFor(peer, m.stream_id) };
        break;
    }
  } catch (e) {
    let code = 1002099;
    let message = "internal error";
    if (e instanceof VendorError) {
      code = e.code;
      message = e.message;
      hub.log.info({ peer: peer.id, op: m.type, code, msg: message }, "media request refused");
    } else {
      hub.log.error({ peer: peer.id, op: m.type, err: e }, "media request failed");
    }
    reply = { type: "error", op: m.type, code, message };
  }
  if (m.req_id !== undefined) (reply as { req_id?: string | number }).req_id = m.req_id;
  return reply;
}

export function onControl(hub: MediaHub, peer: Peer, text: string): void {
  peer.send(answer(hub, peer, text));
}
