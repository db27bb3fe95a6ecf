import { formatEpoch, formatGain, formatNumber, formatPercent } from '../../lib/format';
import {
  bestValues,
  FINAL_METRIC_LABELS,
  FINAL_METRICS,
  FINAL_SOURCE_LABELS,
  type FinalMetric,
  type FinalTable as FinalTableData,
} from '../../lib/run-final-table';

const formatMetric = (metric: FinalMetric, value: number): string =>
  metric === 'accuracy'
    ? formatPercent(value)
    : metric.startsWith('gain')
      ? formatGain(value)
      : formatNumber(value);

/**
 * The final comparison table (test split): a row per voting strategy (`tr[data-strategy]`), then a
 * row per member (`tr[data-member]`); each cell `td[data-metric][data-value]` carries the raw number
 * and the best value of each column is marked `td.best` (lowest for NLL, Brier and ECE).
 * Build `table` with `finalTableOf` (lib/run-final-table).
 */
export function FinalTable({ table, caption }: { table: FinalTableData; caption?: string }) {
  const best = bestValues(table.rows);
  const source = `${FINAL_SOURCE_LABELS[table.source]}${table.round !== null ? ` (${formatEpoch(table.round)})` : ''}`;
  return (
    <table data-testid="final-table" data-source={table.source}>
      <caption className="muted" style={{ captionSide: 'bottom', textAlign: 'left', paddingTop: 6 }}>
        {caption ?? 'Test split'} — from the {source}. ★ marks the best value of each column (lowest for NLL,
        Brier and ECE).
      </caption>
      <thead>
        <tr>
          <th scope="col">Strategy / member</th>
          {FINAL_METRICS.map((m) => (
            <th key={m} scope="col" className="num">
              {FINAL_METRIC_LABELS[m]}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {table.rows.map((row) => (
          <tr
            key={`${row.kind}:${row.key}`}
            {...(row.kind === 'strategy' ? { 'data-strategy': row.key } : { 'data-member': row.key })}
          >
            <th scope="row" style={{ fontWeight: row.kind === 'strategy' ? 600 : 400 }}>
              {row.label}
            </th>
            {FINAL_METRICS.map((metric) => {
              const value = row.values[metric];
              if (value === undefined) {
                return (
                  <td key={metric} className="num muted" data-metric={metric}>
                    —
                  </td>
                );
              }
              const isBest = best[metric] === value;
              return (
                <td
                  key={metric}
                  className={isBest ? 'num best' : 'num'}
                  data-metric={metric}
                  data-value={String(value)}
                  {...(isBest && { 'aria-label': `${formatMetric(metric, value)} (best)` })}
                >
                  {formatMetric(metric, value)}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
