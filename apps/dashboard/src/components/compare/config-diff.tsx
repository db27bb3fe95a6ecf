import { configDiff, runLetter } from '../../lib/compare';
import type { CompareRun } from '../../server/compare';
import { RunLetter } from './run-letter';
import styles from './compare.module.css';

/** Only the config keys whose values differ between the runs; the shared ones folded below. */
export function ConfigDiff({ runs }: { runs: readonly CompareRun[] }) {
  const diff = configDiff(runs.map((r) => r.config));
  return (
    <section className="panel" aria-labelledby="config-diff-title" data-testid="compare-config-diff">
      <h2 id="config-diff-title">Config differences</h2>
      {diff.differing.length === 0 ? (
        <p>These runs have the same config.</p>
      ) : (
        <div className={styles.scroll} tabIndex={0} role="region" aria-label="Config differences table">
          <table className={styles.diff}>
            <thead>
              <tr>
                <th scope="col">Setting</th>
                {runs.map((r, i) => (
                  <th scope="col" key={r.id}>
                    <RunLetter index={i} />
                    <span className="sr-only">Run {runLetter(i)}: </span>
                    {r.name}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {diff.differing.map((row) => (
                <tr key={row.key} data-key={row.key}>
                  <th scope="row">{row.key}</th>
                  {row.values.map((v, i) => (
                    <td key={runs[i]?.id ?? i} className={styles.changed} data-run={runs[i]?.id}>
                      {v}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {diff.same.length > 0 && (
        <details className={styles.same}>
          <summary>{diff.same.length} settings are the same in every run</summary>
          <ul>
            {diff.same.map((s) => (
              <li key={s.key}>
                {s.key}: {s.value}
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}
