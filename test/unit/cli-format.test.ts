import {
  outerJoin,
  renderJoined,
  renderTable,
  RowStream,
  chooseFormat,
  useColor,
  renderNodes,
  renderFields,
  parseTargets,
  csvCell,
  tableValue,
} from '../../consumers/cli';
import type { FieldsResult } from '../../client';

const T0 = Date.UTC(2026, 10, 20, 12) / 1000;

function sample() {
  return outerJoin([
    { key: 'weather::temperature', units: 'C', t: [T0, T0 + 60, T0 + 120], v: [1.5, 2.25, null] },
    { key: 'sim::hv_ch0_on', units: null, t: [T0 + 30, T0 + 60], v: [true, false] },
    { key: 'sim::label', units: null, t: [T0], v: ['a,"b"'] },
  ]);
}

describe('outer join', () => {
  test('union of times, ascending, null where a series has no sample', () => {
    const j = sample();
    expect(j.t).toEqual([T0, T0 + 30, T0 + 60, T0 + 120]);
    expect(j.rows).toEqual([
      [1.5, null, 'a,"b"'],
      [null, true, null],
      [2.25, false, null],
      [null, null, null],
    ]);
    expect(j.keys).toEqual(['weather::temperature', 'sim::hv_ch0_on', 'sim::label']);
  });

  test('empty series', () => {
    expect(outerJoin([{ key: 'a::b', units: null, t: [], v: [] }])).toEqual({ keys: ['a::b'], units: [null], t: [], rows: [] });
  });
});

