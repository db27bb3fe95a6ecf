import type { Repositories, StoredPrediction } from '@chorus/db';
import { evaluateEnsemble } from '@chorus/ensemble';
import { ChorusError, type WhatIfQuery, type WhatIfResult } from '@chorus/protocol';
import type { PlanService } from './plan.service';

/**
 * "What if the ensemble were only these members, voting this way?" — GET /api/runs/:id/what-if.
 * Computed here because the true labels of the validation and test splits live in the run's
 * dataset bundle (RunData), not in the database. The sub-ensemble is scored exactly as a stored
 * evaluation round is (evaluateEnsemble: weights from the members' validation accuracy), so the
 * full set of members reproduces that round's stored EnsembleEval row. The query and answer
 * schemas are libs/protocol's (WhatIfQuerySchema, WhatIfResultSchema).
 */
export async function computeWhatIf(
  deps: { repos: Repositories; plans: PlanService },
  runId: string,
  query: WhatIfQuery,
): Promise<WhatIfResult> {
  const run = await deps.repos.runs.get(runId);
  if (!run) throw new ChorusError('not-found', `run ${runId} does not exist`);
  const count = run.members.length;
  const outOfRange = query.members.filter((i) => i >= count);
  if (outOfRange.length > 0) {
    throw new ChorusError(
      'invalid-input',
      `this run has members 0–${count - 1}; there is no member ${outOfRange.join(', ')}`,
    );
  }
  const ids = new Map(run.members.map((m) => [m.index, m.id]));
  const chosen = new Set(query.members.map((i) => ids.get(i)));

  const round = query.round ?? (await latestSharedRound(deps.repos, runId, query.members, chosen));
  const ofChosen = async (split: 'validation' | 'test') =>
    (await deps.repos.predictions.listRound(runId, split, round)).filter((p) => chosen.has(p.memberId));
  const [validation, test] = await Promise.all([ofChosen('validation'), ofChosen('test')]);
  const has = (list: StoredPrediction[], i: number) => list.some((p) => p.memberIndex === i);
  const missing = query.members.filter((i) => !has(validation, i) || !has(test, i));
  if (missing.length > 0) {
    throw new ChorusError('conflict', `${membersPhrase(missing)} not sent round ${round} yet`);
  }
  const data = await deps.plans.forRun(runId);
  const evaluation = evaluateEnsemble({
    numClasses: data.numClasses,
    validation: { members: validation.map((p) => p.probabilities), truth: data.validationTruth },
    test: { members: test.map((p) => p.probabilities), truth: data.testTruth },
    strategies: [query.strategy],
    seed: data.config.seed,
  });
  return {
    runId,
    strategy: query.strategy,
    round,
    members: evaluation.members.map((m, i) => ({
      index: query.members[i] as number,
      valAccuracy: m.valAccuracy,
      testAccuracy: m.testAccuracy,
      weight: evaluation.weights[i] as number,
    })),
    test: evaluation.strategies[query.strategy],
    validation: evaluation.validation[query.strategy],
  };
}

/** The latest round for which every chosen member has stored both splits (members send rounds in order). */
async function latestSharedRound(
  repos: Repositories,
  runId: string,
  indices: readonly number[],
  chosen: ReadonlySet<string | undefined>,
): Promise<number> {
  const [validation, test] = await Promise.all([
    repos.predictions.listLatest(runId, 'validation'),
    repos.predictions.listLatest(runId, 'test'),
  ]);
  let round = Infinity;
  const silent: number[] = [];
  for (const index of indices) {
    const v = validation.find((p) => p.memberIndex === index && chosen.has(p.memberId));
    const t = test.find((p) => p.memberIndex === index && chosen.has(p.memberId));
    if (!v || !t) silent.push(index);
    else round = Math.min(round, v.round, t.round);
  }
  if (silent.length > 0) {
    throw new ChorusError(
      'conflict',
      `${membersPhrase(silent)} no predictions yet (they arrive after each epoch)`,
    );
  }
  return round;
}

/** "member 2 has" / "members 2, 3 have". */
const membersPhrase = (indices: readonly number[]): string =>
  indices.length === 1 ? `member ${indices[0]} has` : `members ${indices.join(', ')} have`;
