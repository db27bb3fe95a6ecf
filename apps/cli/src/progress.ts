import cliProgress from 'cli-progress';
import type { MemberProgress } from './local-train';

export interface ProgressView {
  start(totals: number[]): void;
  update(p: MemberProgress): void;
  stop(): void;
}

/**
 * A progress bar per member on a terminal; on a pipe (or with --json), a throttled line per
 * member on stderr, so stdout keeps only the result.
 */
export function createProgressView(interactive: boolean, log: (line: string) => void): ProgressView {
  return interactive ? barView() : lineView(log);
}

function barView(): ProgressView {
  const multibar = new cliProgress.MultiBar(
    {
      format: ' member {member} |{bar}| {percentage}% | epoch {epoch} | loss {loss} | acc {acc} | {speed} samples/s',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      etaBuffer: 50,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars: cliProgress.SingleBar[] = [];
  return {
    start(totals) {
      totals.forEach((total, member) => {
        bars.push(multibar.create(total, 0, { member, epoch: 1, loss: '-', acc: '-', speed: '-' }));
      });
    },
    update(p) {
      bars[p.member]?.update(p.step, {
        member: p.member,
        epoch: p.epoch + 1,
        loss: p.loss?.toFixed(4) ?? '-',
        acc: p.accuracy?.toFixed(3) ?? '-',
        speed: Math.round(p.samplesPerSecond),
      });
    },
    stop() {
      multibar.stop();
    },
  };
}

function lineView(log: (line: string) => void): ProgressView {
  const lastPrinted = new Map<number, number>();
  const lastStep = new Map<number, string>();
  return {
    start() {},
    update(p) {
      const now = Date.now();
      const done = p.step >= p.totalSteps;
      const key = `${p.member}:${p.step}`;
      if (lastStep.get(p.member) === key) return; // nothing new (polling)
      if (!done && now - (lastPrinted.get(p.member) ?? 0) < 2000) return;
      lastStep.set(p.member, key);
      lastPrinted.set(p.member, now);
      const pct = ((100 * p.step) / p.totalSteps).toFixed(0);
      log(
        `member ${p.member}: ${pct}% (step ${p.step}/${p.totalSteps}, epoch ${p.epoch + 1}) ` +
          `${p.loss !== undefined ? `loss ${p.loss.toFixed(4)} ` : ''}${p.accuracy !== undefined ? `acc ${p.accuracy.toFixed(3)} ` : ''}` +
          `${Math.round(p.samplesPerSecond)} samples/s`,
      );
    },
    stop() {},
  };
}
