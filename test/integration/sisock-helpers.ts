/** Helpers of the client/hub/SDK tests: an in-process router on port 0, bounded waits, a memory source. */
import { startRouter, type RunningRouter } from '../../router/server';
import { devConfig } from '../../router/config';
import { SisockClient, type ClientOptions } from '../../client';
import type { DataResult, DataSource, FieldsResult, Sample } from '../../data-nodes/sdk';

export { waitFor } from '../helpers/wait';

export async function startTestRouter(port = 0): Promise<{ router: RunningRouter; url: string; port: number }> {
  const router = await startRouter(devConfig({ port, realm: 'test_realm' }));
  const url = router.urls[0]!;
  return { router, url, port: Number(new URL(url).port) };
}

export function opts(url: string, extra: Partial<ClientOptions> = {}): ClientOptions {
  return { url, realm: 'test_realm', uriBase: 'org.simonsobservatory', initialRetryDelay: 0.05, maxRetryDelay: 0.5, ...extra };
}

/**
 * A DataSource over in-memory samples: one timeline `tl` with fields `a` (number) and `s`
 * (string), samples at t = t0 + i * dt.
 */
export class MemorySource implements DataSource {
  t: number[] = [];
  a: Sample[] = [];
  s: Sample[] = [];
  calls: Array<{ fields: string[]; start: number; end: number; minStride: number | null }> = [];
  constructor(n = 0, t0 = 1000, dt = 1) {
    for (let i = 0; i < n; i++) this.append(t0 + i * dt, i, `v${i}`);
  }
  append(t: number, a: number, s: string): void {
    this.t.push(t);
    this.a.push(a);
    this.s.push(s);
  }
  getFields(start: number, end: number): FieldsResult {
    const any = this.t.some((t) => t >= start && t < end);
    if (!any) return [{}, {}];
    return [
      {
        a: { description: 'a number', timeline: 'tl', type: 'number', units: 'K' },
        s: { description: null, timeline: 'tl', type: 'string', units: null },
      },
      { tl: { interval: 1, field: ['a', 's'] } },
    ];
  }
  getData(fields: string[], start: number, end: number, minStride: number | null): DataResult {
    this.calls.push({ fields, start, end, minStride });
    const idx: number[] = [];
    let lastT = -Infinity;
    this.t.forEach((t, i) => {
      if (t >= start && t < end && (!minStride || t - lastT >= minStride)) {
        idx.push(i);
        lastT = t;
      }
    });
    const out: DataResult = { data: {}, timeline: {} };
    for (const f of fields) {
      if (f === 'a' || f === 's') {
        out.data[f] = idx.map((i) => (f === 'a' ? this.a[i]! : this.s[i]!));
        if (idx.length)
          out.timeline.tl = { t: idx.map((i) => this.t[i]!), finalized_until: idx.length ? this.t[idx[idx.length - 1]!]! : null };
      } else out.data[f] = [];
    }
    return out;
  }
}

export async function closeAll(...things: Array<{ close(): Promise<void> } | undefined | null>): Promise<void> {
  for (const t of things) if (t) await t.close().catch(() => {});
}

export function newClient(url: string, extra: Partial<ClientOptions> = {}): SisockClient {
  return new SisockClient(opts(url, extra)).start();
}
