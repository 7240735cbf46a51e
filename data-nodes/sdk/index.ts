/** The data-node SDK: turn a DataSource into a sisock data node. See node.ts for the protocol. */
export { runDataNode, defaultMaxMessageBytes } from './node';
export type { DataNodeOptions, DataNodeHandle } from './node';
export { ArgumentError, parseGetDataArgs, parseGetFieldsArgs, resolveTime } from './args';
export type { GetDataArgs, TimeRange } from './args';
export { splitResult, jsonSize, jsonSizeBound } from './chunk';
export * from './types';
