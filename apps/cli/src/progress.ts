import cliProgress from 'cli-progress';
import type { MemberProgress } from './local-train';

export interface ProgressView {
  start(totals: number[]): void;
  update(p: MemberProgress): void;
  /** A line of its own (above the bars on a terminal, so that they are not torn apart). */
  log(line: string): void;
  stop(): void;
}

/**
 * A progress bar per member on a terminal; on a pipe (or with --json), a throttled line per
 * member on stderr, so stdout keeps only the result. An update without loss/accuracy (a run's
 * view over HTTP) keeps the member's last ones; a total that changes (a plan now known) is taken.
 */
export function createProgressView(interactive: boolean, log: (line: string) => void): ProgressView {
  return interactive ? barView() : lineView(log);
}

function barView(): ProgressView {
  const multibar = new cliProgress.MultiBar(
    {
      format:
        ' member {member} |{bar}| {percentage}% | epoch {epoch} | loss {loss} | acc {acc} | {speed} samples/s',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      etaBuffer: 50,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars: cliProgress.SingleBar[] = [];
  const totals: number[] = [];
  const last = lastFigures();
  return {
    start(initial) {
      initial.forEach((total, member) => {
        totals.push(total);
        bars.push(multibar.create(total, 0, { member, epoch: 1, loss: '-', acc: '-', speed: '-' }));
      });
    },
    update(p) {
      const bar = bars[p.member];
      if (!bar) return;
      if (p.totalSteps > 0 && p.totalSteps !== totals[p.member]) {
        totals[p.member] = p.totalSteps;
        bar.setTotal(p.totalSteps);
      }
      const { loss, accuracy } = last(p);
      bar.update(p.step, {
        member: p.member,
        epoch: p.epoch + 1,
        loss: loss?.toFixed(4) ?? '-',
        acc: accuracy?.toFixed(3) ?? '-',
        speed: Math.round(p.samplesPerSecond),
      });
    },
    log(line) {
      // MultiBar prints its log lines with its next redraw, which only comes once bars exist.
      if (bars.length === 0) process.stderr.write(`${line}\n`);
      else multibar.log(`${line}\n`);
    },
    stop() {
      multibar.stop();
    },
  };
}

function lineView(log: (line: string) => void): ProgressView {
  const lastPrinted = new Map<number, number>();
  const lastStep = new Map<number, string>();
  const last = lastFigures();
  return {
    start() {},
    update(p) {
      const { loss, accuracy } = last(p);
      const now = Date.now();
      const done = p.step >= p.totalSteps;
      const key = `${p.member}:${p.step}`;
      if (lastStep.get(p.member) === key) return; // nothing new (polling)
      if (!done && now - (lastPrinted.get(p.member) ?? 0) < 2000) return;
      lastStep.set(p.member, key);
      lastPrinted.set(p.member, now);
      if (p.totalSteps <= 0) return; // the plan is not known yet
      const pct = ((100 * p.step) / p.totalSteps).toFixed(0);
      log(
        `member ${p.member}: ${pct}% (step ${p.step}/${p.totalSteps}, epoch ${p.epoch + 1}) ` +
          `${loss !== undefined ? `loss ${loss.toFixed(4)} ` : ''}${accuracy !== undefined ? `acc ${accuracy.toFixed(3)} ` : ''}` +
          `${Math.round(p.samplesPerSecond)} samples/s`,
      );
    },
    log,
    stop() {},
  };
}

/** Each member's latest loss and accuracy: those of `p`, else the last ones seen. */
function lastFigures(): (p: MemberProgress) => { loss?: number; accuracy?: number } {
  const seen = new Map<number, { loss?: number; accuracy?: number }>();
  return (p) => {
    const before = seen.get(p.member) ?? {};
    const now = {
      ...before,
      ...(p.loss !== undefined && { loss: p.loss }),
      ...(p.accuracy !== undefined && { accuracy: p.accuracy }),
    };
    seen.set(p.member, now);
    return now;
  };
}

/** Progress of `chorus predict`. */
export interface RowsProgress {
  update(done: number): void;
  stop(): void;
}

/** Rows predicted so far, on stderr: a bar on a terminal, else a line every 5 s and one at the end. */
export function createRowsProgress(
  total: number,
  interactive: boolean,
  log: (line: string) => void,
): RowsProgress {
  if (interactive) {
    const bar = new cliProgress.SingleBar(
      { format: ' predicting |{bar}| {percentage}% | {value}/{total} rows', hideCursor: true, fps: 5 },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return { update: (done) => bar.update(done), stop: () => bar.stop() };
  }
  let last = 0;
  let shown = -1;
  return {
    update(done) {
      const now = Date.now();
      if (done < total && now - last < 5000) return;
      last = now;
      if (done === shown) return;
      shown = done;
      log(`predicted ${done}/${total} rows`);
    },
    stop() {},
  };
}
