/**
 * Parsing of every request shape the bridge accepts: bodies built from the simPod JSON datasource
 * OpenAPI spec (shared/vectors/grafana-json-datasource/openapi.yaml) and bodies as Grafana really
 * sends them with grafana-simple-json-datasource 1.4 and simPod's plugin.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { searchNames } from '../../consumers/grafana/app';
import { HttpError } from '../../consumers/grafana/errors';
import { compileGlob, compileRegex } from '../../consumers/grafana/pattern';
import {
  DEFAULT_LIMITS,
  filterAllows,
  globMatcher,
  parseAnnotationRequest,
  parsePayload,
  parseQueryRequest,
  parseRange,
  parseSearchTarget,
  parseTagValuesRequest,
  parseTime,
  splitTarget,
} from '../../consumers/grafana/request';

const NOW = Date.parse('2024-03-01T12:00:00.000Z');

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  example?: unknown;
  oneOf?: Schema[];
  anyOf?: Schema[];
  $ref?: string;
  format?: string;
};

// Reference data beside the checkout (CI has shared/ there): missing is a failure, not a skip.
const specPath = path.join(__dirname, '../../../shared/vectors/grafana-json-datasource/openapi.yaml');
const spec = YAML.parse(fs.readFileSync(specPath, 'utf8')) as Record<string, any>;

/** An instance of a schema: its example where it has one, else a value of its type. */
function instance(s: Schema | undefined, key = ''): unknown {
  if (!s) return undefined;
  if (s.$ref)
    return instance(
      s.$ref
        .split('/')
        .slice(1)
        .reduce((o: any, k) => o[k], spec) as Schema,
    );
  if (s.example !== undefined) return s.example;
  if (s.oneOf) return instance(s.oneOf[0]);
  if (s.anyOf) return instance(s.anyOf[0]);
  switch (s.type) {
    case 'object':
      return Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, instance(v, k)]));
    case 'array':
      return [instance(s.items)];
    case 'string':
      return s.format === 'date-time' ? new Date(key === 'to' ? NOW : NOW - 3600e3).toISOString() : 'x';
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return true;
    default:
      return undefined;
  }
}

function requestBody(p: string): Record<string, unknown> {
  const op = spec!.paths[p].post;
  const media = op.requestBody.content['application/json'];
  return (media.example ?? instance(media.schema)) as Record<string, unknown>;
}

function expectHttp(f: () => unknown, status: number, msg: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(HttpError);
  expect((err as HttpError).status).toBe(status);
  expect((err as HttpError).message).toMatch(msg);
}

describe('bodies built from the OpenAPI spec', () => {
  it('/query: every property of the schema, extra fields ignored', () => {
    const body = requestBody('/query');
    // The spec's own target example ("upper_25") is not a sisock target; keep the rest as is.
    (body.targets as Array<Record<string, unknown>>)[0]!.target = 'sim::sensor_temperature';
    body.range = { from: new Date(NOW - 3600e3).toISOString(), to: new Date(NOW).toISOString(), raw: { from: 'now-1h', to: 'now' } };
    expect(body).toHaveProperty('scopedVars');
    expect(body).toHaveProperty('panelId');
    const q = parseQueryRequest(body, NOW);
    expect(q.range).toEqual({ from: NOW - 3600e3, to: NOW });
    // maxDataPoints 50 from the spec; intervalMs 5500 allows 655 → 50
    expect(q.maxDataPoints).toBe(50);
    expect(q.targets).toHaveLength(1);
    expect(q.targets[0]).toMatchObject({
      target: 'sim::sensor_temperature',
      node: 'sim',
      field: 'sensor_temperature',
      format: 'timeseries',
      kind: 'field',
    });
    expect(q.filters).toEqual([{ key: 'City', operator: '=', value: 'Berlin' }]);
  });

  it('/query: a target payload from the spec reaches the target', () => {
    const body = requestBody('/query');
    const t = (body.targets as Array<Record<string, unknown>>)[0]!;
    t.target = 'sim::x';
    t.payload = { additional: 'optional json', maxDataPoints: 20 };
    body.range = { from: new Date(NOW - 60e3).toISOString(), to: new Date(NOW).toISOString() };
    const q = parseQueryRequest(body, NOW);
    expect(q.targets[0]!.payload).toEqual({ additional: 'optional json', maxDataPoints: 20 });
    expect(q.targets[0]!.maxDataPoints).toBe(20);
  });

  it('/variable: payload.target and range', () => {
    const body = requestBody('/variable');
    (body.payload as Record<string, unknown>).target = 'sim::hv*';
    expect(parseSearchTarget(body)).toBe('sim::hv*');
    expect(parseRange(body, NOW)).toEqual({ from: NOW - 3600e3, to: NOW });
  });

  it('/metrics, /metric-payload-options and /tag-values examples', () => {
    expect(requestBody('/metrics')).toEqual({ metric: 'DescribeCloudWatchDataList', payload: { namespace: 'AWS/RDS' } });
    expect(requestBody('/metric-payload-options')).toMatchObject({ name: 'metric' });
    expect(parseTagValuesRequest(requestBody('/tag-values'))).toBe('x');
  });
});

