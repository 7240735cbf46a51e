/**
 * Every vector in shared/vectors/g3 (written by spt3g/so3g, with the answers their own readers
 * give) read back exactly: every frame (offset, length, type, keys, every object's class and value)
 * and, for HK files, every provider, block and field sample (ticks and values), per file and for the
 * session rotated over two files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  decompressSync,
  frameObjects,
  HkReader,
  readFrames,
  type FrameReadOptions,
  type HkProvider,
} from '../../data-nodes/archive/formats/g3';
import { big, num, toJson, type Json } from '../helpers/g3-json';
import { G3_VECTORS, haveG3Vectors } from '../helpers/vectors';

const DIR = G3_VECTORS;
const have = haveG3Vectors();
const files = have
  ? fs
      .readdirSync(DIR)
      .filter((f) => /\.g3(\.gz|\.bz2)?$/.test(f))
      .sort()
  : [];

type J = { [k: string]: Json };
const load = (f: string) => JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8')) as J;

function readAll(names: string[], warnings: string[]) {
  const hk = new HkReader((m) => warnings.push(m));
  const frames: J[] = [];
  for (const name of names) {
    const { data, compression } = decompressSync(fs.readFileSync(path.join(DIR, name)), name);
    const o: FrameReadOptions = { file: name, warn: (m) => warnings.push(m) };
    for (const f of readFrames(data, o).frames) {
      const objects: J = {};
      for (const [k, v] of [...frameObjects(f, o)].sort(([a], [b]) => (a < b ? -1 : 1))) objects[k] = toJson(v);
      const info = hk.add(f, o);
      frames.push({
        index: f.index,
        byte_offset: compression === 'none' ? f.offset : null,
        byte_length: compression === 'none' ? f.length : null,
        type: f.type,
        type_code: f.typeCode,
        keys: Object.keys(objects),
        objects,
        ...(info ? { hk: info as unknown as Json } : {}),
      });
    }
  }
  return { frames, hk };
}

/** so3g's providers summary from ours. */
function providersJson(ps: HkProvider[]): Json {
  return ps.map((p) => {
    const blocks: J = {};
    for (const b of p.blocks.values()) {
      const ticks = b.chunks.flatMap((c) => Array.from(c.time.ticks));
      blocks[b.name] = {
        fields: Object.fromEntries([...b.fields].sort(([x], [y]) => (x < y ? -1 : 1))),
        n_frames: b.chunks.length,
        n_samples: b.nSamples,
        t_first_ticks: String(ticks.reduce((a, t) => (t < a ? t : a))),
        t_last_ticks: String(ticks.reduce((a, t) => (t > a ? t : a))),
      };
    }
    return { prov_id: p.provId, description: p.description, n_data_frames: p.nDataFrames, blocks };
  });
}

/** Every field's samples: full name → {g3_type, count, all: {t_ticks, values}}. */
function fieldsJson(ps: HkProvider[]): J {
  const out: { [k: string]: { g3_type: string; t: bigint[]; v: Json[] } } = {};
  for (const p of ps) {
    for (const b of p.blocks.values()) {
      for (const c of b.chunks) {
        for (const [k, col] of c.columns) {
          const e = (out[`${p.description}.${k}`] ??= { g3_type: col.g3Type, t: [], v: [] });
          e.t.push(...c.time.ticks);
          const vals = col.values;
          if (Array.isArray(vals)) e.v.push(...vals);
          else if (vals instanceof BigInt64Array) e.v.push(...Array.from(vals, big));
          else if (vals instanceof Float64Array) e.v.push(...Array.from(vals, num));
          else if (col.g3Type === 'G3VectorBool') e.v.push(...Array.from(vals as Uint8Array, (x) => x !== 0));
          else e.v.push(...Array.from(vals as ArrayLike<number>));
        }
      }
    }
  }
  const res: J = {};
  for (const [k, e] of Object.entries(out))
    res[k] = { g3_type: e.g3_type, count: e.t.length, all: { t_ticks: e.t.map(String), values: e.v } };
  return res;
}

function expectedFields(hk: J): J {
  const res: J = {};
  for (const [k, f] of Object.entries(hk.fields as J)) {
    const x = f as J;
    res[k] = { g3_type: x.g3_type as Json, count: x.count as Json, all: x.all as Json };
  }
  return res;
}

(have ? describe : describe.skip)('G3 vectors read back exactly', () => {
  for (const name of files) {
    test(name, () => {
      const exp = load(`${name}.expected.json`);
      const warnings: string[] = [];
      const { frames, hk } = readAll([name], warnings);
      expect(frames.length).toBe(exp.n_frames);
      const expFrames = exp.frames as J[];
      frames.forEach((f, i) => {
        const e = expFrames[i] as J;
        expect(f).toEqual(e);
      });
      expect(warnings).toEqual([]);
      // Compressed copies: so3g cannot index them; their HK answer is the uncompressed file's.
      const expHk = (exp.hk_same_as ? load(exp.hk_same_as as string).hk : exp.hk) as J | undefined;
      if (expHk) {
        expect(providersJson(hk.providers)).toEqual(expHk.providers);
        expect(fieldsJson(hk.providers)).toEqual(expectedFields(expHk));
      }
    });
  }

  test('hk_rotated_00000 + hk_rotated_00001: one session over two files', () => {
    const exp = load('hk_rotated.combined.expected.json');
    const { hk } = readAll(['hk_rotated_00000.g3', 'hk_rotated_00001.g3'], []);
    const expHk = exp.hk as J;
    expect(providersJson(hk.providers)).toEqual(expHk.providers);
    expect(fieldsJson(hk.providers)).toEqual(expectedFields(expHk));
  });
});
