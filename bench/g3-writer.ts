/**
 * A small G3 writer for benchmarks and tests (not used by the archive): SO HK v2 session, status and
 * data frames laid out as spt3g/so3g write them (little-endian cereal portable binary, FORMAT.md),
 * so the decoder can be exercised on files of any size and shape.
 */
import { crc32c } from '../data-nodes/archive/formats/g3/crc32c';

class Out {
  private readonly parts: Buffer[] = [];
  private readonly versioned = new Set<string>();
  private readonly names = new Map<string, number>();
  private nextObject = 1;
  constructor() {
    this.u8(1);
  }
  u8(v: number): this {
    this.parts.push(Buffer.from([v]));
    return this;
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    this.parts.push(b);
    return this;
  }
  i32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    this.parts.push(b);
    return this;
  }
  u64(v: number): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.parts.push(b);
    return this;
  }
  i64(v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(v);
    this.parts.push(b);
    return this;
  }
  f64(v: number): this {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    this.parts.push(b);
    return this;
  }
  raw(b: Buffer): this {
    this.parts.push(b);
    return this;
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.u64(b.length).raw(b);
  }
  version(cls: string, v: number): this {
    if (!this.versioned.has(cls)) {
      this.versioned.add(cls);
      this.u32(v);
    }
    return this;
  }
  /** Polymorphic pointer header, then the class's own and G3FrameObject's versions. */
  pointer(cls: string, v: number): this {
    const id = this.names.get(cls);
    if (id === undefined) {
      const k = this.names.size + 1;
      this.names.set(cls, k);
      this.u32(0x80000000 + k).str(cls);
    } else this.u32(id);
    this.u32(0x80000000 + this.nextObject++);
    return this.version(cls, v).version('G3FrameObject', 1);
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export type HkField =
  | { name: string; kind: 'double'; values: Float64Array }
  | { name: string; kind: 'int'; values: BigInt64Array }
  | { name: string; kind: 'string'; values: string[] }
  | { name: string; kind: 'bool'; values: boolean[] };

export interface HkBlockIn {
  name: string;
  ticks: BigInt64Array;
  fields: HkField[];
}

export const scalar = {
  int: (v: bigint) => new Out().pointer('G3Int', 1).i64(v).done(),
  double: (v: number) => new Out().pointer('G3Double', 1).f64(v).done(),
  string: (v: string) => new Out().pointer('G3String', 1).str(v).done(),
};

function vectorBlob(f: HkField): Buffer {
  const o = new Out();
  if (f.kind === 'double')
    return o
      .pointer('G3VectorDouble', 1)
      .u64(f.values.length)
      .raw(Buffer.from(f.values.buffer, f.values.byteOffset, f.values.byteLength))
      .done();
  if (f.kind === 'int')
    return o
      .pointer('G3VectorInt', 2)
      .i32(64)
      .u64(f.values.length)
      .raw(Buffer.from(f.values.buffer, f.values.byteOffset, f.values.byteLength))
      .done();
  if (f.kind === 'bool')
    return o
      .pointer('G3VectorBool', 1)
      .u64(f.values.length)
      .raw(Buffer.from(f.values.map((b) => (b ? 1 : 0))))
      .done();
  o.pointer('G3VectorString', 1).u64(f.values.length);
  for (const s of f.values) o.str(s);
  return o.done();
}

/** One frame from named blobs. */
export function frame(type: number, entries: Array<[string, Buffer]>): Buffer {
  const head = Buffer.alloc(13);
  head.writeUInt8(1, 0);
  head.writeUInt32LE(1, 1);
  head.writeUInt32LE(entries.length, 5);
  head.writeUInt32LE(type, 9);
  const parts: Buffer[] = [head];
  let crc = 0;
  for (const [k, blob] of entries) {
    const name = Buffer.from(k, 'utf8');
    const l1 = Buffer.alloc(8);
    l1.writeBigUInt64LE(BigInt(name.length));
    const l2 = Buffer.alloc(8);
    l2.writeBigUInt64LE(BigInt(blob.length));
    parts.push(l1, name, l2, blob);
    crc = crc32c(crc32c(crc, name), blob);
  }
  const c = Buffer.alloc(4);
  c.writeUInt32LE(crc);
  parts.push(c);
  return Buffer.concat(parts);
}

const H = 72;

export function sessionFrame(sessionId: bigint, start: number, description = 'HK data'): Buffer {
  return frame(H, [
    ['hkagg_type', scalar.int(0n)],
    ['hkagg_version', scalar.int(2n)],
    ['session_id', scalar.int(sessionId)],
    ['start_time', scalar.double(start)],
    ['description', scalar.string(description)],
  ]);
}

export function statusFrame(sessionId: bigint, timestamp: number, providers: Array<{ id: number; description: string }>): Buffer {
  const o = new Out().pointer('G3VectorFrameObject', 1).u64(providers.length);
  for (const p of providers) {
    o.pointer('G3MapFrameObject', 1).u32(2);
    for (const [k, blob] of [
      ['description', scalar.string(p.description)],
      ['prov_id', scalar.int(BigInt(p.id))],
    ] as const)
      o.str(k).u64(blob.length).raw(blob);
  }
  return frame(H, [
    ['hkagg_type', scalar.int(1n)],
    ['hkagg_version', scalar.int(2n)],
    ['session_id', scalar.int(sessionId)],
    ['timestamp', scalar.double(timestamp)],
    ['providers', o.done()],
  ]);
}

export function dataFrame(sessionId: bigint, provId: number, timestamp: number, blocks: HkBlockIn[], address = ''): Buffer {
  const o = new Out().pointer('G3VectorFrameObject', 1).u64(blocks.length);
  for (const b of blocks) {
    o.pointer('G3TimesampleMap', 0).version('G3MapFrameObject', 1).u32(b.fields.length);
    for (const f of b.fields) {
      const blob = vectorBlob(f);
      o.str(f.name).u64(blob.length).raw(blob);
    }
    o.version('G3VectorTime', 1).u64(b.ticks.length);
    if (b.ticks.length) o.version('G3Time', 1);
    o.raw(Buffer.from(b.ticks.buffer, b.ticks.byteOffset, b.ticks.byteLength));
  }
  const names = new Out().pointer('G3VectorString', 1).u64(blocks.length);
  for (const b of blocks) names.str(b.name);
  return frame(H, [
    ['hkagg_type', scalar.int(2n)],
    ['hkagg_version', scalar.int(2n)],
    ['session_id', scalar.int(sessionId)],
    ['prov_id', scalar.int(BigInt(provId))],
    ['timestamp', scalar.double(timestamp)],
    ['blocks', o.done()],
    ['block_names', names.done()],
    ['address', scalar.string(address)],
  ]);
}
