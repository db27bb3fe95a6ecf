import type { Prisma, PrismaClient } from '../client';
import type { DiversityEval, EnsembleEval, Split } from '../generated/prisma/client';

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
  pairwise: Prisma.InputJsonValue;
  /** Non-pairwise measures and pairwise means. */
  summary: Prisma.InputJsonValue;
  memberCount: number;
}

export interface EvalQuery {
  round?: number;
  split?: Split;
}

export function createEvalRepository(prisma: PrismaClient) {
  return {
    /**
     * Upserts the scores of several strategies (one transaction). Idempotent on
     * (run, round, split, strategy): a recomputation replaces the row.
     */
    async saveEnsembleEvals(evals: readonly EnsembleEvalInput[]): Promise<void> {
      if (evals.length === 0) return;
      await prisma.$transaction(
        evals.map(({ runId, round, split, strategy, ...scores }) =>
          prisma.ensembleEval.upsert({
            where: { runId_round_split_strategy: { runId, round, split, strategy } },
            create: { runId, round, split, strategy, ...scores },
            update: scores,
          }),
        ),
      );
    },

    /** By round, split, strategy. */
    listEnsembleEvals(runId: string, query: EvalQuery = {}): Promise<EnsembleEval[]> {
      return prisma.ensembleEval.findMany({
        where: { runId, ...query },
        orderBy: [{ round: 'asc' }, { split: 'asc' }, { strategy: 'asc' }],
      });
    },

    /** Upserts on (run, round, split). */
    async saveDiversityEval(input: DiversityEvalInput): Promise<void> {
      const { runId, round, split, ...values } = input;
      await prisma.diversityEval.upsert({
        where: { runId_round_split: { runId, round, split } },
        create: input,
        update: values,
      });
    },

    listDiversityEvals(runId: string, query: EvalQuery = {}): Promise<DiversityEval[]> {
      return prisma.diversityEval.findMany({
        where: { runId, ...query },
        orderBy: [{ round: 'asc' }, { split: 'asc' }],
      });
    },
  };
}

export type EvalRepository = ReturnType<typeof createEvalRepository>;
