import { loadavg } from 'node:os';
import type { RunResult } from '@chorus/protocol';

/** The q-quantile (0–1) of the values by nearest rank; NaN for none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

export const median = (values: readonly number[]): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

export const loadLine = (): string =>
  loadavg()
    .map((v) => v.toFixed(2))
    .join(' / ');

/** Every accuracy of a result, named: members' validation/test accuracy, each strategy's test accuracy. */
export function accuracies(result: RunResult): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of result.members) {
    out.set(`member ${m.index} val`, m.valAccuracy);
    out.set(`member ${m.index} test`, m.testAccuracy);
  }
  for (const [strategy, scores] of Object.entries(result.ensemble))
    out.set(`ensemble ${strategy}`, scores.accuracy);
  return out;
}

/** Differences between two results' accuracies ('' when they are identical). */
export function compareAccuracies(a: RunResult, b: RunResult): string {
  const x = accuracies(a);
  const y = accuracies(b);
  const diffs: string[] = [];
  for (const key of new Set([...x.keys(), ...y.keys()])) {
    const u = x.get(key);
    const v = y.get(key);
    if (u === undefined || v === undefined || Math.abs(u - v) > 1e-12) diffs.push(`${key}: ${u} vs ${v}`);
  }
  return diffs.join('; ');
}

export const fmt = (v: number, digits = 2): string => (Number.isFinite(v) ? v.toFixed(digits) : '-');
