/** The archive node: a file scanner writing a SQL index, and a reader serving it. */
export { runArchiveNode, runArchiveScanner, type ArchiveNodeOptions, type ArchiveScannerOptions, type ArchiveScannerHandle } from './node';
export { ArchiveSource, DEFAULT_DECODE_WORKERS, mergeSegments, type ArchiveSourceOptions } from './reader';
export { Scanner, ScannerLockedError, SCANNER_LOCK, type ScanResult, type ScanProgress, type ScannerOptions } from './scanner';
export { DIRECT_IO_MODES, type DirectIo } from './file-read';
export { DecodedCache, DEFAULT_CACHE_BYTES, decodedBytes } from './cache';
export { openIndexDb, DEFAULT_DB_URL, SCHEMA_VERSION, type IndexDb } from './index-db';
export { FORMATS, detectFormat, formatByName, FormatError, type FormatReader, type DecodedFile } from './formats';
