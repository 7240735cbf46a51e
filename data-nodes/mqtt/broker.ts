/**
 * An embedded MQTT broker (aedes) for the demo and for sites without one: `startEmbeddedBroker()`
 * listens on 127.0.0.1 (port 0 = any free port) and serves MQTT 3.1.1/5 with in-memory
 * persistence (persistent sessions and QoS 1 queues live as long as the process).
 *
 * aedes is an ES module; it is loaded with import() when the broker starts (compiled to require(): Node ≥ 20.19
 * loads ES modules synchronously), so importing this file costs nothing.
 */
import net from 'node:net';
import type { Aedes } from 'aedes';
import { silentLogger, type Logger } from '../../common/log';

export interface EmbeddedBroker {
  url: string;
  port: number;
  aedes: Aedes;
  close(): Promise<void>;
}

export async function startEmbeddedBroker(o: { port?: number; host?: string; logger?: Logger } = {}): Promise<EmbeddedBroker> {
  const log = o.logger ?? silentLogger;
  const mod = await import('aedes');
  const aedes = await mod.Aedes.createBroker();
  aedes.on('clientError', (client, err) => log.debug({ client: client?.id, err: err.message }, 'mqtt broker: client error'));
  const server = net.createServer(aedes.handle as unknown as (s: net.Socket) => void);
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;
  let closed = false;
  return {
    url: `mqtt://${host}:${port}`,
    port,
    aedes,
    async close() {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
