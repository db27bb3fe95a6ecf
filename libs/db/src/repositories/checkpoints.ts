import type { WeightSpecs } from '@chorus/protocol';
import type { PrismaClient } from '../client';
import { prismaBytesWriter } from './bytes-writer';
import { checkpointOf, type Checkpoint } from './records';
import { sqlTimestamp, type RepositoryOptions } from './types';

export interface CheckpointInput {
  memberId: string;
  epoch: number;
  step: number;
  planOffset: number;
  /** The model's weights, concatenated as tfjs saves them. */
  weights: Uint8Array;
  /** tfjs weight specs (name, shape, dtype) describing `weights`. */
  weightSpecs?: WeightSpecs;
}

/**
 * One INSERT … ON CONFLICT with no RETURNING, in SQL rather than as a Prisma upsert: the model API
 * keys its query-plan parameters by the base64 of every Bytes value (twice in an upsert: create
 * and update) and returns the stored row, so each MB of weights also went out again as hex and back
 * through base64 (about 3× the CPU of this statement, most of it on the coordinator's thread with
 * the embedded database; bench/support/bytea-write.bench.ts). `weightSpecs` stays when not given.
 */
const SAVE_CHECKPOINT = `
  INSERT INTO "Checkpoint" ("memberId", "epoch", "step", "planOffset", "weights", "weightSpecs", "updatedAt")
  VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::timestamp(3))
  ON CONFLICT ("memberId", "epoch") DO UPDATE
     SET "step" = EXCLUDED."step", "planOffset" = EXCLUDED."planOffset", "weights" = EXCLUDED."weights",
         "weightSpecs" = COALESCE(EXCLUDED."weightSpecs", "Checkpoint"."weightSpecs"),
         "file" = NULL, "sha256" = NULL, "size" = NULL,
         "updatedAt" = EXCLUDED."updatedAt"`;

/** The same, for a checkpoint stored as a file (`file` relative to the coordinator's checkpoint dir). */
const SAVE_CHECKPOINT_FILE = `
  INSERT INTO "Checkpoint" ("memberId", "epoch", "step", "planOffset", "file", "sha256", "size", "updatedAt")
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8::timestamp(3))
  ON CONFLICT ("memberId", "epoch") DO UPDATE
     SET "step" = EXCLUDED."step", "planOffset" = EXCLUDED."planOffset", "weights" = NULL,
         "file" = EXCLUDED."file", "sha256" = EXCLUDED."sha256", "size" = EXCLUDED."size",
         "updatedAt" = EXCLUDED."updatedAt"`;

export interface CheckpointFileInput {
  memberId: string;
  epoch: number;
  step: number;
  planOffset: number;
  /** The file's path relative to the coordinator's checkpoint directory. */
  file: string;
  sha256: string;
  size: number;
}

export function createCheckpointRepository(prisma: PrismaClient, options: RepositoryOptions = {}) {
  const bytes = options.bytes ?? prismaBytesWriter(prisma);
  return {
    /** Idempotent on (member, epoch): saving the same epoch again replaces it (`createdAt` stays). */
    async save(input: CheckpointInput): Promise<void> {
      await bytes.execute(SAVE_CHECKPOINT, [
        input.memberId,
        input.epoch,
        input.step,
        input.planOffset,
        input.weights,
        input.weightSpecs === undefined ? null : JSON.stringify(input.weightSpecs),
        sqlTimestamp(new Date()),
      ]);
    },

    /**
     * Idempotent on (member, epoch) as `save`, for a checkpoint whose bytes are a file; the row no
     * longer holds bytes. The file it replaces (if any) is the caller's to delete (`files`).
     */
    async saveFile(input: CheckpointFileInput): Promise<void> {
      await prisma.$executeRawUnsafe(
        SAVE_CHECKPOINT_FILE,
        input.memberId,
        input.epoch,
        input.step,
        input.planOffset,
        input.file,
        input.sha256,
        input.size,
        sqlTimestamp(new Date()),
      );
    },

    /** The files the member's checkpoints are stored in (those of the socket path have none). */
    async files(memberId: string): Promise<string[]> {
      const rows = await prisma.checkpoint.findMany({
        where: { memberId, file: { not: null } },
        select: { file: true },
      });
      return rows.flatMap((r) => (r.file === null ? [] : [r.file]));
    },

    /** The checkpoint a resumed member restarts from: its highest epoch. */
    async latest(memberId: string): Promise<Checkpoint | null> {
      const row = await prisma.checkpoint.findFirst({ where: { memberId }, orderBy: { epoch: 'desc' } });
      return row && checkpointOf(row);
    },

    /** Deletes the checkpoint of this epoch (one a worker could not load); true when there was one. */
    async remove(memberId: string, epoch: number): Promise<boolean> {
      const { count } = await prisma.checkpoint.deleteMany({ where: { memberId, epoch } });
      return count > 0;
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
