import { compareTable, runLetter } from '../../lib/compare';
import { formatGain, formatNumber, formatPercent } from '../../lib/format';
import {
  FINAL_METRICS,
  FINAL_METRIC_LABELS,
  LOWER_IS_BETTER,
  type FinalMetric,
} from '../../lib/run-final-table';
import type { CompareRun } from '../../server/compare';
import { RunLetter } from './run-letter';
import styles from './compare.module.css';

export function formatMetric(metric: FinalMetric, value: number | undefined): string {
  if (metric === 'accuracy') return formatPercent(value);
  if (metric === 'gainOverBest' || metric === 'gainOverMean') return formatGain(value);
  return formatNumber(value, 4);
}

/**
 * The final test-split table of every run: per voting strategy one row per run; in each
 * (strategy, metric) the best value across the runs is marked (td.best).
 */
export function CompareTable({ runs }: { runs: readonly CompareRun[] }) {
  const groups = compareTable(runs.map((r) => ({ id: r.id, table: r.table })));
  const index = new Map(runs.map((r, i) => [r.id, i]));
  if (groups.length === 0) {
    return <p className="notice">No run has an evaluation yet: the table fills in after the first epoch.</p>;
  }
  return (
    <div className={styles.scroll} tabIndex={0} role="region" aria-label="Final table, by strategy and run">
      <table className={styles.table} data-testid="compare-table">
        <caption className="muted" style={{ captionSide: 'top', textAlign: 'left' }}>
          Test split. ★ = the best of the runs for that strategy (NLL, Brier, ECE: lower is better).
        </caption>
        <thead>
          <tr>
            <th scope="col">Strategy</th>
            <th scope="col">Run</th>
            {FINAL_METRICS.map((m) => (
              <th
                scope="col"
                className="num"
                key={m}
                title={LOWER_IS_BETTER[m] ? 'lower is better' : 'higher is better'}
              >
                {FINAL_METRIC_LABELS[m]} {LOWER_IS_BETTER[m] ? '↓' : '↑'}
              </th>
            ))}
          </tr>
        </thead>
        {groups.map((group) => (
          <tbody key={group.strategy}>
            {group.rows.map((row, k) => {
              const i = index.get(row.runId) ?? 0;
              return (
                <tr key={row.runId} data-strategy={group.strategy} data-run={row.runId}>
                  {k === 0 && (
                    <th scope="rowgroup" rowSpan={group.rows.length}>
                      {group.strategy}
                    </th>
                  )}
                  <td className={styles.runCell}>
                    <RunLetter index={i} />
                    <span className="sr-only">Run {runLetter(i)}</span>
                  </td>
                  {FINAL_METRICS.map((m) => {
                    const cell = row.cells[m];
                    return (
                      <td
                        key={m}
                        className={`num${cell.best ? ' best' : ''}`}
                        data-run={row.runId}
                        data-strategy={group.strategy}
                        data-metric={m}
                        {...(cell.value !== undefined && { 'data-value': String(cell.value) })}
                        {...(cell.best && { 'aria-label': `${formatMetric(m, cell.value)}, best` })}
                      >
                        {formatMetric(m, cell.value)}
                      </td>
                    );
                  })}
                </tr>
              );
            })}
          </tbody>
        ))}
      </table>
    </div>
  );
}
