/** The gRPC data API (sisock.proto, package sisock.v1): server, proto loading, chunking. */
export { startGrpcServer, DEFAULT_GRPC_PORT } from './server';
export type { GrpcServerOptions, RunningGrpcServer, CallRecord } from './server';
export { loadSisockProto, protoPath, LOADER_OPTIONS } from './proto';
export type { SisockProto } from './proto';
export { chunkGroup, groupByTimeline, makeColumn, chunkPoints } from './chunks';
export type { ChunkMsg, ColumnMsg, ChunkLimits } from './chunks';
export { GrpcError, toGrpcError } from './errors';
export { WindowPlanner } from './window';
