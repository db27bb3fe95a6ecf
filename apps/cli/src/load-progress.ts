import type { LoadProgress } from '@chorus/data';

/**
 * A progress callback for reading a large dataset file: one stderr line at most every
 * `everyMs` (rows or images read, share of the file or folder), nothing for a file read in under a second.
 */
export function loadProgressLogger(
  log: (line: string) => void,
  clock: () => number = () => performance.now(),
  everyMs = 1_000,
): (progress: LoadProgress) => void {
  const started = clock();
  let last = started;
  return (p) => {
    const now = clock();
    if (now - last < everyMs) return;
    last = now;
    const percent = p.totalBytes > 0 ? Math.min(100, Math.round((100 * p.bytesRead) / p.totalBytes)) : 0;
    const rate = Math.round(p.rows / ((now - started) / 1000));
    const unit = p.unit ?? 'rows';
    log(`reading ${p.path}: ${p.rows.toLocaleString('en-US')} ${unit} (${percent}%, ${rate.toLocaleString('en-US')} ${unit}/s)`);
  };
}
