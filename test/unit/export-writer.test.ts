/**
 * The exporter's writer against a fake database over real HTTP (port 0): retries while the database
 * is unavailable or refuses credentials, splits on 413, isolates refused lines into the dead-letter
 * file, and deletes lines from the buffer only once they were taken.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { openExporter } from '../../historian/export';
import { waitFor } from '../helpers/wait';

describe('exporter writer (fake database)', () => {
  let server: http.Server;
  let url: string;
  let dir: string;
  const taken = new Set<string>();
  let mode: 'down' | 'auth' | 'up' = 'up';
  let requests = 0;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (b: Buffer) => (body += b.toString()));
      req.on('end', () => {
        requests++;
        const lines = body.split('\n');
        if (mode === 'down') return res.writeHead(503).end('{"error":"down"}');
        if (mode === 'auth') return res.writeHead(401).end('{"error":"authorization failed"}');
        if (lines.length > 100) return res.writeHead(413).end('{"error":"request too large"}');
        if (lines.some((l) => l.includes('bad'))) return res.writeHead(400).end('{"error":"partial write: field type conflict"}');
        for (const l of lines) taken.add(l);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sisock-writer-'));
    taken.clear();
    requests = 0;
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps everything while the database is down or refuses credentials, then writes it; isolates refused lines', async () => {
    const ex = openExporter({
      target: { kind: 'influx1', url, db: 'x', precision: 's' },
      dir,
      batchLines: 300,
      batchMs: 20,
      maxBackoffMs: 100,
    });
    mode = 'down';
    const t = Array.from({ length: 500 }, (_, i) => 1_700_000_000 + i);
    ex.write('n', {
      data: { v: t.map((_, i) => i), s: t.map((_, i) => (i === 7 || i === 400 ? 'bad' : null)) },
      timeline: { tl: { t, finalized_until: null } },
    });
    await waitFor(() => requests >= 3, 5000, 'retries while down');
    expect(ex.stats().down).toBe(true);
    expect(ex.stats().pending).toBe(502);
    mode = 'auth';
    await waitFor(() => requests >= 6, 5000, 'retries while refusing credentials');
    expect(ex.stats().pending).toBe(502);
    mode = 'up';
    expect(await ex.flush(10000)).toBe(true);
    const dead = ex.dead.read();
    await ex.close();
    expect(taken.size).toBe(500);
    expect(dead.map((d) => d.line)).toEqual(['n s="bad" 1700000007', 'n s="bad" 1700000400']);
    expect(dead[0]?.reason).toMatch(/conflict/);
  });

  it('survives a reopen with lines pending: they are sent by the next exporter on the same directory', async () => {
    mode = 'down';
    const ex = openExporter({ target: { kind: 'influx1', url, db: 'x', precision: 's' }, dir, batchMs: 20, maxBackoffMs: 100 });
    const t = Array.from({ length: 50 }, (_, i) => 1_700_000_000 + i);
    ex.write('n', { data: { v: t.map((_, i) => i) }, timeline: { tl: { t, finalized_until: null } } }, { cursorTo: 1_700_000_049 });
    await ex.close(0);
    mode = 'up';
    const ex2 = openExporter({ target: { kind: 'influx1', url, db: 'x', precision: 's' }, dir, batchMs: 20 });
    expect(ex2.cursor('n')).toBe(1_700_000_049);
    expect(await ex2.flush(10000)).toBe(true);
    await ex2.close();
    expect(taken.size).toBe(50);
  });
});
