/**
 * What the WebAssembly modules this project emits at load (no toolchain, no native code) are written
 * with: LEB128 integers, sections, names. (formats/g3/crc32c-wasm.ts, sdk/tiers/run-stats-wasm.ts.)
 */

/** Unsigned LEB128. */
export const uleb = (n: number): number[] => {
  const o: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    o.push(b);
  } while (n);
  return o;
};

/** Signed LEB128. */
export const sleb = (n: number): number[] => {
  const o: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) {
      o.push(b);
      return o;
    }
    o.push(b | 0x80);
  }
};

/** A module section: its id, its size, its bytes. */
export const section = (id: number, b: number[]): number[] => [id, ...uleb(b.length), ...b];

/** A name (an export's): its length, its bytes (ASCII). */
export const wasmName = (s: string): number[] => [s.length, ...Array.from(s, (ch) => ch.charCodeAt(0))];

/** WebAssembly's page: a Memory's size is a whole number of them. */
export const WASM_PAGE = 65536;

/** The module's magic and version. */
export const WASM_HEADER: readonly number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/**
 * The WebAssembly API where this runtime has it (node --jitless has none). The lib settings of this
 * project (ES2022, node) do not declare WebAssembly: the little used here.
 */
export interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: object };
  Memory: new (d: { initial: number }) => { buffer: ArrayBuffer };
}
export const wasmApi = (): WasmApi | undefined => (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

/** A function body being written: its instructions, with the ones every module here uses. */
export class WasmBody {
  readonly c: number[] = [];
  op(...b: number[]): this {
    this.c.push(...b);
    return this;
  }
  /** local.get */
  get(i: number): this {
    return this.op(0x20, ...uleb(i));
  }
  /** local.set */
  set(i: number): this {
    return this.op(0x21, ...uleb(i));
  }
  /** local.tee */
  tee(i: number): this {
    return this.op(0x22, ...uleb(i));
  }
  /** i32.const */
  i32(n: number): this {
    return this.op(0x41, ...sleb(n));
  }
  /** A SIMD instruction (prefix 0xfd) and its immediates. */
  simd(sub: number, ...imm: number[]): this {
    return this.op(0xfd, ...uleb(sub), ...imm);
  }
  /** `block loop <exit test> br_if 1 <body> br 0 end end`: the exit test leaves a condition that ends the loop. */
  loop(exitTest: () => void, body: () => void): this {
    this.op(0x02, 0x40, 0x03, 0x40);
    exitTest();
    this.op(0x0d, 1);
    body();
    return this.op(0x0c, 0, 0x0b, 0x0b);
  }
}
