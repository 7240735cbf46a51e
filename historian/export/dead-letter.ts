/**
 * The dead-letter file: lines the database refused (or that broke InfluxDB's rules before being
 * written), one JSON object per line, appended:
 *
 *   {"at": "2026-12-06T04:30:00.000Z", "reason": "field type conflict: …", "status": 400, "line": "…"}
 *   {"at": …, "reason": "float value NaN cannot be written …", "node": "sim", "field": "x", "t": 1.7e9, "value": null}
 *
 * Bounded: beyond `maxBytes` (default 256 MiB) the file is renamed to `<file>.1` (replacing the
 * previous one) and a new one begun, so at most twice the bound is kept.
 */
import * as fs from 'node:fs';

export const DEFAULT_DEAD_LETTER_BYTES = 256 * 1024 * 1024;

export class DeadLetters {
  private size: number;

  constructor(
    readonly path: string,
    readonly maxBytes = DEFAULT_DEAD_LETTER_BYTES,
  ) {
    try {
      this.size = fs.statSync(path).size;
    } catch {
      this.size = 0;
    }
  }

  write(entries: Array<Record<string, unknown>>): void {
    if (entries.length === 0) return;
    const at = new Date().toISOString();
    const text = entries.map((e) => JSON.stringify({ at, ...e })).join('\n') + '\n';
    if (this.size > 0 && this.size + text.length > this.maxBytes) {
      fs.renameSync(this.path, `${this.path}.1`);
      this.size = 0;
    }
    fs.appendFileSync(this.path, text);
    this.size += Buffer.byteLength(text);
  }

  /** Every entry in the current file (tests, `sisock export dead-letters`). */
  read(): Array<Record<string, unknown>> {
    let text = '';
    try {
      text = fs.readFileSync(this.path, 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}
