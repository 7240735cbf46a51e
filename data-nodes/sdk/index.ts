/** The data-node SDK: turn a DataSource into a sisock data node. See node.ts for the protocol. */
export { runDataNode, defaultMaxMessageBytes } from './node';
export type { DataNodeOptions, DataNodeHandle } from './node';
export { Announcer, ANNOUNCE_RETRY_MS } from './announce';
export type { AnnouncerClient } from './announce';
export { ResultFitter, budgetFor } from './fit';
export type { FitRequest, FitterOptions } from './fit';
export {
  DataSourceError,
  InvalidRequestError,
  NotFoundError,
  TooLargeError,
  UnavailableError,
  ResultTooLargeError,
  toHandlerError,
} from './errors';
export type { DataSourceErrorCode } from './errors';
export { ArgumentError, parseGetDataArgs, parseGetFieldsArgs, resolveTime } from './args';
export type { GetDataArgs, TimeRange } from './args';
export { splitResult, jsonSize, jsonSizeBound } from './chunk';
export { downsampleMinMax, lowerBound, StrideKeeper } from './downsample';
export type { Series } from './downsample';
export { RingSource, PeriodicRingSource } from './ring-source';
export type { RingFieldSpec } from './ring-source';
export { RingBuffer } from './ring-buffer';
export type { ChannelSpec } from './ring-buffer';
export { mergeDataResults } from '../../contract';
export * from './types';
