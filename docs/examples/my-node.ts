/**
 * A complete sisock data node: one field `level` (a tank level, metres) sampled every second,
 * kept for an hour, served to consumers and pushed live. Run it (after `make build`):
 *   SISOCK_ROUTER=ws://127.0.0.1:8080/ws node dist/docs/examples/my-node.js
 * Options come from the same environment as every sisock client (SISOCK_AUTHID, SISOCK_SECRET, SISOCK_CA, …).
 */
import { clientOptionsFromEnv } from '../../client';
import { runDataNode, type DataResult, type DataSource, type FieldsResult } from '../../data-nodes/sdk';

const t: number[] = [];
const level: number[] = [];

const source: DataSource = {
  getFields(start: number, end: number): FieldsResult {
    if (!t.some((x) => x >= start && x < end)) return [{}, {}];
    return [
      { level: { description: 'tank level', timeline: 'tank', type: 'number', units: 'm' } },
      { tank: { interval: 1, field: ['level'] } },
    ];
  },
  getData(fields: string[], start: number, end: number, minStride: number | null): DataResult {
    const idx: number[] = [];
    for (let i = 0; i < t.length; i++) {
      if (t[i]! >= start && t[i]! < end && (!minStride || !idx.length || t[i]! - t[idx[idx.length - 1]!]! >= minStride)) idx.push(i);
    }
    const out: DataResult = { data: {}, timeline: {} };
    for (const f of fields) out.data[f] = f === 'level' ? idx.map((i) => level[i]!) : [];
    if (idx.length && fields.includes('level')) out.timeline.tank = { t: idx.map((i) => t[i]!), finalized_until: t[t.length - 1]! };
    return out;
  },
};

async function main(): Promise<void> {
  const node = await runDataNode({ name: process.env.MY_NODE_NAME ?? 'tank', description: 'example tank level', source, client: clientOptionsFromEnv() });
  const timer = setInterval(() => {
    const now = Date.now() / 1000;
    t.push(now); level.push(2 + Math.sin(now / 60));
    if (t.length > 3600) { t.shift(); level.shift(); }
    void node.push({ data: { level: [level[level.length - 1]!] }, timeline: { tank: { t: [now], finalized_until: now } } });
  }, 1000);
  await node.ready();
  process.stdout.write(`node: ${node.name}\n`);
  process.once('SIGTERM', () => { clearInterval(timer); void node.close().then(() => process.exit(0)); });
  process.once('SIGINT', () => process.kill(process.pid, 'SIGTERM'));
}

void main();
