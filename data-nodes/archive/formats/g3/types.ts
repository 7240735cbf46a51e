/**
 * Decoded G3 objects. `type` is the C++ class name as stored in the file; `kind` says which shape
 * the value has. Numbers keep their stored width: int64 values are bigint (exact beyond 2^53),
 * arrays are typed arrays, times are 10-ns ticks since the UNIX epoch (G3Units.second = 1e8).
 */
export type IntArray = Int8Array | Int16Array | Int32Array | BigInt64Array;

/** Times (10-ns ticks) that can also be written as seconds (ticks / 1e8, as so3g) into a larger array. */
export interface TimeVector {
  readonly length: number;
  readonly ticks: BigInt64Array;
  seconds(out: Float64Array, at: number): void;
}

/** A value inside a G3Map: a scalar, a vector or an object body, by map class. */
export type G3MapValue = number | bigint | string | Float64Array | Uint8Array | string[] | BigInt64Array | IntArray | G3Object | null;

export type G3Object =
  | { type: string; kind: 'bool'; value: boolean }
  | { type: string; kind: 'int'; value: bigint }
  | { type: string; kind: 'double'; value: number }
  | { type: string; kind: 'string'; value: string }
  | { type: string; kind: 'time'; ticks: bigint }
  /** Decoded on first use of `values`; `copyInto` writes them into a larger array (VectorDouble). */
  | {
      type: string;
      kind: 'vector-double';
      readonly values: Float64Array;
      readonly length: number;
      copyInto(out: Float64Array, outBytes: Uint8Array, at: number): void;
    }
  /** G3VectorComplexDouble: re, im interleaved. */
  | { type: string; kind: 'vector-complex'; values: Float64Array }
  /** G3VectorBool (0/1 bytes) and G3VectorUnsignedChar. */
  | { type: string; kind: 'vector-bytes'; values: Uint8Array }
  | { type: string; kind: 'vector-int'; bits: 8 | 16 | 32 | 64; values: IntArray }
  | { type: string; kind: 'vector-string'; values: string[] }
  | { type: string; kind: 'vector-vector-string'; values: string[][] }
  | ({ type: string; kind: 'vector-time' } & TimeVector)
  | { type: string; kind: 'vector-object'; items: Array<G3Object | null> }
  | { type: string; kind: 'map'; items: Map<string, G3MapValue> }
  | {
      type: string;
      kind: 'timesample-map';
      readonly timeVector: TimeVector;
      fields: Map<string, G3Object | null>;
    }
  | {
      type: string;
      kind: 'timestream';
      units: number;
      start: bigint;
      stop: bigint;
      flac: number;
      /** 0 double, 1 float32, 2 int32, 3 int64 (stored type). */
      dataType: number;
      /** null for a FLAC-compressed timestream that could not be decoded (a warning says why). */
      values: Float64Array | Float32Array | Int32Array | BigInt64Array | null;
      n: number;
    }
  | { type: string; kind: 'irreg-block'; prefix: string; t: Float64Array; data: Map<string, Float64Array> }
  | { type: string; kind: 'intervals'; domain: [number | bigint, number | bigint]; segments: Array<[number | bigint, number | bigint]> }
  /** A class this decoder does not know: skipped by its recorded size. */
  | { type: string; kind: 'unknown' };

export type G3Kind = G3Object['kind'];

/** Frame types are a character code stored as uint32 ('H' = 72, housekeeping). */
export const FRAME_TYPE_NAMES: Record<number, string> = {
  84: 'Timepoint',
  72: 'Housekeeping',
  79: 'Observation',
  83: 'Scan',
  77: 'Map',
  73: 'InstrumentStatus',
  87: 'Wiring',
  67: 'Calibration',
  71: 'GcpSlow',
  80: 'PipelineInfo',
  69: 'Ephemeris',
  76: 'LightCurve',
  82: 'Statistics',
  90: 'EndProcessing',
  78: 'none',
};
