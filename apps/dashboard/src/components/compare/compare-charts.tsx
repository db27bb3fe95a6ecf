'use client';

import { useMemo } from 'react';
import { VOTING_STRATEGIES } from '@chorus/ensemble';
import { Chart } from '../chart';
import {
  membersChartOption,
  strategyChartOption,
  type ChartRun,
  type RoundScore,
} from '../../lib/compare-charts';
import type { RunCurves } from '../../lib/compare-curves';

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
  const strategyOption = useMemo(() => strategyChartOption(runs, strategies), [runs, strategies]);
  const membersOption = useMemo(() => membersChartOption(runs), [runs]);
  const hasCurves = runs.some((r) => r.curves);
  const names = runs.map((r) => r.label).join(', ');

  return (
    <>
      <section className="panel" aria-labelledby="compare-strategy-title">
        <h2 id="compare-strategy-title">Ensemble test accuracy per strategy, over the complete rounds</h2>
        {strategies.length === 0 ? (
          <p className="muted">
            No run has a complete evaluation round yet (one follows every epoch of every member).
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
          Per run: the members’ mean (solid) and its best member by test accuracy (dashed); x in epochs, so
          runs with different data sizes line up.
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
