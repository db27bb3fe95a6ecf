'use client';

import { useMemo } from 'react';
import { Chart } from '../chart';
import { formatEpoch, formatNumber } from '../../lib/format';
import { SUMMARY_MEASURES } from '../../lib/run-diversity';
import { accuracyDiversityPoints, type RoundSummary } from '../../lib/run-rounds';
import type { DiversityPanelData } from '../../server/run-data';
import { accuracyDiversityOption, pairwiseHeatmapOption } from './chart-options';
import styles from './run.module.css';

const EMPTY: number[][] = [];

/** Pairwise disagreement and Q heatmaps of the latest complete round (else live), and the summary measures. */
export function DiversityPanel({ diversity }: { diversity: DiversityPanelData | null }) {
  const disagreement = useMemo(
    () => pairwiseHeatmapOption(diversity?.pairwise?.disagreement ?? EMPTY, 'disagreement'),
    [diversity],
  );
  const q = useMemo(
    () => pairwiseHeatmapOption(diversity?.pairwise?.qStatistic ?? EMPTY, 'qStatistic'),
    [diversity],
  );
  const where = diversity
    ? diversity.source === 'round'
      ? `test split, after ${formatEpoch(diversity.round ?? 0)}`
      : 'test split, live (each member’s latest epoch)'
    : 'test split';
  return (
    <section className={`panel ${styles.section}`} aria-labelledby="diversity-heading">
      <h2 id="diversity-heading">Diversity ({where})</h2>
      {!diversity && (
        <p className={styles.empty}>
          Diversity appears after the first evaluation (members send predictions after each epoch).
        </p>
      )}
      {diversity && diversity.memberCount < 2 && (
        <p className={styles.empty}>One member: there are no pairs to compare.</p>
      )}
      {diversity && diversity.memberCount >= 2 && (
        <div className={styles.charts} style={{ marginTop: 0 }}>
          <div>
            <h3>Pairwise disagreement</h3>
            <Chart
              option={disagreement}
              replace
              height={340}
              testId="chart-disagreement"
              label={`Heatmap of pairwise disagreement between members, ${where}: the fraction of samples where exactly one of the two is right`}
            />
          </div>
          <div>
            <h3>Q statistic</h3>
            <Chart
              option={q}
              replace
              height={340}
              testId="chart-q-statistic"
              label={`Heatmap of Yule's Q statistic between members, ${where}: +1 = they are right and wrong together, negative = their mistakes differ`}
            />
          </div>
        </div>
      )}
      {diversity?.summary && (
        <table aria-label="Diversity summary measures" style={{ maxWidth: 640, marginTop: 12 }}>
          <thead>
            <tr>
              <th scope="col">Measure</th>
              <th scope="col" className="num">
                Value
              </th>
              <th scope="col">Reading</th>
            </tr>
          </thead>
          <tbody>
            {SUMMARY_MEASURES.map(({ key, label, hint }) => (
              <tr key={key} data-measure={key}>
                <th scope="row" style={{ fontWeight: 400 }}>
                  {label}
                </th>
                <td className="num" data-value={String(diversity.summary?.[key])}>
                  {formatNumber(diversity.summary?.[key])}
                </td>
                <td className="muted">{hint}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The accuracy–diversity scatter: members and the (soft-vote) ensemble per complete round. */
export function AccuracyDiversity({
  rounds,
  memberCount,
}: {
  rounds: readonly RoundSummary[];
  memberCount: number;
}) {
  const option = useMemo(
    () => accuracyDiversityOption(accuracyDiversityPoints(rounds, 'soft'), 'Ensemble (soft vote)'),
    [rounds],
  );
  return (
    <div>
      <h3>Accuracy vs diversity</h3>
      {rounds.length === 0 ? (
        <p className={styles.empty}>Points appear once every member has finished an epoch.</p>
      ) : (
        <Chart
          option={option}
          replace
          height={340}
          testId="chart-accuracy-diversity"
          label="Scatter of test accuracy against mean pairwise disagreement: one point per member after each epoch, and the soft-vote ensemble after each epoch"
        />
      )}
      <p className={styles.explain}>
        Each dot is a member after one epoch (x: its mean disagreement with the others); each ◆ is the
        ensemble: members that disagree more are often weaker alone, yet it is their different mistakes that
        lift the ensemble above its best member — the paradox of diversity.
        {memberCount === 2 &&
          ' With two members the stored pairwise measures cannot tell which member is the better one, so only the ensemble is shown.'}
      </p>
    </div>
  );
}
