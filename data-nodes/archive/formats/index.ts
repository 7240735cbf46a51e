/**
 * The format registry: a file's format by extension, else by sniffing its first bytes.
 * Adding a format: write `formats/<name>.ts` exporting a FormatReader and add it to FORMATS.
 */
import * as path from 'node:path';
import { arrowFormat } from './arrow';
import { csvFormat } from './csv';
import type { FileContext, FormatReader } from './types';
import { weatherFormat } from './weather';

export const FORMATS: readonly FormatReader[] = [weatherFormat, csvFormat, arrowFormat];

/** Bytes a caller should read for `sniff`. */
export const SNIFF_BYTES = 4096;

export function formatByName(name: string): FormatReader | undefined {
  return FORMATS.find((f) => f.name === name);
}

/** The format claiming this file's extension, if any. */
export function formatByExtension(relPath: string): FormatReader | undefined {
  const ext = path.posix.extname(relPath).toLowerCase();
  return ext ? FORMATS.find((f) => f.extensions.includes(ext)) : undefined;
}

/** The format for a file: by extension, else the first whose sniff accepts `head`. */
export function detectFormat(relPath: string, head?: Buffer): FormatReader | undefined {
  const byExt = formatByExtension(relPath);
  if (byExt || !head) return byExt;
  const ctx: FileContext = { relPath };
  return FORMATS.find((f) => f.sniff?.(head, ctx));
}

export * from './types';
export { weatherFormat, csvFormat, arrowFormat };