describe('what Grafana actually sends', () => {
  it('simple-json 1.4: timeserie targets, data, hide, adhocFilters, extra fields', () => {
    const body = {
      app: 'dashboard',
      requestId: 'Q104',
      timezone: 'browser',
      panelId: 2,
      dashboardId: 1,
      range: { from: '2024-03-01T06:00:00.000Z', to: '2024-03-01T12:00:00.000Z', raw: { from: 'now-6h', to: 'now' } },
      timeInfo: '',
      interval: '30s',
      intervalMs: 30000,
      maxDataPoints: 720,
      targets: [
        {
          target: 'sim::hv_ch0_voltage',
          refId: 'A',
          type: 'timeserie',
          hide: false,
          data: { foo: 1 },
          datasource: { type: 'grafana-simple-json-datasource', uid: 'abc' },
        },
        { target: 'sim::hv_ch1_voltage', refId: 'B', type: 'timeserie', hide: true },
        { target: 'weather::temperature', refId: 'C', type: 'table' },
        { refId: 'D', type: 'timeserie' },
      ],
      scopedVars: { __interval: { text: '30s', value: '30s' }, __interval_ms: { text: '30000', value: 30000 } },
      startTime: NOW,
      rangeRaw: { from: 'now-6h', to: 'now' },
      adhocFilters: [{ key: 'node', operator: '=', value: 'sim' }],
    };
    const q = parseQueryRequest(body, NOW);
    expect(q.range).toEqual({ from: Date.parse('2024-03-01T06:00:00.000Z'), to: NOW });
    expect(q.maxDataPoints).toBe(720);
    expect(q.targets.map((t) => [t.target, t.format, t.refId])).toEqual([
      ['sim::hv_ch0_voltage', 'timeseries', 'A'],
      ['weather::temperature', 'table', 'C'],
    ]);
    expect(q.targets[0]!.payload).toEqual({ foo: 1 });
    expect(q.filters).toEqual([{ key: 'node', operator: '=', value: 'sim' }]);
  });

  it('simPod 0.6: no type, payload as JSON text or object, filters, editorMode', () => {
    const body = {
      range: { from: '2024-03-01T11:00:00.000Z', to: '2024-03-01T12:00:00.000Z', raw: { from: 'now-1h', to: 'now' } },
      interval: '5s',
      intervalMs: 5000,
      maxDataPoints: 1200,
      targets: [
        {
          refId: 'A',
          datasource: { type: 'simpod-json-datasource', uid: 'x' },
          editorMode: 'code',
          payload: '{"maxDataPoints": 100}',
          target: 'sim::sensor_humidity',
        },
        { refId: 'B', payload: { format: 'table' }, target: 'sim::sensor_temperature' },
        { refId: 'C', type: 'timeseries', target: ' sim::lv_* ' },
        { refId: 'D', payload: 'not json', target: 'events' },
      ],
      filters: [{ key: 'field', operator: '=~', value: 'sensor.*' }],
    };
    const q = parseQueryRequest(body, NOW);
    expect(q.maxDataPoints).toBe(720); // 1 h / 5 s
    expect(q.targets.map((t) => [t.target, t.format, t.kind, t.maxDataPoints])).toEqual([
      ['sim::sensor_humidity', 'timeseries', 'field', 100],
      ['sim::sensor_temperature', 'table', 'field', undefined],
      ['sim::lv_*', 'timeseries', 'field', undefined],
      ['events', 'table', 'events', undefined],
    ]);
    expect(q.filters).toEqual([{ key: 'field', operator: '=~', value: 'sensor.*' }]);
  });

  it('times: ISO, epoch ms, numeric strings, now-relative, raw only', () => {
    expect(parseTime('2024-03-01T12:00:00Z', NOW, 'x')).toBe(NOW);
    expect(parseTime(NOW, NOW, 'x')).toBe(NOW);
    expect(parseTime(String(NOW), NOW, 'x')).toBe(NOW);
    expect(parseTime('now', NOW, 'x')).toBe(NOW);
    expect(parseTime('now-6h', NOW, 'x')).toBe(NOW - 6 * 3600e3);
    expect(parseTime('now-15m', NOW, 'x')).toBe(NOW - 900e3);
    expect(parseRange({ rangeRaw: { from: 'now-1h', to: 'now' } }, NOW)).toEqual({ from: NOW - 3600e3, to: NOW });
    expect(parseRange({ range: { raw: { from: 'now-2d', to: 'now-1d' } } }, NOW)).toEqual({ from: NOW - 2 * 86400e3, to: NOW - 86400e3 });
  });

  it('no maxDataPoints: intervalMs, else the default', () => {
    const range = { from: NOW - 3600e3, to: NOW };
    expect(parseQueryRequest({ range, targets: [] }, NOW).maxDataPoints).toBe(DEFAULT_LIMITS.defaultMaxDataPoints);
    expect(parseQueryRequest({ range, intervalMs: 60000, targets: [] }, NOW).maxDataPoints).toBe(60);
    expect(parseQueryRequest({ range, maxDataPoints: 5e9, targets: [] }, NOW).maxDataPoints).toBe(DEFAULT_LIMITS.maxPointsCap);
  });

  it('search targets: simple-json, simPod, variable payload (object or text)', () => {
    expect(parseSearchTarget({ target: 'sim' })).toBe('sim');
    expect(parseSearchTarget({ type: 'timeseries', target: 'upper_50' })).toBe('upper_50');
    expect(parseSearchTarget({ payload: { target: 'nodes()' } })).toBe('nodes()');
    expect(parseSearchTarget({ payload: '{"target":"sim::*"}' })).toBe('sim::*');
    expect(parseSearchTarget({ payload: 'weather' })).toBe('weather');
    expect(parseSearchTarget({})).toBe('');
    expect(parseSearchTarget(null)).toBe('');
  });

  it('simple-json /annotations body (from the plugin README)', () => {
    const body = {
      range: { from: '2016-04-15T13:44:39.070Z', to: '2016-04-15T14:44:39.070Z' },
      rangeRaw: { from: 'now-1h', to: 'now' },
      annotation: {
        name: 'deploy',
        datasource: 'Simple JSON Datasource',
        iconColor: 'rgba(255, 96, 96, 1)',
        enable: true,
        query: '#deploy',
      },
    };
    const a = parseAnnotationRequest(body, NOW);
    expect(a.range).toEqual({ from: Date.parse('2016-04-15T13:44:39.070Z'), to: Date.parse('2016-04-15T14:44:39.070Z') });
    expect(a.query).toBe('#deploy');
    expect(a.annotation.name).toBe('deploy');
    expect(parseAnnotationRequest({ range: body.range, annotation: {} }, NOW).query).toBe('');
  });

  it('payload and data', () => {
    expect(parsePayload({ payload: { a: 1 } })).toEqual({ a: 1 });
    expect(parsePayload({ payload: '{"a":2}' })).toEqual({ a: 2 });
    expect(parsePayload({ payload: '', data: { b: 1 } })).toEqual({ b: 1 });
    expect(parsePayload({ payload: 'garbage' })).toEqual({});
  });
});

