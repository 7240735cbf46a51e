/**
 * One node's range → a sink, in windows (what the observatory's g32influx did for its archive):
 * `sisock export backfill --node N --from T --to T`. The node answers from whatever it holds (an
 * archive node: its files). Returns the samples written.
 */
import { getData, getFields, type SisockClient } from '../client';
import type { Sink } from './sink';

export interface BackfillOptions {
  client: SisockClient;
  sink: Sink;
  node: string;
  start: number;
  end: number;
  /** only these fields (default: every field with data in the range) */
  fields?: string[];
  /** window, seconds (default 3600) */
  chunkSeconds?: number;
  onProgress?: (t: number, samples: number) => void;
}

export async function backfillRange(o: BackfillOptions): Promise<number> {
  const [all] = await getFields(o.client, o.node, o.start, o.end);
  const names = o.fields ?? Object.keys(all);
  if (names.length === 0) return 0;
  const chunk = o.chunkSeconds ?? 3600;
  let n = 0;
  for (let a = o.start; a < o.end; a += chunk) {
    const b = Math.min(o.end, a + chunk);
    const r = await getData(o.client, o.node, names, a, b, null, { timeoutMs: 120000 });
    o.sink.write(o.node, r, { fields: all });
    for (const v of Object.values(r.data)) n += v.length;
    o.onProgress?.(b, n);
  }
  return n;
}
