import Link from 'next/link';
import { runLetter } from '../../lib/compare';
import { formatEpoch } from '../../lib/format';
import { FINAL_SOURCE_LABELS } from '../../lib/run-final-table';
import { seriesColor } from '../../lib/palette';
import type { CompareRun } from '../../server/compare';
import { RunLetter } from './run-letter';
import styles from './compare.module.css';

/** The compared runs with their letter and colour (the key to every chart and table below). */
export function CompareRunCards({ runs }: { runs: readonly CompareRun[] }) {
  return (
    <ul className={styles.runs} aria-label="Compared runs">
      {runs.map((r, i) => (
        <li
          key={r.id}
          className={styles.runCard}
          style={{ borderLeftColor: seriesColor(i) }}
          data-testid={`compare-run-${r.id}`}
        >
          <RunLetter index={i} />
          <span className="sr-only">Run {runLetter(i)}: </span>
          <Link href={`/runs/${encodeURIComponent(r.id)}`}>{r.name}</Link>{' '}
          <span className={`badge status-${r.status}`}>{r.status}</span>
          <small className="muted">
            {r.datasetName} · {r.model} · {String(r.config.members ?? '?')} member
            {r.config.members === 1 ? '' : 's'} · {String(r.config.sharding ?? '?')}
          </small>
          <small className="muted">
            Final numbers: {r.table ? FINAL_SOURCE_LABELS[r.table.source] : 'no evaluation yet'}
            {r.table?.source === 'round' && r.table.round !== null && ` (${formatEpoch(r.table.round)})`}
          </small>
          <small>
            <Link href={`/runs/new?from=${encodeURIComponent(r.id)}`}>New run from this config</Link>
          </small>
        </li>
      ))}
    </ul>
  );
}
