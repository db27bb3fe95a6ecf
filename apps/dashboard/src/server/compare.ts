import { LIVE_ROUND, loadRunDetail, type Repositories } from '@chorus/db/client';
import { normaliseConfig } from '../lib/compare';
import { runCurves, type RunCurves } from '../lib/compare-curves';
import { MAX_POINTS_PER_MEMBER } from '../lib/run-curves';
import type { RoundScore } from '../lib/compare-charts';
import { finalTableOf, type FinalTable } from '../lib/run-final-table';
import type { DiversitySummary } from '../lib/run-diversity';

/** Everything the Compare page shows of one run (plain data: it crosses to client components). */
export interface CompareRun {
  id: string;
  name: string;
  status: string;
  datasetName: string;
  createdAt: Date;
  /** The built-in model's name, or the model file's name. */
  model: string;
  config: Record<string, unknown>;
  /** Test split: the run's final table (result, else latest complete round, else live). */
  table: FinalTable | null;
  /** Test accuracy of every strategy in every complete round. */
  rounds: RoundScore[];
  curves: RunCurves | null;
  /** Test-split diversity of the same source as the table. */
  diversity: DiversitySummary | null;
}

export interface CompareData {
  runs: CompareRun[];
  /** Ids that name no run. */
  missing: string[];
}

async function loadOne(repos: Repositories, id: string): Promise<CompareRun | null> {
  const detail = await loadRunDetail(repos, id);
  if (!detail) return null;
  const [evals, points] = await Promise.all([
    repos.evals.listEnsembleEvals(id, { split: 'test' }),
    // Thinned in the query: a long run's every batch would be megabytes for a chart's width.
    repos.metrics.listForRun(id, { maxPerMember: MAX_POINTS_PER_MEMBER }),
  ]);
  const config = normaliseConfig(detail.config);
  const epochs = typeof config.epochs === 'number' ? config.epochs : (detail.epochs ?? 1);
  const table = finalTableOf(detail);
  const diversity: DiversitySummary | null =
    detail.result?.diversity ??
    (table?.source === 'round' ? detail.latestRound : detail.live)?.diversity.test?.summary ??
    null;
  return {
    id: detail.id,
    name: detail.name,
    status: detail.status,
    datasetName: detail.datasetName,
    createdAt: detail.createdAt,
    model: detail.modelFile ?? detail.model,
    config,
    table,
    rounds: evals
      .filter((e) => e.round > LIVE_ROUND)
      .map((e) => ({ round: e.round, strategy: e.strategy, accuracy: e.accuracy })),
    curves:
      points.length === 0
        ? null
        : runCurves(
            detail.members.map((m) => ({
              index: m.index,
              totalBatches: m.totalBatches,
              testAccuracy: m.testAccuracy,
            })),
            points,
            epochs,
          ),
    diversity,
  };
}

/** The named runs, in the order given (one after the other: a comparison is at most four runs). */
export async function loadCompare(repos: Repositories, ids: readonly string[]): Promise<CompareData> {
  const runs: CompareRun[] = [];
  const missing: string[] = [];
  for (const id of ids) {
    const run = await loadOne(repos, id);
    if (run) runs.push(run);
    else missing.push(id);
  }
  return { runs, missing };
}

/** Runs to pick from (newest first). */
export async function loadCompareChoices(repos: Repositories, limit = 200) {
  const runs = await repos.runs.list({ limit });
  return runs.map((r) => ({ id: r.id, name: r.name, status: r.status, createdAt: r.createdAt }));
}
export type CompareChoice = Awaited<ReturnType<typeof loadCompareChoices>>[number];
