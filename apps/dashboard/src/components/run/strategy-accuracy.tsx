import { useMemo } from 'react';
import { STRATEGY_NAMES } from '@chorus/ensemble';
import { livePoint, type RoundSummary } from '../../lib/run-rounds';
import type { RunView } from '../../server/run-data';
import { Chart } from '../chart';
import { strategyAccuracyOption } from './chart-options';
import styles from './run.module.css';

/**
 * Ensemble test accuracy per voting strategy after each epoch, with the live view (lib/run-rounds.ts
 * `livePoint`) as hollow points while not every member has finished the next epoch; no chart (and
 * no empty axes) before there is anything to draw.
 */
export function StrategyAccuracy({
  rounds,
  live,
  memberCount,
}: {
  rounds: readonly RoundSummary[];
  live: RunView['live'];
  memberCount: number;
}) {
  const point = useMemo(() => livePoint(rounds, live), [rounds, live]);
  const strategies = useMemo(
    () =>
      STRATEGY_NAMES.filter(
        (s) => rounds.some((r) => r.strategies[s] !== undefined) || point?.strategies[s] !== undefined,
      ),
    [rounds, point],
  );
  const option = useMemo(
    () => strategyAccuracyOption(rounds, strategies, point),
    [rounds, strategies, point],
  );
  if (rounds.length === 0 && !point) {
    return (
      <p className={styles.empty} data-testid="strategy-empty">
        No evaluation yet: a point appears as soon as a member has finished an epoch.
      </p>
    );
  }
  return (
    <>
      <Chart
        option={option}
        replace
        height={340}
        testId="chart-strategy-accuracy"
        label="Test accuracy of each voting rule after each epoch, with the best and the mean member for reference"
      />
      {point && (
        <p className={styles.explain} data-testid="strategy-live-note">
          ○ Live: {point.memberCount} of {memberCount} member{memberCount === 1 ? '' : 's'}, each after its
          latest epoch —{' '}
          {rounds.length === 0
            ? 'the line starts once every member has finished an epoch.'
            : 'the line moves on once every member has finished the next epoch.'}
        </p>
      )}
    </>
  );
}
