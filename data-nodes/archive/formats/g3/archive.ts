/**
 * One cereal portable-binary archive being read: its byte order, the classes already versioned in it
 * (cereal writes a class's version word only on its first use in an archive), the polymorphic class
 * names and object ids seen so far, and a nesting depth bound.
 */
import { ByteReader, utf8 } from './bytes';
import { G3BoundsError, type G3Warn } from './errors';
import type { G3Object } from './types';

export const MAX_DEPTH = 32;
/** Longest class name accepted (C++ type names such as G3VectorComplexDouble are short). */
export const MAX_CLASS_NAME = 256;
const NEW = 0x80000000;
const SAME_AS_STATIC = 0x40000000;

export type BodyReader = (ar: Archive, className: string) => G3Object;

/** Thrown by a body reader for a class it does not know (the caller skips by size if it can). */
export class UnknownClassError extends Error {
  constructor(readonly className: string) {
    super(`unknown G3 class ${JSON.stringify(className.slice(0, 100))}`);
    this.name = 'UnknownClassError';
  }
}

export class Archive {
  /**
   * Class versions read so far. Most archives (one per value of a G3MapFrameObject) version one or two
   * classes: kept in two slots, a Map only beyond them (no Map per nested archive).
   */
  private v1Name: string | null = null;
  private v1 = 0;
  private v2Name: string | null = null;
  private v2 = 0;
  private versions: Map<string, number> | null = null;
  /** Class names and objects by id (ids count from 1; a hostile id makes a sparse array, not a big one). */
  private readonly names: string[] = [];
  private readonly objects: Array<G3Object | null> = [];
  private level = 0;
  readonly r: ByteReader;

  constructor(
    buf: Uint8Array,
    start: number,
    end: number,
    readonly body: BodyReader,
    readonly warn: G3Warn,
    readonly depth = 0,
  ) {
    if (depth > MAX_DEPTH) throw new G3BoundsError('bounds', `objects nested deeper than ${MAX_DEPTH} levels`);
    this.r = new ByteReader(buf, start, end);
    this.r.endianFlag();
  }

  /**
   * The class version: read from the archive on the class's first use here, else the one read then.
   */
  version(className: string): number {
    if (className === this.v1Name) return this.v1;
    if (className === this.v2Name) return this.v2;
    const v = this.versions?.get(className);
    if (v !== undefined) return v;
    const r = this.r;
    if (r.remaining < 4) throw new G3BoundsError('truncated', `${className} class version needs 4 bytes, only ${r.remaining} left`);
    const read = r.u32();
    if (read > 1000) throw new G3BoundsError('corrupt', `${className} class version ${read} is implausible`);
    if (this.v1Name === null) {
      this.v1Name = className;
      this.v1 = read;
    } else if (this.v2Name === null) {
      this.v2Name = className;
      this.v2 = read;
    } else (this.versions ??= new Map()).set(className, read);
    return read;
  }

  /** Every G3 object's base class: a version word on first use, no payload. */
  frameObjectBase(): void {
    this.version('G3FrameObject');
  }

  /** A polymorphic shared pointer (§2.2): null, or an object of the named class. */
  pointer(staticName?: string): G3Object | null {
    const id = this.r.u32('polymorphic id');
    if (id === 0) return null;
    let name: string;
    if (id & NEW) {
      const len = this.r.size(1, 'class name');
      if (len > MAX_CLASS_NAME) throw new G3BoundsError('corrupt', `class name of ${len} bytes (more than ${MAX_CLASS_NAME})`);
      name = utf8(this.r.bytes(len, 'class name'));
      this.names[(id & ~NEW) >>> 0] = name;
    } else if (id === SAME_AS_STATIC) {
      if (!staticName) throw new G3BoundsError('corrupt', 'polymorphic pointer without a class name where no static type is known');
      name = staticName;
    } else {
      const known = this.names[id];
      if (known === undefined) throw new G3BoundsError('corrupt', `polymorphic class id ${id} was never named in this archive`);
      name = known;
    }
    const pid = this.r.u32('pointer id');
    if (!(pid & NEW)) {
      const seen = this.objects[pid];
      if (seen === undefined) throw new G3BoundsError('corrupt', `reference to object ${pid} never read in this archive`);
      return seen;
    }
    if (this.depth + ++this.level > MAX_DEPTH) throw new G3BoundsError('bounds', `objects nested deeper than ${MAX_DEPTH} levels`);
    let obj: G3Object;
    try {
      obj = this.body(this, name);
    } finally {
      this.level--;
    }
    this.objects[(pid & ~NEW) >>> 0] = obj;
    return obj;
  }

  /** A nested archive of `n` bytes starting here (G3MapFrameObject values): fresh tables. */
  nested(n: number): Archive {
    const start = this.r.pos;
    this.r.need(n, 'nested archive');
    this.r.pos += n;
    return new Archive(this.r.buf, start, start + n, this.body, this.warn, this.depth + 1);
  }

  /** Reads the one pointer an archive holds, requiring the archive to be consumed exactly. */
  single(staticName?: string): G3Object | null {
    let obj: G3Object | null;
    try {
      obj = this.pointer(staticName);
    } catch (e) {
      if (!(e instanceof UnknownClassError)) throw e;
      // The archive's size is known: skip the unknown object, never crash on it.
      this.warn(`skipped an object of unknown class ${JSON.stringify(e.className.slice(0, 100))}`);
      this.r.pos = this.r.end;
      return { type: e.className, kind: 'unknown' };
    }
    if (this.r.remaining !== 0)
      throw new G3BoundsError('corrupt', `${this.r.remaining} byte(s) left over after the ${obj?.type ?? 'null'} object`);
    return obj;
  }
}