describe('bad input → 400 with a message', () => {
  const range = { from: '2024-03-01T11:00:00.000Z', to: '2024-03-01T12:00:00.000Z' };
  it.each([
    ['not an object', [1, 2], /JSON object/],
    ['missing range', { targets: [{ target: 'sim::a' }] }, /missing range/],
    ['missing to', { range: { from: range.from } }, /range\.to/],
    ['reversed range', { range: { from: range.to, to: range.from } }, /reversed/],
    ['empty range', { range: { from: range.to, to: range.to } }, /empty or reversed/],
    ['100-year range', { range: { from: '1950-01-01T00:00:00Z', to: '2050-01-01T00:00:00Z' } }, /too long: 100\.0 years/],
    ['garbage time', { range: { from: 'yesterday', to: range.to } }, /range\.from must be/],
    ['targets not an array', { range, targets: 'sim::a' }, /targets must be an array/],
    ['target not a string', { range, targets: [{ target: 3 }] }, /targets\[0\]\.target/],
    ['target without ::', { range, targets: [{ target: 'temperature' }] }, /not <node>::<field>/],
    ['target with empty field', { range, targets: [{ target: 'sim::' }] }, /not <node>::<field>/],
    ['bad maxDataPoints', { range, maxDataPoints: -5, targets: [] }, /maxDataPoints must be a positive number/],
    ['bad intervalMs', { range, intervalMs: 'often', targets: [] }, /intervalMs/],
    [
      '10,000 targets',
      { range, targets: Array.from({ length: 10000 }, (_, i) => ({ target: `sim::f${i}`, refId: String(i) })) },
      /too many targets: 10000/,
    ],
  ])('%s', (_what, body, msg) => {
    expectHttp(() => parseQueryRequest(body, NOW), 400, msg);
  });

  it('tag-values without a key', () => {
    expectHttp(() => parseTagValuesRequest({}), 400, /key/);
  });

  it('a bad regex in an ad hoc filter', () => {
    expectHttp(() => filterAllows([{ key: 'node', operator: '=~', value: '(' }], 'sim', 'a'), 400, /invalid regular expression/);
  });
});

