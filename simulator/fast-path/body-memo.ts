// What the fast path (extended.ts) concluded from a request body's text, kept for the next request with the
// same text. A client asks for the same page with the same bytes again and again (a chart's page 1, a search
// it repeats), and what follows from the text alone is a pure function of it: the JSON, the route's body
// validator, the command's param checks and the page key (dispatch.ts pageCall). Doing that again (JSON.parse
// alone ~1.1-1.3 µs for an 80-byte body, plus the checks and the key's concatenations) was the largest part of
// the fast path's own work per request. Everything that depends on the request rather than its body (headers,
// authentication, session, the app's vendors, the catalog's version, the page cache) still runs per request.
//
// Bounded by entries and by the length of a text kept (longer bodies are simply not kept): at most
// MEMO_ENTRIES x MEMO_TEXT_CHARS characters whatever callers send; when full it starts over (a key set larger
// than the memo costs the parse it would have cost anyway, never memory).

export const MEMO_ENTRIES = 256;
export const MEMO_TEXT_CHARS = 1024;

export class BodyMemo<T> {
  private readonly map = new Map<string, T>();
  hits = 0;

  constructor(
    private readonly entries = MEMO_ENTRIES,
    private readonly textChars = MEMO_TEXT_CHARS,
  ) {}

  get(text: string): T | undefined {
    const v = this.map.get(text);
    if (v !== undefined) this.hits++;
    return v;
  }

  /** Keeps `value` for `text` unless the text is too long to keep. */
  set(text: string, value: T): void {
    if (text.length > this.textChars) return;
    if (this.map.size >= this.entries) this.map.clear();
    this.map.set(text, value);
  }

  get size(): number {
    return this.map.size;
  }
}
