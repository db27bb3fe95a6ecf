import type { Prisma, PrismaClient } from '../client';
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
    /** Idempotent on (member, epoch): saving the same epoch again replaces it. */
    async save(input: CheckpointInput): Promise<void> {
      const weights = new Uint8Array(input.weights); // an exact-length copy on its own ArrayBuffer
      const values = {
        step: input.step,
        planOffset: input.planOffset,
        weights,
        ...(input.weightSpecs !== undefined && { weightSpecs: input.weightSpecs }),
      };
      await prisma.checkpoint.upsert({
        where: { memberId_epoch: { memberId: input.memberId, epoch: input.epoch } },
        create: { memberId: input.memberId, epoch: input.epoch, ...values },
        update: values,
      });
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
