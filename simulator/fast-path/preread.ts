import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import type { preParsingHookHandler } from "fastify";

// A request the fast path (extended.ts) has read the body of and then hands to Fastify (anything unusual: bad
// JSON, a failed check, an error answer) cannot be read again from the socket. Its body is kept on the request
// and replayed to Fastify's body parser by the route's preParsing hook, as the same chunks followed by the same
// end (or the same error, or nothing when the request was cut before its end): Fastify's parser then meets what
// it would have met on the socket, and answers exactly as it would have.

const PREREAD = Symbol("ktv.preread");

export interface Preread {
  chunks: Buffer[];
  /** The request ended normally (all of content-length arrived). */
  ended: boolean;
  /** The request stream's error, when it failed before its end. */
  error?: Error;
}

type WithPreread = IncomingMessage & { [PREREAD]?: Preread };

/** Marks `req` as read by the fast path: Fastify's parser gets `pre` instead of the drained stream. */
export function keepPreread(req: IncomingMessage, pre: Preread): void {
  (req as WithPreread)[PREREAD] = pre;
}

class Replay extends Readable {
  constructor(private pre: Preread | null) {
    super();
  }

  override _read(): void {
    const pre = this.pre;
    if (pre === null) return;
    this.pre = null;
    for (const c of pre.chunks) this.push(c);
    if (pre.error) this.destroy(pre.error);
    else if (pre.ended) this.push(null);
    // Cut before its end and without an error: nothing more ever comes, as on the socket.
  }
}

/** preParsing hook of the route the fast path serves: the kept body when there is one, else the request. */
export const replayPreread: preParsingHookHandler = (req, _reply, payload, done) => {
  const pre = (req.raw as WithPreread)[PREREAD];
  if (pre === undefined) {
    done(null, payload);
    return;
  }
  (req.raw as WithPreread)[PREREAD] = undefined;
  done(null, new Replay(pre));
};
