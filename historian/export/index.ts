/** The TSDB exporter: line protocol, disk buffer, batched writer, dead letters (see exporter.ts). */
export { Exporter, openExporter, type ExporterOptions, type ExporterStats } from './exporter';
export { LineBuffer, DEFAULT_BUFFER_BYTES } from './buffer';
export { DeadLetters, DEFAULT_DEAD_LETTER_BYTES } from './dead-letter';
export { Namer, DEFAULT_NAMING, timelineOf, type NamingConfig } from './naming';
export { Target, redactUrl, credentialsFromEnv, type TargetConfig, type TargetKind } from './target';
export { Writer, type WriterOptions } from './writer';
export * from './line-protocol';
