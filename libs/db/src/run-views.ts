import type { EvaluationView, MemberView, RunDetail, RunSummary } from '@chorus/protocol';
import type { EnsembleEval } from './generated/prisma/client';
import { LIVE_ROUND } from './repositories/evals';
import type { Repositories, RunWithMembers } from './repositories/index';
import type { DiversityEval, Member, Run } from './repositories/records';

/**
 * The shapes in which runs are shown (libs/protocol's http/views.ts): the coordinator's HTTP API
 * returns them and the dashboard renders them (server components read them straight from the
 * database). Dates are ISO strings once serialised.
 */

export function runSummary(run: Run): RunSummary {
  return {
    id: run.id,
    name: run.name,
    status: run.status,
    datasetName: run.datasetName,
    model: run.config.model,
    modelFile: run.config.modelFile?.fileName ?? null,
    members: run.config.members,
    epochs: run.config.epochs,
    sharding: run.config.sharding,
    seed: run.seed,
    error: run.error,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
  };
}

export function memberView(member: Member): MemberView {
  const totalBatches = member.totalBatches > 0 ? member.totalBatches : null;
  const progress =
    member.status === 'completed' ? 1 : totalBatches ? Math.min(1, member.step / totalBatches) : null;
  return {
    id: member.id,
    index: member.index,
    status: member.status,
    workerId: member.workerId,
    attempt: member.attempt,
    leaseExpiresAt: member.leaseExpiresAt,
    overrides: member.overrides,
    step: member.step,
    epoch: member.epoch,
    planOffset: member.planOffset,
    samples: member.samples,
    totalBatches,
    progress,
    samplesPerSecond: member.samplesPerSecond,
    valAccuracy: member.valAccuracy,
    testAccuracy: member.testAccuracy,
    error: member.error,
  };
}

export function evaluationView(
  round: number,
  ensemble: readonly EnsembleEval[],
  diversity: readonly DiversityEval[],
): EvaluationView | null {
  const rows = ensemble.filter((e) => e.round === round);
  if (rows.length === 0) return null;
  const view: EvaluationView = {
    round,
    memberCount: rows[0]?.memberCount ?? 0,
    ensemble: { validation: {}, test: {} },
    diversity: { validation: null, test: null },
  };
  for (const row of rows) {
    const { accuracy, nll, brier, ece, gainOverBest, gainOverMean } = row;
    view.ensemble[row.split][row.strategy] = { accuracy, nll, brier, ece, gainOverBest, gainOverMean };
  }
  for (const row of diversity.filter((d) => d.round === round)) {
    view.diversity[row.split] = { summary: row.summary, pairwise: row.pairwise };
  }
  return view;
}

/**
 * A run's detail from its stored rows: its members' progress, the live and the latest complete
 * evaluation (from `ensemble` and `diversity`, which must hold at least those rounds) and, once
 * finished, its result.
 */
export function runDetailOf(
  run: RunWithMembers,
  ensemble: readonly EnsembleEval[],
  diversity: readonly DiversityEval[],
): RunDetail {
  const latestRound = ensemble.reduce((r, e) => Math.max(r, e.round), LIVE_ROUND);
  return {
    ...runSummary(run),
    config: run.config,
    datasetSha256: run.datasetSha256,
    numClasses: run.numClasses,
    members: run.members.map(memberView),
    live: evaluationView(LIVE_ROUND, ensemble, diversity),
    latestRound: latestRound > LIVE_ROUND ? evaluationView(latestRound, ensemble, diversity) : null,
    result: run.result,
  };
}

/** runDetailOf the stored run, reading only the diversity rows it shows; null if there is no such run. */
export async function loadRunDetail(repos: Repositories, id: string): Promise<RunDetail | null> {
  const run = await repos.runs.get(id);
  if (!run) return null;
  const ensemble = await repos.evals.listEnsembleEvals(id);
  const latestRound = ensemble.reduce((r, e) => Math.max(r, e.round), LIVE_ROUND);
  const diversity = [
    ...(await repos.evals.listDiversityEvals(id, { round: LIVE_ROUND })),
    ...(latestRound > LIVE_ROUND ? await repos.evals.listDiversityEvals(id, { round: latestRound }) : []),
  ];
  return runDetailOf(run, ensemble, diversity);
}
