/**
 * The archive index's packed own tier rows (sdk/tiers/table.ts `packedRows`) through `writeBatch`, on
 * SQLite and MariaDB, with files written straight as batches (no decode): fields of one file whose
 * finest rollup rungs differ, files wide enough that their packed rows are split and that 100 of them
 * exceed MariaDB's default max_allowed_packet in one INSERT, a damaged packed row (its file removed;
 * then a scan with rebuildSummaries over it). After each step every rollup chunk equals the brute-force
 * merge of the live files' buckets (for the rebuild: the rollups of a fresh index of the same files).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { openIndexDb, Scanner, type IndexDb } from '../../data-nodes/archive';
import type { FieldRow, FileRow, WriteBatch } from '../../data-nodes/archive/index-db/types';
import {
  buildTiers,
  chunkOf,
  chunkRows,
  PACKED_ROW_BYTES,
  ROLLUP_SOURCE,
  ROLLUP_WIDTHS,
  unpackRow,
  type FieldTiers,
} from '../../data-nodes/sdk/tiers';
import { expectRollup, rawIndex, suiteBackends, perTestHooks, suiteTmpDir, type Backend } from './archive-backends';

let tmp: string;
suiteTmpDir('sisock-packed-', (d) => (tmp = d));

const backends = suiteBackends('archive packed-tier tests', () => tmp);

/** A field of a synthetic file: samples every `spacing` s over [t0, t0 + span), tiers at `widths`. */
interface FieldSpec {
  name: string;
  spacing: number;
  widths: number[];
}
interface FileSpec {
  key: string;
  t0: number;
  span: number;
  fields: FieldSpec[];
  seed: number;
  /** No sample in [t0 + gap[0], t0 + gap[1]) (inside the span: the first and last samples stay). */
  gap?: [number, number];
}

const val = (t: number, seed: number) => Math.round(((Math.sin(t * 12.9898 + seed) * 43758.5453) % 1) * 8000) / 8;
const times = (f: FileSpec, s: FieldSpec) =>
  Float64Array.from({ length: Math.floor(f.span / s.spacing) }, (_, i) => f.t0 + i * s.spacing).filter(
    (t) => !f.gap || t < f.t0 + f.gap[0] || t >= f.t0 + f.gap[1],
  );
/** A field's tiers in a file, built once per file key, seed, start and field. */
const built = new Map<string, Map<number, Float64Array>>();
const tiersOf = (f: FileSpec): FieldTiers =>
  new Map(
    f.fields.map((s) => {
      const k = `${f.key} ${f.seed} ${f.t0} ${f.span} ${f.gap?.join('-') ?? ''} ${s.name}`;
      let byWidth = built.get(k);
      if (!byWidth) {
        const t = times(f, s);
        built.set(
          k,
          (byWidth = buildTiers(
            t,
            t.map((x) => val(x, f.seed + s.name.length)),
            s.widths,
          )),
        );
      }
      return [s.name, byWidth];
    }),
  );

function batchOf(files: FileSpec[], fresh: boolean, deleteKeys: string[] = []): WriteBatch {
  return {
    files: files.map((f) => {
      const file: FileRow = {
        key: f.key,
        path: `${f.key}.g3`,
        size: 1,
        mtime: 1,
        hash: null,
        format: 'g3',
        status: 'ok',
        error: null,
        tFirst: f.t0,
        tLast: f.t0 + f.span - 1,
        nSamples: 1,
        badRows: 0,
        recheck: false,
        scannedAt: 1,
      };
      const fields: FieldRow[] = f.fields.map((s) => ({
        key: f.key,
        field: s.name,
        timeline: 'tl',
        type: 'number',
        units: null,
        description: null,
        interval: s.spacing,
        tFirst: f.t0,
        tLast: f.t0 + f.span - s.spacing,
        n: times(f, s).length,
        tierMin: Math.min(...s.widths),
      }));
      return { file, fields, tiers: tiersOf(f), fresh };
    }),
    touched: [],
    deleteKeys,
  };
}

