/**
 * Scan progress for people and for logs: a cli-progress bar (files, files/s, MB/s) when stderr is a
 * terminal, else a JSON log line (pino) every `everyMs` and at the end of each phase.
 */
import { SingleBar, Presets } from 'cli-progress';
import type { Logger } from '../../common/log';
import type { ScanProgress } from './scanner';

export interface ProgressReporter {
  update(p: ScanProgress): void;
  stop(): void;
}

const mb = (b: number) => b / (1024 * 1024);

export function progressBar(stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  let bar: SingleBar | null = null;
  return {
    update(p) {
      if (p.phase !== 'index') return;
      if (!bar) {
        bar = new SingleBar(
          {
            stream,
            format: 'scan |{bar}| {value}/{total} files | {fps} files/s | {mbps} MB/s | {eta_formatted}',
            hideCursor: true,
            clearOnComplete: false,
          },
          Presets.shades_classic,
        );
        bar.start(p.filesTotal, 0, { fps: '0', mbps: '0.0' });
      }
      const s = Math.max(p.elapsed, 1e-3);
      bar.setTotal(p.filesTotal);
      bar.update(p.files, { fps: (p.files / s).toFixed(0), mbps: (mb(p.bytes) / s).toFixed(1) });
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}

export function progressLog(log: Logger, everyMs = 2000): ProgressReporter {
  let last = 0;
  let lastPhase = '';
  return {
    update(p) {
      const now = performance.now();
      const done = p.phase === 'index' && p.files === p.filesTotal;
      if (p.phase === lastPhase && !done && now - last < everyMs) return;
      if (p.phase === 'index' && p.filesTotal === 0) return;
      last = now;
      lastPhase = p.phase;
      const s = Math.max(p.elapsed, 1e-3);
      log.info(
        {
          phase: p.phase,
          files: p.files,
          files_total: p.filesTotal,
          bytes: p.bytes,
          bytes_total: p.bytesTotal,
          files_per_s: Math.round(p.files / s),
          mb_per_s: Math.round((mb(p.bytes) / s) * 10) / 10,
          elapsed_s: Math.round(s * 10) / 10,
        },
        'scan progress',
      );
    },
    stop() {},
  };
}
