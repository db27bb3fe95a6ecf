import type { RunResult } from '@chorus/protocol';
import { boxedTable, renderTable, stdoutColor } from './table';

const fmt = (x: number, digits = 4) => x.toFixed(digits);
/** A gain in accuracy as signed percentage points, written as the dashboard writes it (+1.25 pp, −0.30 pp). */
export const formatGain = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(2)} pp`;

/**
 * The end-of-run tables: members, each voting strategy on the test split, diversity. Compact
 * (no rule between rows), at most 100 columns wide, coloured headers only where colours belong.
 */
export function formatRunReport(result: RunResult, options: { color?: boolean } = {}): string {
  const color = options.color ?? stdoutColor();
  const members = boxedTable(['member', 'val accuracy', 'test accuracy', 'weight', 'samples/s'], color);
  for (const m of result.members) {
    members.push([
      m.index,
      fmt(m.valAccuracy),
      fmt(m.testAccuracy),
      fmt(result.weights[m.index] ?? 0, 3),
      Math.round(m.samplesPerSecond).toLocaleString('en-US'),
    ]);
  }
  const strategies = boxedTable(
    ['strategy (test)', 'accuracy', 'NLL', 'Brier', 'ECE', 'vs best member', 'vs mean member'],
    color,
  );
  for (const [name, s] of Object.entries(result.ensemble)) {
    strategies.push([
      name,
      fmt(s.accuracy),
      fmt(s.nll),
      fmt(s.brier),
      fmt(s.ece),
      formatGain(s.gainOverBest),
      formatGain(s.gainOverMean),
    ]);
  }
  const d = result.diversity;
  const diversity = boxedTable(['diversity (test)', 'value'], color);
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
  const tables = [members, strategies, diversity];
  if (result.classes !== undefined) tables.push(classTable(result.classes, color));
  return tables.map(renderTable).join('\n');
}

/** Each class by name: its test rows and the soft vote's accuracy on them (at most 50 classes shown). */
function classTable(classes: NonNullable<RunResult['classes']>, color: boolean) {
  const table = boxedTable(['class (test)', 'rows', 'soft vote accuracy'], color);
  const shown = Math.min(classes.names.length, 50);
  for (let c = 0; c < shown; c++) {
    table.push([classes.names[c] ?? String(c), classes.testCount[c] ?? 0, fmt(classes.softVoteAccuracy[c] ?? 0)]);
  }
  if (classes.names.length > shown) table.push([`… ${classes.names.length - shown} more classes`, '', '']);
  return table;
}
