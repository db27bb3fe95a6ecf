import {
  LIVE_ROUND,
  TERMINAL_RUN_STATUSES,
  type DiversityEval,
  type EnsembleEval,
  type Member,
  type Repositories,
  type Run,
} from '@chorus/db';
import { ChorusError } from '@chorus/protocol';
import type { PlanService, RunData } from './plan.service';

/**
 * The JSON shapes of the HTTP API's run endpoints (the dashboard renders these). Dates are ISO
 * strings once serialised.
 */

export type ScoresView = Pick<
  EnsembleEval,
  'accuracy' | 'nll' | 'brier' | 'ece' | 'gainOverBest' | 'gainOverMean'
>;

export interface EvaluationView {
  /** -1 = the live view (each member's latest round), else a round every member reached. */
  round: number;
  memberCount: number;
  /** Strategy → scores, per split. */
  ensemble: { validation: Record<string, ScoresView>; test: Record<string, ScoresView> };
  /** Diversity per split: `summary` (pairwise means, entropy, kwVariance, interraterKappa) and `pairwise` matrices. */
  diversity: { validation: DiversityView | null; test: DiversityView | null };
}

export interface DiversityView {
  summary: unknown;
  pairwise: unknown;
}

export function runSummary(run: Run) {
  const config = run.config as { model?: string; members?: number; epochs?: number; sharding?: string };
  return {
    id: run.id,
    name: run.name,
    status: run.status,
    datasetName: run.datasetName,
    model: config.model ?? null,
    members: config.members ?? null,
    epochs: config.epochs ?? null,
    sharding: config.sharding ?? null,
    seed: run.seed,
    error: run.error,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
  };
}

function memberView(member: Member, data: RunData | undefined) {
  const totalBatches = data?.plan.member(member.index).totalBatches ?? null;
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

function evaluationView(
  round: number,
  ensemble: EnsembleEval[],
  diversity: DiversityEval[],
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

/** GET /api/runs/:id: the run, its members' progress, the latest evaluations and, once finished, the result. */
export async function runDetail(deps: { repos: Repositories; plans: PlanService }, id: string) {
  const run = await deps.repos.runs.get(id);
  if (!run) throw new ChorusError('not-found', `run ${id} does not exist`);
  // Progress needs the shard plan; an ended run is not worth rebuilding it for.
  const data =
    TERMINAL_RUN_STATUSES.includes(run.status) && run.status !== 'completed'
      ? undefined
      : await deps.plans.forRun(id).catch(() => undefined);
  const ensemble = await deps.repos.evals.listEnsembleEvals(id);
  const latestRound = ensemble.reduce((r, e) => Math.max(r, e.round), LIVE_ROUND);
  const diversity = [
    ...(await deps.repos.evals.listDiversityEvals(id, { round: LIVE_ROUND })),
    ...(latestRound > LIVE_ROUND
      ? await deps.repos.evals.listDiversityEvals(id, { round: latestRound })
      : []),
  ];
  return {
    ...runSummary(run),
    config: run.config,
    datasetSha256: run.datasetSha256,
    numClasses: run.numClasses,
    members: run.members.map((m) => memberView(m, data)),
    live: evaluationView(LIVE_ROUND, ensemble, diversity),
    latestRound: latestRound > LIVE_ROUND ? evaluationView(latestRound, ensemble, diversity) : null,
    result: run.result,
  };
}

/** GET /api/runs/:id/evaluations: every stored round (charts of accuracy and diversity over time). */
export async function runEvaluations(repos: Repositories, id: string) {
  const run = await repos.runs.get(id);
  if (!run) throw new ChorusError('not-found', `run ${id} does not exist`);
  const [ensemble, diversity] = await Promise.all([
    repos.evals.listEnsembleEvals(id),
    repos.evals.listDiversityEvals(id),
  ]);
  return { ensemble, diversity };
}
