import type { PrismaClient } from '../client';
import type { Split } from '../generated/prisma/client';
import { prismaBytesWriter } from './bytes-writer';
import { bytesToFloat32, float32ToBytes } from './float32';
import { sqlTimestamp, type RepositoryOptions } from './types';

export interface PredictionKey {
  memberId: string;
  split: Split;
  round: number;
}

export interface PredictionInput extends PredictionKey {
  /** Softmax probabilities, `rows × numClasses`, row-major. */
  probabilities: Float32Array;
  numClasses: number;
}

export interface StoredPrediction extends PredictionKey {
  memberIndex: number;
  rows: number;
  numClasses: number;
  probabilities: Float32Array<ArrayBuffer>;
  updatedAt: Date;
}

/** SQL rather than a Prisma upsert, for the reasons of checkpoints.ts (no RETURNING of the bytes). */
const SAVE_PREDICTION = `
  INSERT INTO "Prediction" ("memberId", "split", "round", "probabilities", "rows", "numClasses", "updatedAt")
  VALUES ($1, $2::"Split", $3, $4, $5, $6, $7::timestamp(3))
  ON CONFLICT ("memberId", "split", "round") DO UPDATE
     SET "probabilities" = EXCLUDED."probabilities", "rows" = EXCLUDED."rows",
         "numClasses" = EXCLUDED."numClasses", "updatedAt" = EXCLUDED."updatedAt"`;

export function createPredictionRepository(prisma: PrismaClient, options: RepositoryOptions = {}) {
  const bytes = options.bytes ?? prismaBytesWriter(prisma);
  const withIndex = { member: { select: { index: true } } } as const;
  type Row = {
    memberId: string;
    split: Split;
    round: number;
    rows: number;
    numClasses: number;
    probabilities: Uint8Array;
    updatedAt: Date;
    member: { index: number };
  };
  const toStored = ({ member, probabilities, ...row }: Row): StoredPrediction => ({
    ...row,
    memberIndex: member.index,
    probabilities: bytesToFloat32(probabilities),
  });

  return {
    /**
     * Stores a member's probabilities for one split and round as little-endian float32 bytes.
     * Idempotent on (member, split, round): saving again replaces the row (a member resumed from a
     * checkpoint re-sends its round), it never adds one.
     */
    async save(input: PredictionInput): Promise<void> {
      const { numClasses, probabilities } = input;
      if (!Number.isInteger(numClasses) || numClasses < 1)
        throw new RangeError(`numClasses must be ≥ 1, got ${numClasses}`);
      if (probabilities.length === 0 || probabilities.length % numClasses !== 0) {
        throw new RangeError(`${probabilities.length} probabilities are not rows of ${numClasses} classes`);
      }
      const rows = probabilities.length / numClasses;
      await bytes.execute(SAVE_PREDICTION, [
        input.memberId,
        input.split,
        input.round,
        float32ToBytes(probabilities),
        rows,
        numClasses,
        sqlTimestamp(new Date()),
      ]);
    },

    async get(key: PredictionKey): Promise<StoredPrediction | null> {
      const row = await prisma.prediction.findUnique({
        where: { memberId_split_round: key },
        include: withIndex,
      });
      return row ? toStored(row) : null;
    },

    /** Every member's predictions of one round, by member index (a complete round's vote). */
    async listRound(runId: string, split: Split, round: number): Promise<StoredPrediction[]> {
      const rows = await prisma.prediction.findMany({
        where: { split, round, member: { runId } },
        include: withIndex,
      });
      return rows.map(toStored).sort((a, b) => a.memberIndex - b.memberIndex);
    },

    /** Each member's latest round on a split (the live view), by member index. */
    async listLatest(runId: string, split: Split): Promise<StoredPrediction[]> {
      const latest = await prisma.prediction.groupBy({
        by: ['memberId'],
        where: { split, member: { runId } },
        _max: { round: true },
      });
      const keys = latest.flatMap((g) =>
        g._max.round === null ? [] : [{ memberId: g.memberId, split, round: g._max.round }],
      );
      if (keys.length === 0) return [];
      const rows = await prisma.prediction.findMany({ where: { OR: keys }, include: withIndex });
      return rows.map(toStored).sort((a, b) => a.memberIndex - b.memberIndex);
    },
  };
}

export type PredictionRepository = ReturnType<typeof createPredictionRepository>;
