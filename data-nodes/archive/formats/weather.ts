/**
 * The original sisock weather text format (`# description`, `# timeline`, `# units`, then
 * `<unix time> <value>` lines): one field per file, named after the file without its extension.
 * Parsing is the weather node's pure `parseWeatherFile`; this module adapts it to the archive's
 * reader interface. A file without a timeline line gets a timeline named after its field.
 */
import * as path from 'node:path';
import { parseWeatherFile } from '../../weather/format';
import { decodeText, medianSpacing, type DecodedFile, type FileContext, type FormatReader } from './types';

export const weatherFormat: FormatReader = {
  name: 'weather',
  extensions: ['.dat'],
  sniff(head: Buffer): boolean {
    const lines = head
      .toString('latin1')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '');
    if (lines.length < 2 || !lines[0]?.startsWith('#')) return false;
    const data = lines.find((l) => !l.startsWith('#'));
    return data !== undefined && /^[+-]?[\d.]+([eE][+-]?\d+)?\s+(\S+)$/.test(data);
  },
  decode(content: Buffer, ctx: FileContext): DecodedFile {
    const p = parseWeatherFile(decodeText(content));
    const field = path.posix.basename(ctx.relPath).replace(/\.[^.]*$/, '');
    if (p.t.length === 0) return { timelines: [], badRows: p.badLines };
    return {
      badRows: p.badLines,
      timelines: [
        {
          name: p.header.timeline ?? field,
          t: p.t,
          interval: medianSpacing(p.t),
          columns: [{ name: field, type: 'number', units: p.header.units, description: p.header.description, values: p.v }],
        },
      ],
    };
  },
};