describe('rendering', () => {
  test('csv: header time,unix,<node::field>…, RFC 4180 quoting, empty for missing', () => {
    const lines = renderJoined(sample(), 'csv').trimEnd().split('\n');
    expect(lines[0]).toBe('time,unix,weather::temperature,sim::hv_ch0_on,sim::label');
    expect(lines[1]).toBe(`2026-11-20T12:00:00Z,${T0},1.5,,"a,""b"""`);
    expect(lines[2]).toBe(`2026-11-20T12:00:30Z,${T0 + 30},,true,`);
    expect(lines).toHaveLength(5);
  });

  test('tsv: same columns, tabs, no quoting, tabs in values flattened', () => {
    const j = outerJoin([{ key: 'n::s', units: null, t: [T0], v: ['x\ty\nz'] }]);
    expect(renderJoined(j, 'tsv')).toBe(`time\tunix\tn::s\n2026-11-20T12:00:00Z\t${T0}\tx y z\n`);
  });

  test('json: one document, columnar', () => {
    const doc = JSON.parse(renderJoined(sample(), 'json'));
    expect(doc.fields).toEqual(['weather::temperature', 'sim::hv_ch0_on', 'sim::label']);
    expect(doc.units).toEqual({ 'weather::temperature': 'C', 'sim::hv_ch0_on': null, 'sim::label': null });
    expect(doc.unix).toEqual([T0, T0 + 30, T0 + 60, T0 + 120]);
    expect(doc.time[0]).toBe('2026-11-20T12:00:00Z');
    expect(doc.data['weather::temperature']).toEqual([1.5, null, 2.25, null]);
  });

  test('table: aligned columns, units in the header, colour only when asked', () => {
    const out = renderJoined(sample(), 'table');
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^time\s+weather::temperature \[C\]\s+sim::hv_ch0_on\s+sim::label$/);
    // the temperature column is right-aligned: its values end where its header ends
    const end = lines[0]!.indexOf('[C]') + 3;
    expect(lines[1]!.slice(0, end).endsWith('1.5')).toBe(true);
    expect(lines[3]!.slice(0, end).endsWith('2.25')).toBe(true);
    expect(out).not.toContain('\x1b[');
    expect(renderJoined(sample(), 'table', true)).toContain('\x1b[1m');
  });

  test('renderTable pads, trims trailing space', () => {
    expect(
      renderTable(
        ['a', 'bb'],
        [
          ['xxx', '1'],
          ['y', '22'],
        ],
        { rightAlign: [false, true] },
      ),
    ).toBe('a    bb\nxxx   1\ny    22\n');
  });

  test('values: table trims float noise, csv keeps full precision', () => {
    expect(tableValue(0.1 + 0.2)).toBe('0.3');
    expect(tableValue(0.0000123456)).toBe('0.00001235');
    expect(tableValue(42)).toBe('42');
    const j = outerJoin([{ key: 'n::x', units: null, t: [T0], v: [0.1 + 0.2] }]);
    expect(renderJoined(j, 'csv')).toContain('0.30000000000000004');
    expect(csvCell(' lead')).toBe('" lead"');
  });

  test('RowStream for tail: header once, one line per time', () => {
    const s = new RowStream(['sim::a', 'sim::b'], ['V', null], 'tsv');
    expect(s.header()).toBe('time\tunix\tsim::a\tsim::b\n');
    expect(s.row(T0, [1, null])).toBe(`2026-11-20T12:00:00Z\t${T0}\t1\t\n`);
    const j = new RowStream(['sim::a'], [null], 'json');
    expect(j.header()).toBe('');
    expect(JSON.parse(j.row(T0, [true]))).toEqual({ time: '2026-11-20T12:00:00Z', unix: T0, 'sim::a': true });
    const c = new RowStream(['sim::a'], [null], 'csv');
    expect(c.header()).toBe('time,unix,sim::a\n');
    const t = new RowStream(['sim::a'], ['V'], 'table');
    expect(t.header()).toContain('sim::a [V]');
    expect(t.row(T0, [1.5]).length).toBe(t.header().length);
  });

  test('format choice: TTY → table, pipe → tsv, flags win; colour rules', () => {
    expect(chooseFormat({}, true)).toBe('table');
    expect(chooseFormat({}, false)).toBe('tsv');
    expect(chooseFormat({ csv: true }, true)).toBe('csv');
    expect(chooseFormat({ json: true, csv: true }, false)).toBe('json');
    expect(chooseFormat({ table: true }, false)).toBe('table');
    expect(useColor(true, {})).toBe(true);
    expect(useColor(false, {})).toBe(false);
    expect(useColor(true, { NO_COLOR: '' })).toBe(false);
    expect(useColor(true, { TERM: 'dumb' })).toBe(false);
  });

  test('nodes and fields tables', () => {
    const nodes = renderNodes(
      [
        { name: 'weather', description: 'Weather', n_fields: 7, newest_sample: T0, host: 'h' },
        { name: 'sim', description: 'Sim' },
      ],
      'tsv',
      false,
    );
    expect(nodes).toBe(`name\tfields\tnewest\thost\tdescription\nsim\t\t\t\tSim\nweather\t7\t2026-11-20T12:00:00Z\th\tWeather\n`);
    const fr: FieldsResult = [
      {
        t: { description: 'Temp', timeline: 'hourly', type: 'number', units: 'C' },
        a: { description: null, timeline: 'hourly', type: 'number', units: null },
      },
      { hourly: { interval: 3600, field: ['t', 'a'] } },
    ];
    expect(renderFields(fr, 'csv', false)).toBe(
      'field,timeline,interval,type,units,description\na,hourly,3600,number,,\nt,hourly,3600,number,C,Temp\n',
    );
    expect(JSON.parse(renderFields(fr, 'json', false))).toEqual(fr);
  });

  test('node::field targets', () => {
    expect(parseTargets(['weather::temperature', 'sim::a::b', 'weather::temperature'])).toEqual([
      { node: 'weather', field: 'temperature', key: 'weather::temperature' },
      { node: 'sim', field: 'a::b', key: 'sim::a::b' },
    ]);
    for (const bad of [['weather'], ['::x'], ['x::'], []]) expect(() => parseTargets(bad)).toThrow(/node::field/);
  });
});
