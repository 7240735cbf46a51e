/** The sisock contract: URIs, payload shapes, the time rule and the merge of progressive pieces. */
export * from './types';
export * from './uris';
export { mergeDataResults } from './merge';
export { ALL_TIME, nowSeconds, resolveRelative } from './time';
