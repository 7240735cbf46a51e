/** The OCS feed cache node (sisock's data_feed): OCS agents' feeds as fields, with live push. */
export { FeedCache, type FeedCacheOptions, type FeedNaming, type IngestResult } from './source';
export { runFeedNode, feedSubscription, type FeedNodeOptions } from './node';