describe('targets, globs, filters and search', () => {
  it('splits at the first ::', () => {
    expect(splitTarget('sim::a')).toEqual({ node: 'sim', field: 'a' });
    expect(splitTarget('Weather::x::y')).toEqual({ node: 'Weather', field: 'x::y' });
  });

  it('globs: *, ?, {a,b}; plain names are exact', () => {
    expect(globMatcher('hv_ch?_voltage').test('hv_ch3_voltage')).toBe(true);
    expect(globMatcher('{hv,lv}_ch0_*').test('lv_ch0_current')).toBe(true);
    expect(globMatcher('{hv,lv}_ch0_*').test('xv_ch0_current')).toBe(false);
    expect(globMatcher('a.b').test('axb')).toBe(false);
    expect(globMatcher('a.b').literal).toBe(true);
  });

  it('ad hoc filters on node and field', () => {
    expect(filterAllows([{ key: 'node', operator: '=', value: 'sim' }], 'sim', 'a')).toBe(true);
    expect(filterAllows([{ key: 'node', operator: '!=', value: 'sim' }], 'sim', 'a')).toBe(false);
    expect(filterAllows([{ key: 'field', operator: '!~', value: '^hv' }], 'sim', 'hv_x')).toBe(false);
    expect(filterAllows([{ key: 'City', operator: '=', value: 'Berlin' }], 'sim', 'a')).toBe(true);
  });

  it('globs run in linear time: nested wildcards and braces do not backtrack', () => {
    const evil = '{*,*}{*,*}{*,*}{*,*}{*,*}{*,*}{*,*}{*,*}{*,*}{*,*}z';
    const subject = 'a'.repeat(5000);
    expect(globMatcher(evil).test(subject)).toBe(false);
    expect(globMatcher(evil).test(`${subject}z`)).toBe(true);
    expect(globMatcher('*a*a*a*a*a*a*a*a*a*a*a*a*b').test(subject)).toBe(false);
    expect(globMatcher('a****b').test('a-x-b')).toBe(true);
    expect(globMatcher('{a,{b,c}d}x').test('cdx')).toBe(true);
    expect(globMatcher('{a,{b,c}d}x').test('cx')).toBe(false);
    expect(globMatcher('{a,b').test('b')).toBe(true); // unclosed brace closes at the end
    expect(globMatcher('a}b,c*').test('a}b,cde')).toBe(true); // } and , outside braces are literal
    expect(globMatcher('a.?').test('a.x')).toBe(true);
    expect(globMatcher('a.?').test('abx')).toBe(false);
    expect(globMatcher('?').test('')).toBe(false);
    expect(globMatcher('*').test('')).toBe(true);
    expect(globMatcher('{}x').test('x')).toBe(true);
    expectHttp(() => compileGlob(`${'*a'.repeat(300)}`), 400, /too long/);
  });

  it('ad hoc regex filters match like RegExp, in linear time', () => {
    const cases: Array<[string, string[]]> = [
      ['^hv', ['hv_x', 'xhv', '']],
      ['_ch[0-3]_', ['hv_ch2_v', 'hv_ch5_v']],
      ['^(hv|lv)_ch\\d+_(voltage|current)$', ['lv_ch12_current', 'lv_ch12_currentx', 'hv_chx_voltage']],
      ['temp.*ure$', ['sensor_temperature', 'temperatures']],
      ['[^a-z_]', ['abc', 'ab1']],
      ['\\bch', ['hv ch0', 'hvch0']],
      ['a{2,3}b', ['aab', 'ab', 'aaaab']],
      ['colou?r', ['color', 'colour', 'colouur']],
      ['x|', ['anything']],
      ['(?:ab)+$', ['abab', 'aba']],
      ['\\w+\\s\\W', ['ab -', 'ab c']],
      ['[\\d-]x', ['-x', '5x', 'ax']],
      ['a.c', ['abc', 'a\nc']],
      ['\\x41\\u0042', ['AB', 'ab']],
      ['(?<n>a)b*?c', ['abbc', 'ac', 'bc']],
      ['[]', ['a']],
      ['[^]', ['a', '']],
      ['\\Bc', ['ac', 'c']],
      ['^$', ['', 'a']],
      ['{', ['a{b']],
      ['a{,2}', ['a{,2}', 'a']],
    ];
    for (const [rx, subjects] of cases) {
      const test = compileRegex(rx);
      for (const s of subjects) expect([rx, s, test(s)]).toEqual([rx, s, new RegExp(rx).test(s)]);
    }
    // catastrophic for a backtracking engine, instant here
    const subject = `${'a'.repeat(5000)}!`;
    expect(compileRegex('^(a+)+$')(subject)).toBe(false);
    expect(compileRegex('(a|a)*b')(subject)).toBe(false);
    expect(compileRegex('a*a*a*a*a*a*a*a*a*a*b')(subject)).toBe(false);
    expect(filterAllows([{ key: 'field', operator: '=~', value: '^(a+)+$' }], 'sim', subject)).toBe(false);
    expect(filterAllows([{ key: 'field', operator: '=~', value: '^(a+)+$' }], 'sim', 'aaa')).toBe(true);
  });

  it('ad hoc regex filters: too long, backreferences and lookarounds are 400', () => {
    const f = (value: string) => () => filterAllows([{ key: 'field', operator: '=~', value }], 'sim', 'a');
    expectHttp(f('a'.repeat(201)), 400, /too long/);
    expectHttp(f('(a)\\1'), 400, /backreferences/);
    expectHttp(f('a(?=b)'), 400, /lookarounds/);
    expectHttp(f('(?<!b)a'), 400, /lookarounds/);
    expectHttp(f('(a{1,100}){1,100}'), 400, /too complex/);
    expectHttp(f('a{1000}'), 400, /repetition count/);
  });

  it('search: all, substring (case-insensitive), glob', () => {
    const names = ['sim::hv_ch0_voltage', 'sim::sensor_temperature', 'weather::temperature'];
    expect(searchNames(names, '')).toEqual(names);
    expect(searchNames(names, '*')).toEqual(names);
    expect(searchNames(names, 'TEMP')).toEqual(['sim::sensor_temperature', 'weather::temperature']);
    expect(searchNames(names, 'sim::*')).toEqual(['sim::hv_ch0_voltage', 'sim::sensor_temperature']);
  });
});
