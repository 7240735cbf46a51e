/**
 * The sisock package's face for projects outside this repository (`npm pack`, then depend on the
 * tarball): the data-node SDK, its downsampling helpers and the client.
 *
 *   import { runDataNode, clientOptionsFromEnv, type DataSource } from 'sisock';
 *   import { createClient, getData, listNodes } from 'sisock';
 *
 * The command line (`sisock router|hub|node|get …`) is the package's `bin`.
 */
export * from './data-nodes/sdk';
export { downsampleMinMax, lowerBound, StrideKeeper, type Series } from './data-nodes/sdk/downsample';
export { RingSource, PeriodicRingSource, type RingFieldSpec } from './data-nodes/sdk/ring-source';
export * from './client';
export { ALL_TIME, nowSeconds, resolveRelative, HubUri, NodeUri, CONSUMER_PREFIX } from './contract';
export { SisockError, ErrorCode } from './common/errors';
