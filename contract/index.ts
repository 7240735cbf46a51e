/** The sisock contract: URIs, payload shapes, the time rule and the merge of progressive pieces. */
export * from './types';
export * from './uris';
export { mergeDataResults } from './merge';
export { ALL_TIME, nowSeconds, resolveRelative } from './time';
export { boundNodeStatus, MAX_STATUS_KEYS, MAX_STATUS_KEY, MAX_STATUS_STRING, STATUS_TIMEOUT_MS, HUB_CALL_TIMEOUT_MS } from './status';
export type { NodeStatus, NodeStatusValue } from './status';
