import {
  MemberOverridesSchema,
  PairwiseMatricesSchema,
  parseStored,
  StoredDiversitySummarySchema,
  StoredRunConfigSchema,
  StoredRunResultSchema,
  WeightSpecsSchema,
  type MemberOverrides,
  type MemberStatusName,
  type PairwiseMatrices,
  type RunConfig,
  type RunResult,
  type RunStatusName,
  type StoredDiversitySummary,
  type WeightSpecs,
  type WorkerStatusName,
} from '@chorus/protocol';
import type {
  Checkpoint as CheckpointRow,
  DiversityEval as DiversityEvalRow,
  Member as MemberRow,
  MemberStatus,
  Run as RunRow,
  RunStatus,
  WorkerStatus,
} from '../generated/prisma/client';

/**
 * What the repositories take and return: the stored rows with their JSON columns as the types of
 * libs/protocol's stored.ts. Each column is parsed when read; a value that does not match its shape
 * is an error naming the row, the column and the field (never a silent null).
 */
export type Run = Omit<RunRow, 'config' | 'result'> & { config: RunConfig; result: RunResult | null };
export type Member = Omit<MemberRow, 'overrides'> & { overrides: MemberOverrides };
export type DiversityEval = Omit<DiversityEvalRow, 'pairwise' | 'summary'> & {
  pairwise: PairwiseMatrices;
  summary: StoredDiversitySummary;
};
export type Checkpoint = Omit<CheckpointRow, 'weightSpecs'> & { weightSpecs: WeightSpecs };

export function runOf<R extends RunRow>(row: R): Omit<R, 'config' | 'result'> & Run {
  return {
    ...row,
    config: parseStored(StoredRunConfigSchema, row.config, `Run.config of run ${row.id}`),
    result: parseStored(StoredRunResultSchema, row.result, `Run.result of run ${row.id}`),
  };
}

export function memberOf(row: MemberRow): Member {
  const where = `Member.overrides of member ${row.index} of run ${row.runId}`;
  return { ...row, overrides: parseStored(MemberOverridesSchema, row.overrides, where) };
}

export function diversityEvalOf(row: DiversityEvalRow): DiversityEval {
  const where = (column: string) =>
    `DiversityEval.${column} of run ${row.runId}, round ${row.round}, ${row.split}`;
  return {
    ...row,
    pairwise: parseStored(PairwiseMatricesSchema, row.pairwise, where('pairwise')),
    summary: parseStored(StoredDiversitySummarySchema, row.summary, where('summary')),
  };
}

export function checkpointOf(row: CheckpointRow): Checkpoint {
  const where = `Checkpoint.weightSpecs of member ${row.memberId}, epoch ${row.epoch}`;
  return { ...row, weightSpecs: parseStored(WeightSpecsSchema, row.weightSpecs, where) };
}

// The statuses of schema.prisma are libs/protocol's (what the HTTP API answers): equal both ways.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _runStatuses: Same<RunStatus, RunStatusName> = true;
const _memberStatuses: Same<MemberStatus, MemberStatusName> = true;
const _workerStatuses: Same<WorkerStatus, WorkerStatusName> = true;
