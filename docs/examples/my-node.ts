/**
 * A complete sisock data node: one field `level` (a tank level, metres) sampled every second,
 * kept for an hour, served to consumers and pushed live. Run it (after `make build`):
 *   SISOCK_ROUTER=ws://127.0.0.1:8080/ws node dist/docs/examples/my-node.js
 * Options come from the same environment as every sisock client (SISOCK_AUTHID, SISOCK_SECRET, SISOCK_CA, …).
 */
import { clientOptionsFromEnv } from '../../client';
import { runDataNode, type DataResult, type DataSource, type FieldsResult } from '../../data-nodes/sdk';

const samples: Array<{ t: number; level: number }> = [];

const source: DataSource = {
  getFields(start: number, end: number): FieldsResult {
    if (!samples.some((s) => s.t >= start && s.t < end)) return [{}, {}];
    return [
      { level: { description: 'tank level', timeline: 'tank', type: 'number', units: 'm' } },
      { tank: { interval: 1, field: ['level'] } },
    ];
  },
  getData(fields: string[], start: number, end: number, minStride: number | null): DataResult {
    const picked: typeof samples = [];
    for (const s of samples) {
      const previous = picked.at(-1);
      if (s.t >= start && s.t < end && (!minStride || !previous || s.t - previous.t >= minStride)) picked.push(s);
    }
    const out: DataResult = { data: {}, timeline: {} };
    for (const f of fields) out.data[f] = f === 'level' ? picked.map((s) => s.level) : [];
    const newest = samples.at(-1);
    if (picked.length && newest && fields.includes('level')) out.timeline.tank = { t: picked.map((s) => s.t), finalized_until: newest.t };
    return out;
  },
};

async function main(): Promise<void> {
  const client = clientOptionsFromEnv();
  const node = await runDataNode({ name: process.env.MY_NODE_NAME ?? 'tank', description: 'example tank level', source, client });
  const timer = setInterval(() => {
    const now = Date.now() / 1000;
    const sample = { t: now, level: 2 + Math.sin(now / 60) };
    samples.push(sample);
    if (samples.length > 3600) samples.shift();
    void node.push({ data: { level: [sample.level] }, timeline: { tank: { t: [now], finalized_until: now } } });
  }, 1000);
  await node.ready();
  process.stdout.write(`node: ${node.name}\n`);
  process.once('SIGTERM', () => { clearInterval(timer); void node.close().then(() => process.exit(0)); });
  process.once('SIGINT', () => process.kill(process.pid, 'SIGTERM'));
}
void main();
