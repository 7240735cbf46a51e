/**
 * G3 housekeeping files in the archive, once per index backend (SQLite and MariaDB): the scanner
 * indexes the folder of spt3g/so3g vectors (plain, gzip, bzip2, a session rotated over two files),
 * get_fields and get_data answer with so3g's names and every sample of the expected.json files; a
 * file still being written is indexed up to its last complete frame and picked up on rescan; a
 * corrupt file is recorded with its error while the rest keeps serving.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import pino from 'pino';
import { ArchiveSource, openIndexDb, Scanner, type IndexDb } from '../../data-nodes/archive';
import { dataFrame, sessionFrame, statusFrame } from '../../bench/g3-writer';
import { chooseWidth, ladderFor, outputWidth, reduceSamples } from '../../data-nodes/sdk/tiers';
import { suiteBackends, perTestHooks, suiteTmpDir } from './archive-backends';
import { G3_VECTORS, haveG3Vectors } from '../helpers/vectors';

const VECTORS = G3_VECTORS;
const haveVectors = haveG3Vectors();

let tmp: string;
suiteTmpDir('sisock-g3-', (d) => (tmp = d));

const backends = suiteBackends('G3 archive tests', () => tmp);

type Expected = { hk: { fields: Record<string, { all: { t_ticks: string[]; values: unknown[] } }> } };
const load = (f: string) => JSON.parse(readFileSync(path.join(VECTORS, f), 'utf8')) as Expected;

describe.each(backends)('G3 archive over $name', (backend) => {
  let dir = '';
  const open = perTestHooks(
    backend,
    () => tmp,
    (d) => (dir = d),
  );

  async function setup(): Promise<{ db: IndexDb; s: Scanner; src: ArchiveSource }> {
    const db = openIndexDb(backend.fresh());
    open.push(db);
    const s = await Scanner.open({ db, dataDir: dir, settleSeconds: 0 });
    open.unshift(s);
    return { db, s, src: new ArchiveSource({ db, closeDb: false }) };
  }

  /** `setup` with the scanner's warnings kept as JSON lines. */
  async function setupLogged(): Promise<{ db: IndexDb; s: Scanner; lines: string[] }> {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) });
    const db = openIndexDb(backend.fresh());
    open.push(db);
    const s = await Scanner.open({ db, dataDir: dir, settleSeconds: 0, logger });
    open.unshift(s);
    return { db, s, lines };
  }

  (haveVectors ? test : test.skip)('the vector folder: names and every sample as so3g reads them', async () => {
    for (const f of readdirSync(VECTORS).filter((x) => /\.g3(\.gz|\.bz2)?$/.test(x)))
      copyFileSync(path.join(VECTORS, f), path.join(dir, f));
    mkdirSync(path.join(dir, 'copy'));
    // xz (newer spt3g): decoded through the format's asynchronous path.
    writeFileSync(path.join(dir, 'copy', 'hk_v2_basic.g3'), readFileSync(path.join(VECTORS, 'hk_v2_basic.g3')));
    execFileSync('xz', [path.join(dir, 'copy', 'hk_v2_basic.g3')]);
    writeFileSync(path.join(dir, 'broken.g3'), Buffer.from(readFileSync(path.join(VECTORS, 'hk_v1.g3'))).fill(0x55, 400, 420));
    const { db, s, src } = await setup();
    const r = await s.scan();
    expect(r).toMatchObject({ errors: 1, ignored: 0, deferred: 0 });
    const broken = (await db.listFiles()).find((f) => f.path === 'broken.g3');
    expect(broken?.status).toBe('error');
    expect(broken?.error).toMatch(/G3 file broken\.g3 \(frame 1, at byte 357\): /);
    expect((await db.listFiles()).find((f) => f.path === 'copy/hk_v2_basic.g3.xz')).toMatchObject({
      status: 'ok',
      format: 'g3',
      nSamples: 660,
    });

    // Every HK field of every vector (hk_v1's come from hk_v1.g3 alone, as broken.g3 is refused).
    const expected = new Map<string, { t: number[]; v: unknown[] }>();
    for (const f of ['hk_v0.g3', 'hk_v1.g3', 'hk_v2_basic.g3', 'hk_rotated.combined']) {
      const e = load(`${f}.expected.json`);
      for (const [name, x] of Object.entries(e.hk.fields))
        expected.set(name, { t: x.all.t_ticks.map((t) => Number(BigInt(t)) / 1e8), v: x.all.values });
    }
    const [fields, timelines] = await src.getFields(0, 2e9);
    expect(Object.keys(fields).sort()).toEqual([...expected.keys()].sort());
    expect(fields['observatory.testfridge.feeds.hk.state']).toEqual({
      description: null,
      timeline: 'observatory.testfridge.feeds.hk.block_B',
      type: 'string',
      units: null,
    });
    expect(timelines['observatory.LS240.feeds.temperatures.temps']).toEqual({
      interval: 2,
      field: ['observatory.LS240.feeds.temperatures.Channel_1_T', 'observatory.LS240.feeds.temperatures.Channel_2_T'],
    });
    const names = [...expected.keys()];
    const d = await src.getData(names, 0, 2e9, null);
    for (const name of names) {
      const e = expected.get(name);
      const tl = fields[name]?.timeline ?? '';
      expect({ name, t: d.timeline[tl]?.t, v: d.data[name] }).toEqual({ name, t: e?.t, v: e?.v });
    }
    // A time range inside one rotated file's half, and across the rotation.
    const cross = await src.getData(['observatory.LS240.feeds.temperatures.heater_range'], 1767225890, 1767225910, null);
    expect(cross.timeline['observatory.LS240.feeds.temperatures.heater']?.t).toEqual([1767225891, 1767225896, 1767225901, 1767225906]);
  });

  test('a file still being written: complete frames now, the rest on rescan', async () => {
    const sid = 7n;
    const desc = 'observatory.LSA22YE.feeds.temperatures';
    const ticks = (a: number, k: number) => BigInt64Array.from({ length: k }, (_, i) => (1767225600n + BigInt(a + i)) * 100000000n);
    const frameAt = (a: number) =>
      dataFrame(sid, 0, 1767225600 + a + 60, [
        {
          name: 'b',
          ticks: ticks(a, 60),
          fields: [{ name: 'channel_02_r', kind: 'double', values: Float64Array.from({ length: 60 }, (_, i) => a + i) }],
        },
      ]);
    const file = path.join(dir, 'hk/1767225600.g3');
    mkdirSync(path.dirname(file));
    const third = frameAt(120);
    writeFileSync(
      file,
      Buffer.concat([
        sessionFrame(sid, 1767225600),
        statusFrame(sid, 1767225600, [{ id: 0, description: desc }]),
        frameAt(0),
        frameAt(60),
        third.subarray(0, 500),
      ]),
    );
    const { s, src } = await setup();
    expect(await s.scan()).toMatchObject({ added: 1, errors: 0 });
    const name = `${desc}.channel_02_r`;
    expect((await src.getData([name], 0, 2e9, null)).data[name]).toHaveLength(120);
    appendFileSync(file, Buffer.concat([third.subarray(500), frameAt(180)]));
    expect(await s.scan()).toMatchObject({ updated: 1, errors: 0 });
    const d = await src.getData([name], 0, 2e9, null);
    expect(d.data[name]).toEqual(Array.from({ length: 240 }, (_, i) => i));
    expect(d.timeline[`${desc}.b`]?.t[239]).toBe(1767225600 + 239);
  });

  test('a field named with a trailing space is left out with a warning (MySQL would take it for the other)', async () => {
    const sid = 9n;
    const t0 = 1767225600;
    const file = (rel: string, a: number, fields: Array<[string, number[]]>) =>
      writeFileSync(
        path.join(dir, rel),
        Buffer.concat([
          sessionFrame(sid, t0),
          statusFrame(sid, t0, [{ id: 0, description: 'p' }]),
          dataFrame(sid, 0, t0 + a + 10, [
            {
              name: 'b',
              ticks: BigInt64Array.from({ length: 2 }, (_, i) => BigInt(t0 + a + i) * 100000000n),
              fields: fields.map(([name, v]) => ({ name, kind: 'double' as const, values: Float64Array.from(v) })),
            },
          ]),
        ]),
      );
    // the same rollup chunks: one file each, then one with both
    file('a.g3', 0, [['x', [1, 2]]]);
    file('b.g3', 100, [['x ', [7, 8]]]);
    file('c.g3', 200, [
      ['x', [3, 4]],
      ['x ', [9, 9]],
    ]);
    const { db, s, lines } = await setupLogged();
    expect(await s.scan()).toMatchObject({ added: 3, errors: 0 });
    expect((await db.fieldMeta()).map((m) => m.field)).toEqual(['p.x']);
    const src = new ArchiveSource({ db, closeDb: false });
    expect((await src.getData(['p.x'], 0, 2e9, null)).data['p.x']).toEqual([1, 2, 3, 4]);
    const warned = lines.map((l) => JSON.parse(l) as { file?: string; warnings?: string[] }).filter((l) => l.file !== 'a.g3');
    expect(warned.map((l) => [l.file, l.warnings])).toEqual(
      ['b.g3', 'c.g3'].map((f) => [f, ['field "p.x ": a name the index cannot hold (over 255 characters, or ending in a space); skipped']]),
    );
  });

  test('what a file skipped is logged by the scanner at warn, naming the file and frame', async () => {
    const sid = 5n;
    writeFileSync(
      path.join(dir, 'stray.g3'),
      Buffer.concat([
        sessionFrame(sid, 1767225600),
        statusFrame(sid, 1767225600, [{ id: 0, description: 'observatory.a.feeds.b' }]),
        dataFrame(sid, 3, 1767225610, [
          {
            name: 'b',
            ticks: BigInt64Array.of(1767225600n * 100000000n),
            fields: [{ name: 'x', kind: 'double', values: Float64Array.of(1) }],
          },
        ]),
      ]),
    );
    const { s, lines } = await setupLogged();
    expect(await s.scan()).toMatchObject({ added: 1, errors: 0 });
    const warned = lines
      .map((l) => JSON.parse(l) as { msg: string; file?: string; warnings?: string[] })
      .find((l) => l.file === 'stray.g3');
    expect(warned?.msg).toBe('file decoded with 1 warning(s)');
    expect(warned?.warnings).toEqual(['stray.g3 frame 2: data for prov_id 3, which no status frame announced; skipped']);
  });

  test('summary tiers are built from G3 files: a thinned long range decodes only the edge files and equals brute force', async () => {
    const sid = 11n;
    const desc = 'observatory.tiers.feeds.hk';
    for (let h = 0; h < 6; h++) {
      const t0 = 1767225600 + h * 3600;
      const parts = [sessionFrame(sid, t0), statusFrame(sid, t0, [{ id: 0, description: desc }])];
      for (let a = 0; a < 3600; a += 300) {
        const ticks = BigInt64Array.from({ length: 300 }, (_, i) => BigInt(t0 + a + i) * 100000000n);
        const values = Float64Array.from({ length: 300 }, (_, i) => Math.round(Math.sin((t0 + a + i) / 97) * 1000) / 8);
        parts.push(dataFrame(sid, 0, t0 + a + 300, [{ name: 'b', ticks, fields: [{ name: 'x', kind: 'double', values }] }]));
      }
      writeFileSync(path.join(dir, `${t0}.g3`), Buffer.concat(parts));
    }
    const { db, s } = await setup();
    expect(await s.scan()).toMatchObject({ added: 6, errors: 0 });
    const name = `${desc}.x`;
    const raw = await new ArchiveSource({ db, closeDb: false }).getData([name], 0, 2e9, null);
    const t = raw.timeline[`${desc}.b`]?.t ?? [];
    const v = (raw.data[name] ?? []) as number[];
    expect(t).toHaveLength(6 * 3600);
    const src = new ArchiveSource({ db, closeDb: false });
    const [start, end, stride] = [1767225600 + 1234.5, 1767225600 + 6 * 3600 - 2000, 1200];
    const got = await src.getData([name], start, end, stride);
    expect(src.cache.stats().misses).toBeLessThanOrEqual(2);
    // The tiers the scanner builds for a 1 Hz timeline (the SDK's rule), and the one the answer uses.
    const w = chooseWidth(ladderFor(1), stride, 'minmax');
    expect(w).not.toBeNull();
    const want = reduceSamples(t, v, start, end, outputWidth(w ?? 0, stride, 'minmax') / 2, 'minmax');
    expect(got.timeline[`${desc}.b`]?.t).toEqual(want.t);
    expect(got.data[name]).toEqual(want.v);
  });
});
