import { VOTING_STRATEGIES, type BestStrategy, type RunListItem, type RunResult } from '@chorus/protocol';
import type { EnsembleEval } from './generated/prisma/client';
import { LIVE_ROUND } from './repositories/evals';
import type { Repositories } from './repositories/index';
import { runSummary } from './run-views';

/**
 * The run list (GET /api/runs, the dashboard's Runs page): each run's summary and its best
 * strategy on the test split, taken from the most final numbers there are (the stored result,
 * else the latest complete round, else the live view), with where they came from.
 */

export type EvalRow = Pick<EnsembleEval, 'round' | 'split' | 'strategy' | 'accuracy'>;

const strategyRank = (s: string) => {
  const i = (VOTING_STRATEGIES as readonly string[]).indexOf(s);
  return i < 0 ? VOTING_STRATEGIES.length : i;
};

/** The most accurate strategy; ties go to the one listed first in VOTING_STRATEGIES, then by name. */
export function pickBest(scores: ReadonlyArray<{ strategy: string; accuracy: number }>) {
  let best: { strategy: string; accuracy: number } | null = null;
  for (const s of scores) {
    if (!Number.isFinite(s.accuracy)) continue;
    if (
      best === null ||
      s.accuracy > best.accuracy ||
      (s.accuracy === best.accuracy &&
        (strategyRank(s.strategy) - strategyRank(best.strategy) || s.strategy.localeCompare(best.strategy)) <
          0)
    ) {
      best = { strategy: s.strategy, accuracy: s.accuracy };
    }
  }
  return best;
}

/** The best strategy of a run: from its stored result, else its latest complete round's test rows, else the live test rows. */
export function bestStrategyOf(result: RunResult | null, evals: readonly EvalRow[]): BestStrategy | null {
  if (result) {
    const best = pickBest(
      Object.entries(result.ensemble).map(([strategy, s]) => ({ strategy, accuracy: s.accuracy })),
    );
    if (best) return { ...best, source: 'result', round: null };
  }
  const test = evals.filter((e) => e.split === 'test');
  const latest = test.reduce((r, e) => Math.max(r, e.round), LIVE_ROUND);
  if (latest > LIVE_ROUND) {
    const best = pickBest(test.filter((e) => e.round === latest));
    if (best) return { ...best, source: 'round', round: latest };
  }
  const live = pickBest(test.filter((e) => e.round === LIVE_ROUND));
  return live ? { ...live, source: 'live', round: null } : null;
}

/** Newest runs first, each with its best strategy (one evaluation query per run without a result). */
export async function loadRunsList(
  repos: Repositories,
  query: Parameters<Repositories['runs']['list']>[0] = {},
): Promise<RunListItem[]> {
  const runs = await repos.runs.list({ limit: 100, ...query });
  return Promise.all(
    runs.map(async (run) => {
      const fromResult = bestStrategyOf(run.result, []);
      const best =
        fromResult ?? bestStrategyOf(null, await repos.evals.listEnsembleEvals(run.id, { split: 'test' }));
      return { ...runSummary(run), best };
    }),
  );
}
