import type { PairwiseMatrices, StoredDiversitySummary } from '@chorus/protocol';
import type { PrismaClient } from '../client';
import type { EnsembleEval, Split } from '../generated/prisma/client';
import { diversityEvalOf, type DiversityEval } from './records';

/**
 * The `round` of the live view: scores computed from each member's latest predictions, rewritten
 * each time they are recomputed. Completed evaluation rounds use their number (0, 1, …).
 */
export const LIVE_ROUND = -1;

export interface EnsembleEvalInput {
  runId: string;
  round: number;
  split: Split;
  strategy: string;
  accuracy: number;
  nll: number;
  brier: number;
  ece: number;
  gainOverBest: number;
  gainOverMean: number;
  memberCount: number;
}

export interface DiversityEvalInput {
  runId: string;
  round: number;
  split: Split;
  /** Pairwise matrices by measure name. */
  pairwise: PairwiseMatrices;
  /** Non-pairwise measures and pairwise means. */
  summary: StoredDiversitySummary;
  memberCount: number;
}

export interface EvalQuery {
  round?: number;
  split?: Split;
}

export function createEvalRepository(prisma: PrismaClient) {
  /**
   * One evaluation's rows (its EnsembleEvals and DiversityEvals) in one statement, so they are
   * stored together or not at all. Idempotent on their keys: a recomputation replaces the rows.
   */
  const saveEvaluation = async (rows: {
    ensemble: readonly EnsembleEvalInput[];
    diversity: readonly DiversityEvalInput[];
  }): Promise<void> => {
    const { ensemble: e, diversity: d } = rows;
    if (e.length === 0 && d.length === 0) return;
    const updatedAt = new Date();
    const col = <T>(list: readonly T[], pick: (row: T) => unknown) => list.map(pick);
    await prisma.$executeRaw`
      WITH ensemble AS (
        INSERT INTO "EnsembleEval" ("runId", "round", "split", "strategy", "accuracy", "nll", "brier", "ece",
                                    "gainOverBest", "gainOverMean", "memberCount", "updatedAt")
        SELECT u.run_id, u.round, u.split::"Split", u.strategy, u.accuracy, u.nll, u.brier, u.ece,
               u.gain_best, u.gain_mean, u.member_count, ${updatedAt}::timestamp(3)
          FROM unnest(${col(e, (r) => r.runId)}::text[], ${col(e, (r) => r.round)}::int[],
                      ${col(e, (r) => r.split)}::text[], ${col(e, (r) => r.strategy)}::text[],
                      ${col(e, (r) => r.accuracy)}::float8[], ${col(e, (r) => r.nll)}::float8[],
                      ${col(e, (r) => r.brier)}::float8[], ${col(e, (r) => r.ece)}::float8[],
                      ${col(e, (r) => r.gainOverBest)}::float8[], ${col(e, (r) => r.gainOverMean)}::float8[],
                      ${col(e, (r) => r.memberCount)}::int[])
               AS u(run_id, round, split, strategy, accuracy, nll, brier, ece, gain_best, gain_mean, member_count)
        ON CONFLICT ("runId", "round", "split", "strategy") DO UPDATE
           SET "accuracy" = EXCLUDED."accuracy", "nll" = EXCLUDED."nll", "brier" = EXCLUDED."brier",
               "ece" = EXCLUDED."ece", "gainOverBest" = EXCLUDED."gainOverBest",
               "gainOverMean" = EXCLUDED."gainOverMean", "memberCount" = EXCLUDED."memberCount",
               "updatedAt" = EXCLUDED."updatedAt"
        RETURNING 1
      )
      INSERT INTO "DiversityEval" ("runId", "round", "split", "pairwise", "summary", "memberCount", "updatedAt")
      SELECT v.run_id, v.round, v.split::"Split", v.pairwise::jsonb, v.summary::jsonb, v.member_count,
             ${updatedAt}::timestamp(3)
        FROM unnest(${col(d, (r) => r.runId)}::text[], ${col(d, (r) => r.round)}::int[],
                    ${col(d, (r) => r.split)}::text[], ${col(d, (r) => JSON.stringify(r.pairwise))}::text[],
                    ${col(d, (r) => JSON.stringify(r.summary))}::text[], ${col(d, (r) => r.memberCount)}::int[])
             AS v(run_id, round, split, pairwise, summary, member_count)
      ON CONFLICT ("runId", "round", "split") DO UPDATE
         SET "pairwise" = EXCLUDED."pairwise", "summary" = EXCLUDED."summary",
             "memberCount" = EXCLUDED."memberCount", "updatedAt" = EXCLUDED."updatedAt"`;
  };

  return {
    /**
     * Upserts the scores of several strategies (one statement). Idempotent on
     * (run, round, split, strategy): a recomputation replaces the row.
     */
    saveEnsembleEvals(evals: readonly EnsembleEvalInput[]): Promise<void> {
      return saveEvaluation({ ensemble: evals, diversity: [] });
    },

    saveEvaluation,

    /** By round, split, strategy. */
    listEnsembleEvals(runId: string, query: EvalQuery = {}): Promise<EnsembleEval[]> {
      return prisma.ensembleEval.findMany({
        where: { runId, ...query },
        orderBy: [{ round: 'asc' }, { split: 'asc' }, { strategy: 'asc' }],
      });
    },

    /** Upserts on (run, round, split). */
    saveDiversityEval(input: DiversityEvalInput): Promise<void> {
      return saveEvaluation({ ensemble: [], diversity: [input] });
    },

    async listDiversityEvals(runId: string, query: EvalQuery = {}): Promise<DiversityEval[]> {
      const rows = await prisma.diversityEval.findMany({
        where: { runId, ...query },
        orderBy: [{ round: 'asc' }, { split: 'asc' }],
      });
      return rows.map(diversityEvalOf);
    },
  };
}

export type EvalRepository = ReturnType<typeof createEvalRepository>;
