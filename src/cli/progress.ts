// A progress line for long operations (image import, export, promote): a bar with percent,
// bytes, speed and time left on a terminal; a line every 10% when the output is a log file.
import { formatBytes } from './format-bytes.ts';

export interface Progress {
  update(fraction: number): void;
  done(message: string): void;
}

export function progressBar(label: string, totalBytes: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  const started = Date.now();
  let lastDecile = -1;
  let lastDraw = 0;
  const line = (fraction: number): string => {
    const seconds = (Date.now() - started) / 1000;
    const done = fraction * totalBytes;
    const rate = seconds > 0 ? done / seconds : 0;
    const left = rate > 0 ? (totalBytes - done) / rate : NaN;
    const width = 30;
    const filled = Math.round(fraction * width);
    const eta = Number.isFinite(left) && fraction > 0.01 ? `, ${left < 90 ? `${Math.ceil(left)} s` : `${Math.ceil(left / 60)} min`} left` : '';
    return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${formatBytes(done)} of ${formatBytes(totalBytes)}, ${formatBytes(rate)}/s${eta}`;
  };
  return {
    update(fraction) {
      const f = Math.min(1, Math.max(0, fraction));
      if (stream.isTTY === true) {
        if (Date.now() - lastDraw < 100 && f < 1) return;
        lastDraw = Date.now();
        stream.write(`\r${line(f)}\x1b[K`);
        return;
      }
      const decile = Math.floor(f * 10);
      if (decile > lastDecile) {
        lastDecile = decile;
        stream.write(`${line(f)}\n`);
      }
    },
    done(message) {
      if (stream.isTTY === true) stream.write(`\r${line(1)}\x1b[K\n`);
      stream.write(`${message}\n`);
    },
  };
}
