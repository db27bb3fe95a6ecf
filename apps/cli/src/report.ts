import Table from 'cli-table3';
import type { RunResult } from '@chorus/protocol';

const fmt = (x: number, digits = 4) => x.toFixed(digits);
const signed = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)} pt`;

/** The end-of-run tables: members, each voting strategy on the test split, diversity. */
export function formatRunReport(result: RunResult): string {
  const members = new Table({ head: ['member', 'val accuracy', 'test accuracy', 'weight', 'samples/s'] });
  for (const m of result.members) {
    members.push([
      m.index,
      fmt(m.valAccuracy),
      fmt(m.testAccuracy),
      fmt(result.weights[m.index] ?? 0, 3),
      Math.round(m.samplesPerSecond).toLocaleString('en-US'),
    ]);
  }
  const strategies = new Table({
    head: ['strategy (test)', 'accuracy', 'NLL', 'Brier', 'ECE', 'vs best member', 'vs mean member'],
  });
  for (const [name, s] of Object.entries(result.ensemble)) {
    strategies.push([
      name,
      fmt(s.accuracy),
      fmt(s.nll),
      fmt(s.brier),
      fmt(s.ece),
      signed(s.gainOverBest),
      signed(s.gainOverMean),
    ]);
  }
  const d = result.diversity;
  const diversity = new Table({ head: ['diversity (test)', 'value'] });
  diversity.push(
    ['disagreement (mean pairwise)', fmt(d.disagreement)],
    ['Q statistic (mean pairwise)', fmt(d.qStatistic)],
    ['correlation ρ (mean pairwise)', fmt(d.correlation)],
    ['double fault (mean pairwise)', fmt(d.doubleFault)],
    ["Cohen's κ (mean pairwise)", fmt(d.kappa)],
    ['entropy E', fmt(d.entropy)],
    ['Kohavi–Wolpert variance', fmt(d.kwVariance)],
    ['interrater κ', fmt(d.interraterKappa)],
    ...(d.ambiguity !== undefined ? [['ambiguity (to the soft vote)', fmt(d.ambiguity)]] : []),
  );
  return [members.toString(), strategies.toString(), diversity.toString()].join('\n');
}
