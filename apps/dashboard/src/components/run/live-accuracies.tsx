import { isLearnedCombiner, STRATEGY_NAMES } from '@chorus/ensemble';
import { formatPercent } from '../../lib/format';
import styles from './run.module.css';

/**
 * The live view's test accuracy per strategy (each member's latest epoch), as small cards: the fixed
 * votes, then the combiners learned on the validation split (libs/ensemble README, Learned combiners).
 */
export function LiveAccuracies({
  live,
  memberCount,
}: {
  live: Record<string, { accuracy: number }> | null;
  memberCount: number | null;
}) {
  if (!live || Object.keys(live).length === 0) {
    return (
      <p className={styles.empty}>No evaluation yet: members send their predictions after each epoch.</p>
    );
  }
  return (
    <>
      <ul className={styles.cards} aria-label="Live ensemble test accuracy per voting rule">
        {STRATEGY_NAMES.filter((s) => live[s]).map((strategy) => {
          const accuracy = (live[strategy] as { accuracy: number }).accuracy;
          return (
            <li
              key={strategy}
              className={styles.card}
              data-testid={`live-accuracy-${strategy}`}
              data-value={String(accuracy)}
            >
              <span>
                {strategy}
                {isLearnedCombiner(strategy) && <small className="muted"> (learned)</small>}
              </span>
              <strong>{formatPercent(accuracy)}</strong>
            </li>
          );
        })}
      </ul>
      <p className={styles.explain}>
        Test accuracy of each voting strategy over {memberCount ?? 'the'} member{memberCount === 1 ? '' : 's'}
        , each after its latest evaluated epoch.
      </p>
    </>
  );
}
