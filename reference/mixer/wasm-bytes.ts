// The byte encodings our hand-assembled WebAssembly modules (simd-kernel.ts, fir-simd.ts) are built from, and
// the host's WebAssembly API they are instantiated with:
// LEB128 integers, names, sections and the SIMD prefix, as the WebAssembly binary format defines them
// (https://webassembly.github.io/spec/core/binary/). Assembled in code rather than shipped as .wasm files so
// that every instruction sits next to the arithmetic that proves it exact.

// The few WebAssembly JS API members the kernels use (the project's TypeScript libs carry no WebAssembly types).
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(pages: number): number;
}
export interface WasmModule {
  readonly __wasmModule?: never;
}
interface WasmApi {
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (m: WasmModule, imports: object) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}
/** The host's WebAssembly, or undefined where it has none. */
export const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** Unsigned LEB128. */
export function leb(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 (i32 constants). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  let v = n | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** A name: its UTF-8 length, then its bytes. */
export const str = (s: string): number[] => [...leb(s.length), ...Buffer.from(s, "utf8")];
/** A section: its id, its length, its body. */
export const section = (id: number, body: number[]): number[] => [id, ...leb(body.length), ...body];
/** A SIMD (0xfd-prefixed) instruction. */
export const simd = (op: number): number[] => [0xfd, ...leb(op)];

/** The module preamble: the magic "\0asm" and version 1. */
export const WASM_HEADER: readonly number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/** The import section of a module whose only import is `env.mem`: a memory of 1 page up to `maxPages`. */
export const importedMemory = (maxPages: number): number[] =>
  section(2, [1, ...str("env"), ...str("mem"), 0x02, 0x03, ...leb(1), ...leb(maxPages)]);
