import { bestFlags, memberSummary, runLetter } from '../../lib/compare';
import { formatNumber, formatPercent } from '../../lib/format';
import { SUMMARY_MEASURES } from '../../lib/run-diversity';
import type { CompareRun } from '../../server/compare';
import { RunLetter } from './run-letter';
import styles from './compare.module.css';

/**
 * Members and diversity per run (test split): the best and mean member next to the diversity
 * measures — the trade-off the ensemble lives on. Most diverse per measure marked.
 */
export function MembersDiversityTable({ runs }: { runs: readonly CompareRun[] }) {
  const members = runs.map((r) => memberSummary(r.table));
  const bestMember = bestFlags(
    members.map((m) => m?.best),
    false,
  );
  const meanMember = bestFlags(
    members.map((m) => m?.mean),
    false,
  );
  const measures = SUMMARY_MEASURES.map((m) => ({
    ...m,
    flags: bestFlags(
      runs.map((r) => r.diversity?.[m.key]),
      !m.higherIsMoreDiverse,
    ),
  }));
  return (
    <div className={styles.scroll} tabIndex={0} role="region" aria-label="Members and diversity table">
      <table data-testid="compare-diversity">
        <caption className="muted" style={{ captionSide: 'top', textAlign: 'left' }}>
          Test split. Members: ★ = most accurate. Diversity: ★ = most diverse by that measure.
        </caption>
        <thead>
          <tr>
            <th scope="col">Measure</th>
            {runs.map((r, i) => (
              <th scope="col" className="num" key={r.id}>
                <RunLetter index={i} />
                <span className="sr-only">Run {runLetter(i)}</span>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">Best member accuracy</th>
            {runs.map((r, i) => (
              <td key={r.id} className={`num${bestMember[i] ? ' best' : ''}`}>
                {formatPercent(members[i]?.best)}
              </td>
            ))}
          </tr>
          <tr>
            <th scope="row">Mean member accuracy</th>
            {runs.map((r, i) => (
              <td key={r.id} className={`num${meanMember[i] ? ' best' : ''}`}>
                {formatPercent(members[i]?.mean)}
              </td>
            ))}
          </tr>
          {measures.map((m) => (
            <tr key={m.key}>
              <th scope="row" title={m.hint}>
                {m.label} <small className="muted">({m.hint})</small>
              </th>
              {runs.map((r, i) => (
                <td key={r.id} className={`num${m.flags[i] ? ' best' : ''}`}>
                  {formatNumber(r.diversity?.[m.key], 3)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
