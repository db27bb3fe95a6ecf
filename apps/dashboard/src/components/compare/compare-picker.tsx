import { MAX_COMPARE, runLetter } from '../../lib/compare';
import type { CompareChoice } from '../../server/compare';
import styles from './compare.module.css';

/**
 * Picks the runs to compare: a plain GET form (`?run=a&run=b…`), so it works before any script
 * has loaded. Empty selects are ignored.
 */
export function ComparePicker({
  choices,
  selected,
}: {
  choices: readonly CompareChoice[];
  selected: readonly string[];
}) {
  return (
    <form
      method="get"
      action="/compare"
      className={`panel ${styles.picker}`}
      aria-label="Pick runs to compare"
      data-testid="compare-picker"
    >
      {Array.from({ length: MAX_COMPARE }, (_, i) => (
        <div className="field" key={i}>
          <label htmlFor={`compare-run-${i}`}>
            <strong>Run {runLetter(i)}</strong> {i >= 2 && <span className="muted">(optional)</span>}
          </label>
          <select id={`compare-run-${i}`} name="run" defaultValue={selected[i] ?? ''}>
            <option value="">—</option>
            {choices.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name} · {c.status} · {c.createdAt.toISOString().slice(0, 16).replace('T', ' ')}
              </option>
            ))}
          </select>
        </div>
      ))}
      <button type="submit">Compare</button>
    </form>
  );
}
