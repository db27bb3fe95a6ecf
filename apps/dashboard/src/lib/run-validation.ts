import type { ValidationCurves } from '@chorus/protocol';
import { epochOfRound } from './format';
import type { XY } from './run-downsample';
import type { DiversityRow, EnsembleRow } from './run-rounds';

/**
 * Validation accuracy after each epoch, beside the training curves, from what the coordinator
 * already stores per complete round: each member's accuracy on the validation split (the
 * validation DiversityEval's `memberAccuracies`, in `memberIndices` order) and the ensemble's
 * (the validation EnsembleEval of one strategy). x = the 1-based epoch (lib/format.ts).
 */
export type { ValidationCurves };

export function validationCurves(
  ensemble: readonly EnsembleRow[],
  diversity: readonly DiversityRow[],
  strategy = 'soft',
): ValidationCurves {
  const byMember = new Map<number, XY[]>();
  const rows = diversity
    .filter((d) => d.split === 'validation' && d.round >= 0)
    .sort((a, b) => a.round - b.round);
  for (const row of rows) {
    const accuracies = row.summary.memberAccuracies;
    if (!accuracies) continue;
    accuracies.forEach((accuracy, position) => {
      const index = row.summary.memberIndices?.[position] ?? position;
      let points = byMember.get(index);
      if (!points) byMember.set(index, (points = []));
      points.push([epochOfRound(row.round), accuracy]);
    });
  }
  return {
    members: [...byMember.entries()].sort(([a], [b]) => a - b).map(([index, points]) => ({ index, points })),
    ensemble: ensemble
      .filter((e) => e.split === 'validation' && e.round >= 0 && e.strategy === strategy)
      .sort((a, b) => a.round - b.round)
      .map((e): XY => [epochOfRound(e.round), e.accuracy]),
  };
}
