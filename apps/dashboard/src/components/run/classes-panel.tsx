'use client';

import { useId, useState } from 'react';
import type { StrategyName } from '@chorus/protocol';
import { formatPercent } from '../../lib/format';
import { rowShare, type ClassViews } from '../../lib/run-classes';
import styles from './run.module.css';

/**
 * The run's classes (test split), once its result is stored: a table of each class's accuracy under
 * every strategy and member (`table[data-testid="class-accuracy"]`, rows `tr[data-class]`, cells
 * `td[data-strategy|data-member][data-value]`), and the confusion matrix of the strategy picked
 * (default: the best; `table[data-testid="confusion-matrix"]`, cells `td[data-true][data-predicted]`
 * holding test rows, shaded by their share of the true class's rows). Build `views` with
 * `classViewsOf` (lib/run-classes).
 */
export function ClassesPanel({ views, active }: { views: ClassViews | null; active: boolean }) {
  return (
    <section className={`panel ${styles.section}`} aria-labelledby="classes-heading">
      <h2 id="classes-heading">Classes</h2>
      {views === null ? (
        <p className={styles.empty}>
          {active
            ? 'Each class’s accuracy and the confusion matrix appear when the run has completed.'
            : 'This run stored no per-class figures (it did not complete, or it predates them).'}
        </p>
      ) : (
        <>
          <h3>Accuracy per class</h3>
          <div className={styles.tableScroll} tabIndex={0} role="region" aria-label="Accuracy per class">
            <ClassAccuracyTable views={views} />
          </div>
          <ConfusionMatrix views={views} />
        </>
      )}
    </section>
  );
}

function ClassAccuracyTable({ views }: { views: ClassViews }) {
  return (
    <table data-testid="class-accuracy" data-detailed={String(views.detailed)}>
      <caption className="muted" style={{ captionSide: 'bottom', textAlign: 'left', paddingTop: 6 }}>
        Test split — the share of each class’s test rows labelled right, by each strategy, then each member.
        {!views.detailed &&
          ' This result holds the soft vote’s figures per class only (it predates the others, or its dataset has more than 100 classes).'}
      </caption>
      <thead>
        <tr>
          <th scope="col">Class</th>
          <th scope="col" className="num">
            Test rows
          </th>
          {views.columns.map((col) => (
            <th key={`${col.kind}:${col.key}`} scope="col" className="num">
              {col.label}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {views.names.map((name, c) => (
          <tr key={c} data-class={name}>
            <th scope="row">{name}</th>
            <td className="num" data-metric="testCount" data-value={String(views.testCount[c] ?? 0)}>
              {(views.testCount[c] ?? 0).toLocaleString('en-US')}
            </td>
            {views.columns.map((col) => {
              const value = col.values[c] ?? 0;
              return (
                <td
                  key={`${col.kind}:${col.key}`}
                  className="num"
                  {...(col.kind === 'strategy' ? { 'data-strategy': col.key } : { 'data-member': col.key })}
                  data-value={String(value)}
                >
                  {formatPercent(value, 1)}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ConfusionMatrix({ views }: { views: ClassViews }) {
  const [picked, setPicked] = useState<StrategyName | null>(views.best);
  const selectId = useId();
  const strategy = picked !== null && views.confusion[picked] ? picked : views.best;
  const matrix = strategy !== null ? views.confusion[strategy] : undefined;
  if (strategy === null || matrix === undefined) {
    return (
      <p className={styles.empty} data-testid="confusion-missing">
        This result stores no confusion matrix (it predates them, or its dataset has more than 100 classes).
      </p>
    );
  }
  return (
    <>
      <h3>Confusion matrix</h3>
      <div className="field">
        <label htmlFor={selectId}>Confusion matrix of</label>
        <select
          id={selectId}
          value={strategy}
          onChange={(e) => setPicked(e.target.value as StrategyName)}
          data-testid="confusion-strategy"
        >
          {views.confusionStrategies.map((s) => (
            <option key={s} value={s}>
              {s === views.best ? `${s} (best test accuracy)` : s}
            </option>
          ))}
        </select>
      </div>
      <div
        className={styles.tableScroll}
        tabIndex={0}
        role="region"
        aria-label={`Confusion matrix of ${strategy}`}
      >
        <table data-testid="confusion-matrix" data-strategy={strategy} className={styles.confusion}>
          <caption className="muted" style={{ captionSide: 'bottom', textAlign: 'left', paddingTop: 6 }}>
            Test rows of each true class (rows) by the class {strategy} gives them (columns); the diagonal is
            what it gets right. Shade: the cell’s share of its row.
          </caption>
          <thead>
            <tr>
              <th scope="col">True ↓ / predicted →</th>
              {views.names.map((name, p) => (
                <th key={p} scope="col" className="num" data-predicted={name}>
                  {name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {views.names.map((name, t) => (
              <tr key={t}>
                <th scope="row" data-true={name}>
                  {name}
                </th>
                {views.names.map((predicted, p) => {
                  const count = matrix[t]?.[p] ?? 0;
                  const share = rowShare(matrix, t, p);
                  return (
                    <td
                      key={p}
                      className="num"
                      data-true={name}
                      data-predicted={predicted}
                      data-value={String(count)}
                      // At most half the colour, so the text keeps its contrast.
                      style={{
                        background: `color-mix(in srgb, var(${t === p ? '--accent' : '--bad'}) ${Math.round(share * 50)}%, var(--bg))`,
                        fontWeight: t === p ? 700 : undefined,
                      }}
                    >
                      {count.toLocaleString('en-US')}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
