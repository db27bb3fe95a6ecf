'use client';

import { useState } from 'react';
import Link from 'next/link';
import type { BestStrategy, RunListItem } from '@chorus/protocol';
import { formatDuration, formatEpoch, formatPercent } from '../../lib/format';
import { Time } from './time';
import styles from './runs.module.css';
import list from '../list-table.module.css';

export const MIN_COMPARE = 2;
export const MAX_COMPARE = 4;

function bestSourceText(best: BestStrategy): string {
  if (best.source === 'result') return 'final result';
  if (best.source === 'round' && best.round !== null) return formatEpoch(best.round);
  return 'live, members’ latest epochs';
}

function BestCell({ best }: { best: BestStrategy | null }) {
  if (!best) return <span className="muted">no evaluation yet</span>;
  return (
    <>
      <span className={styles.strategy}>{best.strategy}</span> <strong>{formatPercent(best.accuracy)}</strong>
      <br />
      <small className="muted">{bestSourceText(best)}</small>
    </>
  );
}

/**
 * The runs, newest first, with checkboxes to pick two to four of them for the Compare page.
 * `now` comes from the server render so running durations read the same on both sides.
 */
export function RunsTable({ runs, now }: { runs: readonly RunListItem[]; now: string }) {
  const [selected, setSelected] = useState<readonly string[]>([]);
  const toggle = (id: string, on: boolean) =>
    setSelected((current) =>
      on ? [...current.filter((x) => x !== id), id] : current.filter((x) => x !== id),
    );
  const known = selected.filter((id) => runs.some((r) => r.id === id));
  const full = known.length >= MAX_COMPARE;
  const ready = known.length >= MIN_COMPARE;

  return (
    <>
      <div className="toolbar" aria-label="Compare runs">
        {ready ? (
          <Link
            className="button"
            href={`/compare?runs=${known.map(encodeURIComponent).join(',')}`}
            data-testid="compare-selected"
          >
            Compare selected ({known.length})
          </Link>
        ) : (
          <button type="button" disabled data-testid="compare-selected">
            Compare selected ({known.length})
          </button>
        )}
        <span className="muted" aria-live="polite">
          {full
            ? `${MAX_COMPARE} runs selected (the most a comparison shows).`
            : `Tick ${MIN_COMPARE}–${MAX_COMPARE} runs to compare them side by side.`}
        </span>
        {known.length > 0 && (
          <button type="button" className="secondary" onClick={() => setSelected([])}>
            Clear selection
          </button>
        )}
      </div>
      <div className={list.scroll}>
        <table className={list.table} data-testid="runs-table">
          <caption className={list.caption}>
            Runs, newest first. Best strategy: the most accurate voting strategy on the test split.
          </caption>
          <thead>
            <tr>
              <th scope="col">
                <span className="sr-only">Compare</span>
              </th>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">Dataset</th>
              <th scope="col">Model</th>
              <th scope="col" className="num">
                Members
              </th>
              <th scope="col">Sharding</th>
              <th scope="col">Best strategy (test)</th>
              <th scope="col">Created</th>
              <th scope="col">Started</th>
              <th scope="col">Finished</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((run) => {
              const checked = known.includes(run.id);
              const terminal =
                run.status === 'completed' || run.status === 'failed' || run.status === 'cancelled';
              return (
                <tr
                  key={run.id}
                  data-testid={`run-row-${run.id}`}
                  className={checked ? styles.selected : undefined}
                >
                  <td>
                    <input
                      type="checkbox"
                      checked={checked}
                      disabled={!checked && full}
                      onChange={(e) => toggle(run.id, e.target.checked)}
                      aria-label={`Select ${run.name} for comparison`}
                    />
                  </td>
                  <td className={styles.name}>
                    <Link href={`/runs/${encodeURIComponent(run.id)}`} title={`run ${run.id}`}>
                      {run.name}
                    </Link>
                  </td>
                  <td data-testid={`run-status-${run.id}`}>
                    <span className={`badge status-${run.status}`}>{run.status}</span>
                    {run.error && (
                      <small className={`error-text ${styles.error}`} title={run.error}>
                        {run.error}
                      </small>
                    )}
                  </td>
                  <td>{run.datasetName}</td>
                  <td>{run.modelFile ?? run.model ?? '—'}</td>
                  <td className="num">{run.members ?? '—'}</td>
                  <td className={styles.nowrap}>{run.sharding ?? '—'}</td>
                  <td>
                    <BestCell best={run.best} />
                  </td>
                  <td>
                    <Time value={run.createdAt} />
                  </td>
                  <td>
                    <Time value={run.startedAt} sameDayAs={run.createdAt} />
                  </td>
                  <td>
                    {terminal ? (
                      <>
                        <Time value={run.finishedAt} sameDayAs={run.startedAt ?? run.createdAt} />
                        {run.startedAt && (
                          <>
                            <br />
                            <small className="muted">
                              took {formatDuration(run.startedAt, run.finishedAt)}
                            </small>
                          </>
                        )}
                      </>
                    ) : run.startedAt ? (
                      <small className="muted">running for {formatDuration(run.startedAt, now)}</small>
                    ) : (
                      <small className="muted">waiting for a worker</small>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </>
  );
}
