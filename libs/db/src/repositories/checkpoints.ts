import { Prisma, type PrismaClient } from '../client';
import type { Checkpoint } from '../generated/prisma/client';

export interface CheckpointInput {
  memberId: string;
  epoch: number;
  step: number;
  planOffset: number;
  /** The model's weights, concatenated as tfjs saves them. */
  weights: Uint8Array;
  /** tfjs weight specs (name, shape, dtype) describing `weights`. */
  weightSpecs?: Prisma.InputJsonValue;
}

export function createCheckpointRepository(prisma: PrismaClient) {
  return {
    /**
     * Idempotent on (member, epoch): saving the same epoch again replaces it (`createdAt` stays,
     * `weightSpecs` stays when not given). One INSERT … ON CONFLICT with no RETURNING, written in
     * SQL rather than as a Prisma upsert: the model API keys its query-plan parameters by the
     * base64 of every Bytes value (twice here: create and update) and returns the stored row, so
     * each MB of weights went out again as hex and back through base64 (about 3× the CPU of this
     * statement, most of it on the coordinator's thread; bench/support/bytea-write.bench.ts).
     */
    async save(input: CheckpointInput): Promise<void> {
      const { weights } = input;
      const updatedAt = new Date();
      const specs = input.weightSpecs === undefined ? null : JSON.stringify(input.weightSpecs);
      await prisma.$executeRaw`
        INSERT INTO "Checkpoint" ("memberId", "epoch", "step", "planOffset", "weights", "weightSpecs", "updatedAt")
        VALUES (${input.memberId}, ${input.epoch}, ${input.step}, ${input.planOffset}, ${weights},
                ${specs}::jsonb, ${updatedAt}::timestamp(3))
        ON CONFLICT ("memberId", "epoch") DO UPDATE
           SET "step" = EXCLUDED."step", "planOffset" = EXCLUDED."planOffset", "weights" = EXCLUDED."weights",
               "weightSpecs" = ${specs === null ? Prisma.sql`"Checkpoint"."weightSpecs"` : Prisma.sql`EXCLUDED."weightSpecs"`},
               "updatedAt" = EXCLUDED."updatedAt"`;
    },

    /** The checkpoint a resumed member restarts from: its highest epoch. */
    latest(memberId: string): Promise<Checkpoint | null> {
      return prisma.checkpoint.findFirst({ where: { memberId }, orderBy: { epoch: 'desc' } });
    },

    /** Keeps the newest `keep` checkpoints of a member; returns how many were deleted. */
    async prune(memberId: string, keep: number): Promise<number> {
      const old = await prisma.checkpoint.findMany({
        where: { memberId },
        orderBy: { epoch: 'desc' },
        skip: Math.max(keep, 1),
        select: { epoch: true },
      });
      if (old.length === 0) return 0;
      const { count } = await prisma.checkpoint.deleteMany({
        where: { memberId, epoch: { in: old.map((c) => c.epoch) } },
      });
      return count;
    },
  };
}

export type CheckpointRepository = ReturnType<typeof createCheckpointRepository>;
