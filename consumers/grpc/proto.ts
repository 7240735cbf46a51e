/**
 * Loading `sisock.proto` (package sisock.v1) with @grpc/proto-loader, from source (ts-jest) and from
 * dist/ alike: `tsc` does not copy the .proto, so the file is looked up under the package root
 * (the first directory upwards from here that holds package.json), i.e. always
 * `<root>/consumers/grpc/sisock.proto`. `SISOCK_GRPC_PROTO` overrides the path.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** Options both sides use: field names as in the .proto, int64 as numbers, enums as names. */
export const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true };

export function protoPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SISOCK_GRPC_PROTO) return env.SISOCK_GRPC_PROTO;
  const tried: string[] = [];
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const here = path.join(dir, 'sisock.proto');
    if (existsSync(here)) return here;
    tried.push(here);
    if (existsSync(path.join(dir, 'package.json'))) {
      const file = path.join(dir, 'consumers', 'grpc', 'sisock.proto');
      if (existsSync(file)) return file;
      tried.push(file);
      break;
    }
    if (path.dirname(dir) === dir) break;
  }
  throw new Error(`sisock.proto not found (looked at ${tried.join(', ')}); set SISOCK_GRPC_PROTO`);
}

export interface SisockProto {
  packageDefinition: protoLoader.PackageDefinition;
  /** The service definition (for `server.addService`). */
  service: grpc.ServiceDefinition;
  /** A client constructor: `new Client('127.0.0.1:50051', grpc.credentials.createInsecure())`. */
  Client: grpc.ServiceClientConstructor;
}

/** path → loaded definitions */
const cache = new Map<string, SisockProto>();

export function loadSisockProto(file: string = protoPath()): SisockProto {
  const hit = cache.get(file);
  if (hit) return hit;
  const packageDefinition = protoLoader.loadSync(file, LOADER_OPTIONS);
  const pkg = grpc.loadPackageDefinition(packageDefinition) as unknown as { sisock: { v1: { Sisock: grpc.ServiceClientConstructor } } };
  const Client = pkg.sisock.v1.Sisock;
  const loaded = { packageDefinition, service: Client.service, Client };
  cache.set(file, loaded);
  return loaded;
}
