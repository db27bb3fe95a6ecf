'use client';

import { useMemo, useState } from 'react';
import { VOTING_STRATEGIES } from '@chorus/ensemble';
import { Chart } from '../chart';
import {
  membersChartOption,
  strategyChartOption,
  type ChartRun,
  type RoundScore,
  type XAlign,
} from '../../lib/compare-charts';
import type { RunCurves } from '../../lib/compare-curves';
import styles from './compare.module.css';

export interface CompareChartRun extends ChartRun {
  rounds: RoundScore[];
  curves: RunCurves | null;
}

/** Ensemble accuracy per strategy over rounds (small multiples), and the members' curves. */
export function CompareCharts({ runs }: { runs: readonly CompareChartRun[] }) {
  const strategies = useMemo(() => {
    const present = new Set(runs.flatMap((r) => r.rounds.map((s) => s.strategy)));
    return [
      ...VOTING_STRATEGIES.filter((s) => present.has(s)),
      ...[...present].filter((s) => !(VOTING_STRATEGIES as readonly string[]).includes(s)).sort(),
    ];
  }, [runs]);
  // Runs of different lengths read best side by side as shares of their training.
  const [align, setAlign] = useState<XAlign>(() =>
    new Set(runs.map((r) => r.epochs)).size > 1 ? 'progress' : 'epoch',
  );
  const strategyOption = useMemo(
    () => strategyChartOption(runs, strategies, align),
    [runs, strategies, align],
  );
  const membersOption = useMemo(() => membersChartOption(runs, align), [runs, align]);
  const hasCurves = runs.some((r) => r.curves);
  const names = runs.map((r) => r.label).join(', ');

  return (
    <>
      <fieldset className={styles.align}>
        <legend>Line the runs up by</legend>
        {(
          [
            ['epoch', 'epoch'],
            ['progress', 'share of each run’s training'],
          ] as const
        ).map(([value, text]) => (
          <label key={value}>
            <input
              type="radio"
              name="compare-align"
              value={value}
              checked={align === value}
              onChange={() => setAlign(value)}
            />{' '}
            {text}
          </label>
        ))}
      </fieldset>
      <section className="panel" aria-labelledby="compare-strategy-title">
        <h2 id="compare-strategy-title">Ensemble test accuracy per strategy, after each epoch</h2>
        {strategies.length === 0 ? (
          <p className="muted">
            No run has been evaluated yet: an evaluation follows each epoch, once every member has finished
            it.
          </p>
        ) : (
          <Chart
            option={strategyOption}
            replace
            height={330}
            testId="chart-compare-strategy"
            label={`Ensemble test accuracy over rounds for the strategies ${strategies.join(', ')}; one line per run: ${names}.`}
          />
        )}
      </section>
      <section className="panel" aria-labelledby="compare-members-title">
        <h2 id="compare-members-title">Members’ training curves</h2>
        <p className="muted">
          Per run (A, B, …): the members’ mean (solid) and its best member by test accuracy (dashed), from the
          mini-batch metrics binned along {align === 'epoch' ? 'the epochs' : 'each run’s training'}; epochs
          line up runs with different data sizes.
        </p>
        {hasCurves ? (
          <Chart
            option={membersOption}
            replace
            height={360}
            testId="chart-compare-members"
            label={`Training accuracy and loss over epochs, members' mean and best member per run: ${names}.`}
          />
        ) : (
          <p className="muted">No training metrics have been stored for these runs yet.</p>
        )}
      </section>
    </>
  );
}
