/**
 * The format registry: a file's format by extension, else by sniffing its first bytes.
 * Adding a format: write `formats/<name>.ts` exporting a FormatReader and add it to FORMATS.
 */
import * as path from 'node:path';
import { arrowFormat } from './arrow';
import { csvFormat } from './csv';
import { g3Format } from './g3';
import type { FileContext, FormatReader } from './types';
import { weatherFormat } from './weather';

export const FORMATS: readonly FormatReader[] = [weatherFormat, csvFormat, arrowFormat, g3Format];

/** Bytes a caller should read for `sniff`. */
export const SNIFF_BYTES = 4096;

export function formatByName(name: string): FormatReader | undefined {
  return FORMATS.find((f) => f.name === name);
}

/** The format claiming this file's extension (or double extension such as `.g3.gz`), if any. */
export function formatByExtension(relPath: string): FormatReader | undefined {
  const base = path.posix.basename(relPath).toLowerCase();
  const ext = path.posix.extname(base);
  if (!ext) return undefined;
  const ext2 = path.posix.extname(base.slice(0, -ext.length)) + ext;
  return FORMATS.find((f) => f.extensions.includes(ext2)) ?? FORMATS.find((f) => f.extensions.includes(ext));
}

/** The format for a file: by extension, else the first whose sniff accepts `head`. */
export function detectFormat(relPath: string, head?: Buffer): FormatReader | undefined {
  const byExt = formatByExtension(relPath);
  if (byExt || !head) return byExt;
  const ctx: FileContext = { relPath };
  return FORMATS.find((f) => f.sniff?.(head, ctx));
}

export * from './types';
export { weatherFormat, csvFormat, arrowFormat, g3Format };