/** Every rollup chunk of every rung and field equals the brute-force merge of the live files' buckets. */
async function checkRollups(db: IndexDb, live: Map<string, FileSpec>): Promise<number> {
  const names = new Set([...live.values()].flatMap((f) => f.fields.map((s) => s.name)));
  let seen = 0;
  for (const field of names)
    for (const width of ROLLUP_WIDTHS)
      seen += await expectRollup(
        db,
        field,
        width,
        [...live.values()].flatMap((f) => tiersOf(f).get(field)?.get(width) ?? []),
      );
  return seen;
}

const HOUR = 3600;
const T0 = 1_767_225_600;

describe.each(backends)('archive packed tier rows over $name', (backend: Backend) => {
  let dir = '';
  const open = perTestHooks(
    backend,
    () => tmp,
    (d) => (dir = d),
  );

  const raw = async (url: string) => {
    const r = await rawIndex(backend, url);
    open.push(r);
    return r;
  };

  test('fields of one file with different finest rungs; removals and rewrites keep every rollup exact', async () => {
    const db = openIndexDb(backend.fresh());
    open.push(db);
    await db.migrate();
    const mixed = (key: string, t0: number, seed: number): FileSpec => ({
      key,
      t0,
      span: 2 * 86400,
      seed,
      fields: [
        { name: 'x', spacing: 1, widths: [600, 3600, 21600, 86400] },
        { name: 'y', spacing: 10, widths: [3600, 21600, 86400] },
        { name: 'z', spacing: 300, widths: [86400] },
      ],
    });
    const live = new Map<string, FileSpec>();
    // a, b and c cross the 600-s chunk boundary at 512 * 600 s; b overlaps a
    const start = Math.floor(T0 / 307200) * 307200 + 307200 - 86400;
    for (const f of [mixed('a', start, 1), mixed('b', start + 3 * HOUR, 2), mixed('c', start + 86400 * 3, 3)]) live.set(f.key, f);
    await db.writeBatch(batchOf([...live.values()], true));
    expect(await checkRollups(db, live)).toBeGreaterThan(10);
    // a removed, b rewritten with other values
    live.delete('a');
    const b2 = { ...mixed('b', start + 5 * HOUR, 9) };
    live.set('b', b2);
    await db.writeBatch(batchOf([b2], false, ['a']));
    expect(await checkRollups(db, live)).toBeGreaterThan(10);
    live.clear();
    await db.writeBatch(batchOf([], false, ['b', 'c']));
    expect(await checkRollups(db, live)).toBe(0);
  });

  /** A fresh index, migrated, and a raw view of its tier table. */
  const migrated = async () => {
    const url = backend.fresh();
    const db = openIndexDb(url);
    open.push(db);
    await db.migrate();
    return { db, r: await raw(url) };
  };

  /** The fields each file keeps own rows of at 600 s (packed rows, or one per field as older versions wrote), by file key. */
  const ownAt600 = async (r: Awaited<ReturnType<typeof raw>>): Promise<Map<string, string[]>> => {
    const out = new Map<string, Set<string>>();
    for (const row of await r.all(`SELECT source, field, width, data FROM ${r.table} WHERE (width = ? OR width = ?) AND source <> ?`, [
      -600,
      600,
      ROLLUP_SOURCE,
    ])) {
      const set = out.get(String(row.source)) ?? new Set<string>();
      if (Number(row.width) < 0) for (const e of unpackRow(row.data)) set.add(e.field);
      else set.add(String(row.field));
      out.set(String(row.source), set);
    }
    return new Map([...out].map(([k, v]) => [k, [...v].sort()]));
  };

  test("a file keeps own rows at 600 s only once another file's span meets its own; its buckets then come from the rollup", async () => {
    const { db, r } = await migrated();
    const fields = [
      { name: 'x', spacing: 1, widths: [600, 3600, 21600, 86400] },
      { name: 'y', spacing: 10, widths: [3600, 21600, 86400] },
    ];
    const live = new Map<string, FileSpec>();
    const add = (f: FileSpec) => (live.set(f.key, f), f);
    // hour files, none reaching another: no own rows at 600 s (y's finest rung is 3600 s: own rows there, as before)
    const hours = [0, 1, 2, 3].map((h) => add({ key: `h${h}`, t0: T0 + h * HOUR, span: HOUR, seed: h, fields }));
    await db.writeBatch(batchOf(hours, true));
    expect(await checkRollups(db, live)).toBeGreaterThan(4);
    expect(await ownAt600(r)).toEqual(new Map());
    expect((await r.all(`SELECT DISTINCT source FROM ${r.table} WHERE width = ?`, [-3600])).length).toBe(4);
    // a file over the end of h1 and the start of h2: both get their own rows of x (from the rollup), and it too
    await db.writeBatch(batchOf([add({ key: 'mid', t0: T0 + 2 * HOUR - 900, span: 1800, seed: 9, fields })], true));
    expect(await checkRollups(db, live)).toBeGreaterThan(4);
    expect(await ownAt600(r)).toEqual(
      new Map([
        ['h1', ['x']],
        ['h2', ['x']],
        ['mid', ['x']],
      ]),
    );
    // a file whose span holds a gap, and one with samples only in that gap: their spans meet, so both keep own rows
    const gapped = add({ key: 'gapped', t0: T0 + 10 * HOUR, span: 10 * HOUR, seed: 4, fields, gap: [HOUR, 9 * HOUR] });
    await db.writeBatch(batchOf([gapped], true));
    expect((await ownAt600(r)).has('gapped')).toBe(false);
    await db.writeBatch(batchOf([add({ key: 'inside', t0: T0 + 14 * HOUR, span: HOUR, seed: 5, fields })], true));
    expect(await checkRollups(db, live)).toBeGreaterThan(4);
    expect((await ownAt600(r)).get('gapped')).toEqual(['x']);
    expect((await ownAt600(r)).get('inside')).toEqual(['x']);
    // removals: a file with no own rows (h0), one with them (mid), the gapped one; a rewrite of h3 over h2
    for (const k of ['h0', 'mid', 'gapped']) live.delete(k);
    const h3 = add({ key: 'h3', t0: T0 + 2 * HOUR + 1200, span: HOUR, seed: 33, fields });
    await db.writeBatch(batchOf([h3], false, ['h0', 'mid', 'gapped']));
    expect(await checkRollups(db, live)).toBeGreaterThan(4);
    expect((await ownAt600(r)).get('h3')).toEqual(['x']);
    // then every file removed: no rollup left, and no own row
    const keys = [...live.keys()];
    live.clear();
    await db.writeBatch(batchOf([], false, keys));
    expect(await checkRollups(db, live)).toBe(0);
    expect(Number((await r.all(`SELECT COUNT(*) AS n FROM ${r.table}`))[0]?.n)).toBe(0);
  });

  test.each([1, 2])(
    'random adds, rewrites, removals, older-version rows and rebuilds of overlapping, gapped and separate files (seed %d): every rollup stays exact',
    async (seed) => {
      const { db, r } = await migrated();
      let state = seed * 7919 + 1;
      const rnd = (n: number): number => {
        state = (state * 1103515245 + 12345) % 2 ** 31;
        return Math.floor((state / 2 ** 31) * n);
      };
      // x with tiers from 600 s or only from 3600 s (a file each), w from 60 s, y from 3600 s
      const X600 = { name: 'x', spacing: 60, widths: [600, 3600, 21600, 86400] };
      const fieldsOf = (): FieldSpec[] => {
        const k = rnd(4);
        const out = k < 2 ? [X600] : k === 2 ? [{ name: 'x', spacing: 60, widths: [3600, 21600, 86400] }] : [];
        if (rnd(2)) out.push({ name: 'w', spacing: 30, widths: [60, 600, 3600, 21600, 86400] });
        if (rnd(3) === 0) out.push({ name: 'y', spacing: 60, widths: [3600, 21600, 86400] });
        return out.length ? out : [X600];
      };
      // around a 600-s chunk boundary (512 x 600 s), so that files cross it
      const edge = Math.ceil(T0 / 307200) * 307200;
      const spec = (key: string): FileSpec => {
        const span = [600, 1800, HOUR, 2 * HOUR, 6 * HOUR, 30 * HOUR][rnd(6)] ?? HOUR;
        return {
          key,
          t0: edge - 20 * HOUR + rnd(120) * 300 + (rnd(4) === 0 ? 60 : 0),
          span,
          seed: rnd(1000),
          fields: fieldsOf(),
          ...(rnd(3) === 0 ? { gap: [Math.floor(span / 3 / 60) * 60, Math.floor((2 * span) / 3 / 60) * 60] as [number, number] } : {}),
        };
      };
      const live = new Map<string, FileSpec>();
      let next = 0;
      let sole = 0;
      for (let step = 0; step < 40; step++) {
        const kind = rnd(20);
        if (kind === 0 && live.size) {
          // a rebuild: every tier cleared, every live file written again, in a few batches
          await db.clearTiers();
          const all = [...live.values()];
          const per = 1 + rnd(all.length);
          for (let i = 0; i < all.length; i += per) await db.writeBatch(batchOf(all.slice(i, i + per), false));
        } else if (kind === 1 && live.size) {
          // a file's rows as an older version wrote them: every rollup width, one row per field
          const f = live.get([...live.keys()][rnd(live.size)] ?? '') as FileSpec;
          await r.run(`DELETE FROM ${r.table} WHERE source = ? AND (width < 0 OR width >= 600)`, [f.key]);
          const rows: unknown[][] = [];
          for (const [name, byWidth] of tiersOf(f))
            for (const [w, p] of byWidth) if (ROLLUP_WIDTHS.includes(w)) rows.push(...chunkRows(f.key, name, w, p));
          await r.insert(rows);
        } else {
          const adds: FileSpec[] = [];
          const rewrites: FileSpec[] = [];
          const removed: string[] = [];
          for (let k = 1 + rnd(4); k > 0; k--) {
            const keys = [...live.keys()].filter((x) => !removed.includes(x) && !rewrites.some((f) => f.key === x));
            const op = keys.length < 4 ? 0 : rnd(3);
            if (op === 0) adds.push(spec(`f${next++}`));
            else if (op === 1) rewrites.push(spec(keys[rnd(keys.length)] ?? ''));
            else removed.push(keys[rnd(keys.length)] ?? '');
          }
          for (const k of removed) live.delete(k);
          for (const f of [...adds, ...rewrites]) live.set(f.key, f);
          await db.writeBatch({
            files: [...batchOf(adds, true).files, ...batchOf(rewrites, false).files],
            touched: [],
            deleteKeys: removed,
          });
        }
        await checkRollups(db, live);
        // a live file whose span of a field with tiers from 600 s meets another's keeps own rows of it there
        const own = await ownAt600(r);
        for (const name of ['x', 'w']) {
          const spans = [...live.values()].flatMap((f) => {
            const s = f.fields.find((q) => q.name === name && q.widths.includes(600));
            return s ? [{ key: f.key, a: Math.floor(f.t0 / 600), b: Math.floor((f.t0 + f.span - s.spacing) / 600) }] : [];
          });
          for (const x of spans) {
            const meets = spans.some((y) => y.key !== x.key && y.a <= x.b && x.a <= y.b);
            if (meets)
              expect({ step, name, file: x.key, own: own.get(x.key)?.includes(name) }).toEqual({ step, name, file: x.key, own: true });
            else if (!own.get(x.key)?.includes(name)) sole++;
          }
        }
      }
      expect(sole).toBeGreaterThan(0); // some file had none
    },
  );

  test('a field whose tiers reach past its stated first and last times: the field row is made to cover them', async () => {
    // (no format gives one: their times ascend) X states an hour, but has one more sample 10 h later; Y,
    // alone, is over that sample's bucket: when X goes, its bucket there must go with it
    const { db } = await migrated();
    const x: FileSpec = {
      key: 'X',
      t0: T0,
      span: 11 * HOUR,
      seed: 1,
      fields: [{ name: 'x', spacing: 60, widths: [600, 3600, 21600, 86400] }],
      gap: [HOUR, 10 * HOUR + 60],
    };
    const y: FileSpec = { key: 'Y', t0: T0 + 10 * HOUR + 60, span: 1200, seed: 2, fields: x.fields };
    const bx = batchOf([x], true);
    const row = bx.files[0]?.fields[0] as FieldRow;
    row.tLast = T0 + HOUR - 60; // the samples after the gap not stated
    await db.writeBatch(bx);
    expect(row.tLast).toBe(T0 + 11 * HOUR - 60); // made to cover the tiers' samples
    await db.writeBatch(batchOf([y], true));
    await db.writeBatch(batchOf([], false, ['X']));
    expect(await checkRollups(db, new Map([['Y', y]]))).toBeGreaterThan(0);
  });

  test('a file with a sample years early (its span over every other file) added over many alone, then removed', async () => {
    const { db } = await migrated();
    const fields = [{ name: 'x', spacing: 60, widths: [600, 3600, 21600, 86400] }];
    const live = new Map<string, FileSpec>();
    for (let h = 0; h < 30; h++) live.set(`h${h}`, { key: `h${h}`, t0: T0 + h * HOUR, span: HOUR, seed: h, fields });
    await db.writeBatch(batchOf([...live.values()], true));
    // a sample every 7.1 days (1024 buckets of 600 s) for 7.8 years, the last one inside h5
    const S = 600 * 1024;
    const early: FileSpec = {
      key: 'early',
      t0: T0 + 5 * HOUR + 30 - 399 * S,
      span: 400 * S + 1,
      seed: 7,
      fields: [{ ...fields[0]!, spacing: S }],
    };
    live.set('early', early);
    await db.writeBatch(batchOf([early], true));
    expect(await checkRollups(db, live)).toBeGreaterThan(0);
    for (const k of ['h3', 'h10']) live.delete(k);
    await db.writeBatch(batchOf([], false, ['h3', 'h10']));
    expect(await checkRollups(db, live)).toBeGreaterThan(0);
    live.delete('early');
    await db.writeBatch(batchOf([], false, ['early']));
    expect(await checkRollups(db, live)).toBeGreaterThan(0);
  });

  test('wide files: packed rows split by size, and 100 of them written without exceeding max_allowed_packet', async () => {
    const url = backend.fresh();
    const db = openIndexDb(url);
    open.push(db);
    await db.migrate();
    // a sample a minute: the same buckets at 600 s and above as 1 Hz, a 60th of the samples to build them from
    const fields = Array.from({ length: 300 }, (_, i) => ({
      name: `hk.provider_${Math.floor(i / 20)}.field_${i}`,
      spacing: 60,
      widths: [600, 3600, 21600, 86400],
    }));
    const live = new Map<string, FileSpec>();
    // 100 hour files of 300 fields: a packed row of ~130 KB each (more than 16 MiB in hex in one INSERT of 100)
    for (let h = 0; h < 100; h++) live.set(`h${h}`, { key: `h${h}`, t0: T0 + h * HOUR, span: HOUR, seed: h, fields });
    // one file over a whole 600-s chunk (3.5 days): 300 x 36 KiB of buckets, split into rows of 1 MiB; it
    // starts in h99's last half hour, so both keep their own rows (the other hour files have none)
    const long: FileSpec = { key: 'long', t0: T0 + 99 * HOUR + 1800, span: 512 * 600, seed: 7, fields: fields.slice(0, 60) };
    live.set('long', long);
    await db.writeBatch(batchOf([...live.values()], true));
    const r = await raw(url);
    const parts = await r.all(`SELECT idx_lo, LENGTH(data) AS bytes FROM ${r.table} WHERE source = ? AND width < 0 ORDER BY idx_lo`, [
      'long',
    ]);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect(Number(p.bytes)).toBeLessThanOrEqual(PACKED_ROW_BYTES + 64 * 1024);
    expect(new Set(parts.map((p) => chunkOf(Number(p.idx_lo)))).size).toBeLessThanOrEqual(2);
    const owners = await r.all(`SELECT DISTINCT source FROM ${r.table} WHERE width < 0 ORDER BY source`);
    expect(owners.map((o) => String(o.source))).toEqual(['h99', 'long']);
    const some = new Map([...live].filter(([k]) => k === 'long' || k === 'h3' || k === 'h99'));
    const few = new Map([...some].map(([k, f]) => [k, { ...f, fields: f.fields.slice(0, 3) }]));
    // the rollups of three fields, over the files that hold them
    const liveFew = new Map([...live].map(([k, f]) => [k, { ...f, fields: f.fields.slice(0, 3) }]));
    expect(await checkRollups(db, liveFew)).toBeGreaterThan(0);
    // the long file and two hour files removed: their chunks computed again from the others' packed rows
    for (const k of few.keys()) live.delete(k);
    await db.writeBatch(batchOf([], false, [...few.keys()]));
    expect(await checkRollups(db, new Map([...live].map(([k, f]) => [k, { ...f, fields: f.fields.slice(0, 3) }])))).toBeGreaterThan(0);
  });

  test("a damaged packed row: its file can still be removed; a neighbour's rewrite stops with the typed error", async () => {
    const url = backend.fresh();
    const db = openIndexDb(url);
    open.push(db);
    await db.migrate();
    const fields = [
      { name: 'x', spacing: 1, widths: [600, 3600, 21600, 86400] },
      { name: 'y', spacing: 1, widths: [600, 3600, 21600, 86400] },
    ];
    const live = new Map<string, FileSpec>();
    // each file's span reaches into the next one's: every file keeps its own rows at 600 s
    for (let h = 0; h < 4; h++) live.set(`f${h}`, { key: `f${h}`, t0: T0 + h * HOUR, span: HOUR + 1200, seed: h, fields });
    await db.writeBatch(batchOf([...live.values()], true));
    const r = await raw(url);
    expect((await r.all(`SELECT DISTINCT source FROM ${r.table} WHERE width < 0`)).length).toBe(4);
    await r.run(`UPDATE ${r.table} SET data = ? WHERE source = ? AND width < 0`, [Buffer.from([0xff, 0xff, 0xff, 0xff, 0]), 'f1']);
    // its file removed: the chunk's fields are computed again from the other files
    live.delete('f1');
    await db.writeBatch(batchOf([], false, ['f1']));
    expect(await checkRollups(db, live)).toBeGreaterThan(0);
    // another file's row damaged: a rewrite of its neighbour stops with the typed error, and nothing is written
    await r.run(`UPDATE ${r.table} SET data = ? WHERE source = ? AND width < 0`, [Buffer.from([1, 2, 3]), 'f2']);
    const gen = await db.generation();
    await expect(db.writeBatch(batchOf([{ ...(live.get('f0') as FileSpec), seed: 99 }], false))).rejects.toMatchObject({
      code: 'TIER_ROW_DAMAGED',
    });
    expect(await db.generation()).toBe(gen);
  });

  test('a scan with rebuildSummaries repairs an index whose packed rows are damaged, over several transactions', async () => {
    // 150 hour files: two transactions of the rebuild; the damaged file (h105) in the second, files of its
    // 600-s chunk (h027-h111) in the first, whose rollup upkeep would read its row if it were still there
    const data = path.join(dir, 'data');
    mkdirSync(data, { recursive: true });
    for (let h = 0; h < 150; h++) {
      const lines = ['time,x'];
      for (let i = 0; i < HOUR; i += 10) lines.push(`${T0 + h * HOUR + i},${val(T0 + h * HOUR + i, h)}`);
      writeFileSync(path.join(data, `h${String(h).padStart(3, '0')}.csv`), `${lines.join('\n')}\n`);
    }
    const scan = async (db: IndexDb, rebuildSummaries = false) => {
      const scanner = await Scanner.open({ db, dataDir: data, settleSeconds: 0, rebuildSummaries, workers: 0 });
      try {
        return await scanner.scan();
      } finally {
        await scanner.close();
      }
    };
    const url = backend.fresh();
    const db = openIndexDb(url);
    open.push(db);
    expect((await scan(db)).added).toBe(150);
    const r = await raw(url);
    const file = r.table.replace(/tier$/, 'file');
    await r.run(`UPDATE ${r.table} SET data = ? WHERE width < 0 AND source = (SELECT file_key FROM ${file} WHERE path = ?)`, [
      Buffer.from([9, 9, 9]),
      'h105.csv',
    ]);
    const rebuilt = await scan(db, true);
    expect(rebuilt.errors).toBe(0);
    expect(rebuilt.updated).toBe(150);
    // the same rollups as a fresh index of the same files
    const fresh = openIndexDb(backend.fresh());
    open.push(fresh);
    await scan(fresh);
    let chunks = 0;
    for (const width of ROLLUP_WIDTHS) {
      const a = await db.tierBuckets('x', width, -(2 ** 40), 2 ** 40);
      const b = await fresh.tierBuckets('x', width, -(2 ** 40), 2 ** 40);
      expect(a.map((c) => Array.from(c))).toEqual(b.map((c) => Array.from(c)));
      chunks += a.length;
    }
    expect(chunks).toBeGreaterThan(2); // 3600 s and up (a sample every 10 s)
  });
});
