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
  /** The last body answered, as bytes, with its text and value: a client repeating its call repeats its bytes,
   * and comparing them (memcmp) skips the UTF-8 decode and the string's hashing (measured in string-headers.ts). */
  private lastBytes: Buffer | null = null;
  private lastText = "";
  private lastValue: T | undefined;
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

  /**
   * The value kept for the text these bytes decode to, when they are the bytes last looked up or kept
   * (rememberBytes); undefined otherwise (then decode them and use get/set).
   */
  getBytes(bytes: Buffer): { text: string; value: T } | undefined {
    const last = this.lastBytes;
    if (last === null || last.length !== bytes.length || !last.equals(bytes)) return undefined;
    // A text dropped since (the memo started over) is not answered from here either.
    const value = this.map.get(this.lastText);
    if (value !== this.lastValue || value === undefined) return undefined;
    this.hits++;
    return { text: this.lastText, value };
  }

  /** Makes `bytes` (which decode to `text`, kept with `value`) the ones getBytes answers; copies them. */
  rememberBytes(bytes: Buffer, text: string, value: T): void {
    if (text.length > this.textChars || this.map.get(text) !== value) return;
    this.lastBytes = Buffer.from(bytes);
    this.lastText = text;
    this.lastValue = value;
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
