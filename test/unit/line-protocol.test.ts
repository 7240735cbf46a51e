import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatPoint, LineBuffer, Namer, DEFAULT_NAMING, PointError, redactUrl, Target } from '../../historian/export';
import type { FieldKind } from '../../historian/export';

describe('line protocol', () => {
  it('escapes measurement, tags, field keys and strings as InfluxDB documents', () => {
    const line = formatPoint(
      {
        measurement: 'my meas,x',
        tags: { 'tag key': 'a=b,c d', empty: '' },
        fields: { 'f,1=': { kind: 'string', value: 'say "hi" \\ bye' } },
        t: 1.5,
      },
      'ms',
    );
    expect(line).toBe(String.raw`my\ meas\,x,tag\ key=a\=b\,c\ d f\,1\=="say \"hi\" \\ bye" 1500`);
  });

  it('writes the four field types', () => {
    const p = (kind: FieldKind, value: number | string | boolean) =>
      formatPoint({ measurement: 'm', tags: {}, fields: { f: { kind, value } as never }, t: 2 }, 's');
    expect(p('float', 1.25)).toBe('m f=1.25 2');
    expect(p('float', 1e300)).toBe('m f=1e+300 2');
    expect(p('integer', -12)).toBe('m f=-12i 2');
    expect(p('string', 'x')).toBe('m f="x" 2');
    expect(p('bool', false)).toBe('m f=false 2');
  });

  it.each([
    [{ measurement: '', tags: {}, fields: { f: { kind: 'float', value: 1 } } }, /measurement is empty/],
    [{ measurement: '_m', tags: {}, fields: { f: { kind: 'float', value: 1 } } }, /starts with "_"/],
    [{ measurement: 'a\nb', tags: {}, fields: { f: { kind: 'float', value: 1 } } }, /control character/],
    [{ measurement: 'm', tags: { time: 'x' }, fields: { f: { kind: 'float', value: 1 } } }, /"time"/],
    [{ measurement: 'm', tags: {}, fields: { time: { kind: 'float', value: 1 } } }, /"time"/],
    [{ measurement: 'm', tags: {}, fields: { f: { kind: 'float', value: NaN } } }, /NaN/],
    [{ measurement: 'm', tags: {}, fields: { f: { kind: 'float', value: Infinity } } }, /Infinity/],
    [{ measurement: 'm', tags: {}, fields: { f: { kind: 'integer', value: 1.5 } } }, /safe integer/],
    [{ measurement: 'm', tags: {}, fields: { f: { kind: 'string', value: 'x'.repeat(70000) } } }, /longer than/],
    [{ measurement: 'm', tags: {}, fields: {} }, /at least one field/],
    [{ measurement: 'm', tags: { a: 'x' }, fields: { a: { kind: 'float', value: 1 } } }, /also a tag/],
    [{ measurement: 'm\ud800', tags: {}, fields: { f: { kind: 'float', value: 1 } } }, /UTF-8/],
  ])('refuses %j', (p, re) => {
    expect(() => formatPoint({ ...p, t: 1 } as never, 'u')).toThrow(PointError);
    expect(() => formatPoint({ ...p, t: 1 } as never, 'u')).toThrow(re);
  });

  it('writes several fields on one line and refuses line breaks in strings', () => {
    expect(
      formatPoint(
        { measurement: 'm', tags: { a: 'x' }, fields: { f: { kind: 'float', value: 1 }, 'g h': { kind: 'bool', value: true } }, t: 1 },
        's',
      ),
    ).toBe('m,a=x f=1,g\\ h=true 1');
    expect(() => formatPoint({ measurement: 'm', tags: {}, fields: { f: { kind: 'string', value: 'a\nb' } }, t: 1 }, 's')).toThrow(
      /line break/,
    );
  });

  it('names points from templates and refuses a type that differs from the one already written', () => {
    const types = new Map<string, FieldKind>();
    const namer = new Namer(
      { ...DEFAULT_NAMING, measurement: 'sisock', tags: { node: '{node}', tl: '{timeline}' }, integerFields: ['n'] },
      'ms',
      types,
    );
    const c = namer.convert('sim', {
      data: { x: [1, null, 2], n: [3, 4, 5], s: ['a', 'b', 'c'] },
      timeline: { tl0: { t: [1, 2, 3], finalized_until: 3 } },
    });
    expect(c.lines).toContain('sisock,node=sim,tl=tl0 x=1 1000');
    expect(c.lines).toContain('sisock,node=sim,tl=tl0 n=4i 2000');
    expect(c.lines).toHaveLength(8);
    expect(c.newest).toBe(3);
    const c2 = namer.convert('sim', { data: { x: ['oops', 7, NaN] }, timeline: { tl0: { t: [4, 5, 6], finalized_until: 6 } } });
    expect(c2.lines).toEqual(['sisock,node=sim,tl=tl0 x=7 5000']);
    expect(c2.rejected.map((r) => r.reason)).toEqual([expect.stringMatching(/type conflict.*float.*string/), expect.stringMatching(/NaN/)]);
  });

  it("tags from the node's metadata: {meta.<key>} and {status.<key>}; a missing or odd value leaves the tag out", () => {
    const namer = new Namer(
      {
        ...DEFAULT_NAMING,
        tags: { host: '{meta.host}', mqtt: '{status.mqtt_connected}', pid: '{meta.pid}', x: '{meta.nope}', o: '{meta.status}' },
      },
      's',
      new Map(),
    );
    const r = { data: { v: [1] }, timeline: { tl: { t: [10], finalized_until: null } } };
    const meta = { host: 'daq 1', pid: 42, status: { mqtt_connected: false } };
    expect(namer.convert('lab', r, undefined, meta).lines).toEqual(['lab,host=daq\\ 1,mqtt=false,pid=42 v=1 10']);
    expect(namer.convert('lab', r).lines).toEqual(['lab v=1 10']);
    expect(namer.convert('lab', r, undefined, { host: 'h'.repeat(5000), toString: 'x' }).lines[0]).toBe(
      `lab,host=${'h'.repeat(256)} v=1 10`,
    );
    const m2 = new Namer({ ...DEFAULT_NAMING, measurement: '{meta.description}_{node}' }, 's', new Map());
    expect(m2.convert('lab', r, undefined, { description: 'cryo' }).lines).toEqual(['cryo_lab v=1 10']);
  });

  it('redacts passwords and builds the write URLs', () => {
    expect(redactUrl('http://u:secret@h:8086/x')).toBe('http://u:***@h:8086/x');
    const t1 = new Target({ kind: 'influx1', url: 'http://u:secret@127.0.0.1:8086/', db: 'd b', precision: 'ms' });
    expect(t1.writeUrl).toBe('http://127.0.0.1:8086/write?db=d+b&precision=ms');
    expect(t1.label).not.toContain('secret');
    const t2 = new Target({ kind: 'influx2', url: 'http://h:8086', org: 'o', bucket: 'b', token: 'tok' });
    expect(t2.writeUrl).toBe('http://h:8086/api/v2/write?org=o&bucket=b&precision=us');
    expect(() => new Target({ kind: 'influx2', url: 'http://h', org: 'o' })).toThrow(/bucket/);
    expect(() => new Target({ kind: 'influx1', url: 'ftp://h', db: 'x' })).toThrow(/http/);
  });
});

