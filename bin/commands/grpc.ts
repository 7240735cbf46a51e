/** `sisock grpc`: the gRPC data API (consumers/grpc/sisock.proto, package sisock.v1) bridged to WAMP. */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { addClientOptions, clientOptionsFromEnv, type CommonFlags } from '../../client';
import { ErrorCode, SisockError } from '../../common/errors';
import { DEFAULT_GRPC_PORT, protoPath, startGrpcServer, type GrpcServerOptions } from '../../consumers/grpc';
import { addOpsOptions, planOps, startOps, type OpsFlags } from '../../common/ops-http';
import { cliLogger, fail, parsePort, positiveInteger, serveUntilSignal } from '../common';

export interface GrpcCommandOptions extends CommonFlags, OpsFlags {
  port: number;
  host: string;
  tlsCert?: string;
  tlsKey?: string;
  chunkPoints?: number;
  chunkBytes?: number;
  windowPoints?: number;
}

export function register(program: Command): void {
  const cmd = program
    .command('grpc')
    .description('serve the gRPC data API (ListNodes, GetFields, streamed GetData, Subscribe) over the WAMP API')
    .option('-p, --port <port>', 'gRPC port (0: any free port)', parsePort, DEFAULT_GRPC_PORT)
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--tls-cert <file>', 'PEM certificate chain: serve TLS (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option('--chunk-points <n>', 'most samples in one streamed DataChunk', positiveInteger, 65536)
    .option('--chunk-bytes <n>', 'about the most payload bytes in one DataChunk', positiveInteger, 1024 * 1024)
    .option('--window-points <n>', 'samples aimed at per get_data window asked of a node', positiveInteger, 200000);
  addClientOptions(cmd);
  addOpsOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Prints "grpc: HOST:PORT" on stdout once listening (the real port with --port 0). The service is
sisock.v1.Sisock in consumers/grpc/sisock.proto (times are double UNIX seconds, as on WAMP; t <= 0
means now + t). Plaintext on 127.0.0.1 unless --tls-cert/--tls-key are given. Stops cleanly on
SIGINT/SIGTERM.`,
  );
  cmd.action(async (opts: GrpcCommandOptions) => {
    await runGrpcCommand(opts);
  });
}

export async function runGrpcCommand(opts: GrpcCommandOptions): Promise<void> {
  const log = cliLogger('grpc', opts.logLevel);
  let options: GrpcServerOptions;
  try {
    if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined)) {
      throw new SisockError(ErrorCode.INVALID_ARGUMENT, '--tls-cert and --tls-key go together');
    }
    const read = (f: string) => {
      try {
        return readFileSync(f);
      } catch (e) {
        throw new SisockError(ErrorCode.TLS_UNREADABLE, `cannot read ${f}: ${(e as Error).message}`);
      }
    };
    options = {
      client: clientOptionsFromEnv(opts),
      host: opts.host,
      port: opts.port,
      logger: log,
      chunkPoints: opts.chunkPoints,
      chunkBytes: opts.chunkBytes,
      windowPoints: opts.windowPoints,
      tls: opts.tlsCert && opts.tlsKey ? { cert: read(opts.tlsCert), key: read(opts.tlsKey) } : undefined,
    };
    protoPath();
  } catch (e) {
    fail(e, log);
    return;
  }
  let server;
  try {
    server = await startGrpcServer(options);
  } catch (e) {
    fail(new SisockError(ErrorCode.LISTEN_FAILED, `cannot listen on ${opts.host}:${opts.port}: ${(e as Error).message}`), log);
    return;
  }
  let ops;
  try {
    const s = server;
    ops = await startOps(planOps(opts, 'grpc'), () => ({ ok: s.client.isReady, address: s.address, router: s.client.options.url }), log);
  } catch (e) {
    await server.close();
    fail(e, log);
    return;
  }
  process.stdout.write(`grpc: ${server.address}\n`);
  log.info({ address: server.address, tls: server.tls, router: server.client.options.url }, 'grpc ready');
  await serveUntilSignal([ops, server], log);
}