describe('disk buffer', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sisock-buf-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps lines, cursors and types across a reopen and acknowledges by id', () => {
    const b = new LineBuffer({ path: path.join(dir, 'b.sqlite') });
    b.append(['a 1', 'b 2'], 'sim', 42, new Map([['m\0f', 'float' as const]]));
    b.append(['c 3']);
    const p = b.peek(2, 1e6);
    expect(p.lines).toEqual(['a 1', 'b 2']);
    expect(p.counts).toEqual([2]);
    b.ack(p.ids[0] ?? 0, 2);
    b.close();
    const b2 = new LineBuffer({ path: path.join(dir, 'b.sqlite') });
    expect(b2.pending).toBe(1);
    expect(b2.peek(10, 1e6).lines).toEqual(['c 3']);
    expect(b2.cursor('sim')).toBe(42);
    expect(b2.types().get('m\0f')).toBe('float');
    expect(b2.counters.sent).toBe(2);
    b2.close();
  });

  it('drops the oldest lines beyond its bound and counts them', () => {
    const b = new LineBuffer({ path: path.join(dir, 'b.sqlite'), maxBytes: 1000 });
    for (let i = 0; i < 200; i++) b.append([`line ${String(i).padStart(4, '0')}`]);
    expect(b.pendingBytes).toBeLessThanOrEqual(1000);
    expect(b.counters.dropped).toBe(200 - b.pending);
    expect(b.counters.dropped).toBeGreaterThan(0);
    expect(b.peek(1000, 1e6).lines.at(-1)).toBe('line 0199');
    b.close();
  });
});
