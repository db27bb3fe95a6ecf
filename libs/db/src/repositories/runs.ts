import type { MemberOverrides, RunConfig, RunResult } from '@chorus/protocol';
import { Prisma, type PrismaClient } from '../client';
import type { RunStatus } from '../generated/prisma/client';
import { memberOf, runOf, type Member, type Run } from './records';
import { systemClock, type RepositoryOptions } from './types';

export interface NewRun {
  /** Give an id to make creation idempotent: creating the same id again returns the stored run. */
  id?: string;
  name: string;
  config: RunConfig;
  seed: number;
  datasetName: string;
  datasetSha256?: string | null;
  numClasses: number;
  /** One entry per member, in index order: its overrides (or `{}`) and the length of its shard plan. */
  members: Array<{ overrides?: MemberOverrides; totalBatches?: number }>;
}

export type RunWithMembers = Run & { members: Member[] };

export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'cancelled'];

export function createRunRepository(prisma: PrismaClient, options: RepositoryOptions = {}) {
  const clock = options.clock ?? systemClock;
  const withMembers = { members: { orderBy: { index: 'asc' } } } as const;
  const runWithMembersOf = (
    row: Parameters<typeof runOf>[0] & { members: Parameters<typeof memberOf>[0][] },
  ) => ({
    ...runOf(row),
    members: row.members.map(memberOf),
  });

  return {
    /** Stores a run and its members (all `pending`) in one transaction. */
    async create(input: NewRun): Promise<RunWithMembers> {
      if (input.members.length === 0) throw new RangeError('a run needs at least one member');
      try {
        const row = await prisma.run.create({
          data: {
            ...(input.id !== undefined && { id: input.id }),
            name: input.name,
            config: input.config,
            seed: input.seed,
            datasetName: input.datasetName,
            datasetSha256: input.datasetSha256 ?? null,
            numClasses: input.numClasses,
            createdAt: clock(),
            members: {
              createMany: {
                data: input.members.map((m, index) => ({
                  index,
                  overrides: m.overrides ?? {},
                  totalBatches: m.totalBatches ?? 0,
                })),
              },
            },
          },
          include: withMembers,
        });
        return runWithMembersOf(row);
      } catch (error) {
        // A retried launch with the same id: the first one won, return it.
        if (input.id !== undefined && isUniqueViolation(error)) {
          const existing = await prisma.run.findUnique({ where: { id: input.id }, include: withMembers });
          if (existing) return runWithMembersOf(existing);
        }
        throw error;
      }
    },

    /**
     * Deletes an ended run (completed, failed or cancelled) with everything stored under it (its
     * members, their checkpoint rows, metrics, predictions and evaluations: ON DELETE CASCADE).
     * Returns the ids of the members it had, or null when no ended run has that id (none, or one
     * still queued or running). A checkpoint's file is the caller's to delete.
     */
    async deleteEnded(id: string): Promise<string[] | null> {
      // A run's members are created with it and never added later: read before the delete.
      const members = await prisma.member.findMany({ where: { runId: id }, select: { id: true } });
      const { count } = await prisma.run.deleteMany({
        where: { id, status: { in: [...TERMINAL_RUN_STATUSES] } },
      });
      return count === 1 ? members.map((m) => m.id) : null;
    },

    async get(id: string): Promise<RunWithMembers | null> {
      const row = await prisma.run.findUnique({ where: { id }, include: withMembers });
      return row && runWithMembersOf(row);
    },

    /** Newest first; page with `before` (the createdAt of the last run of the previous page). */
    async list(query: { limit?: number; status?: RunStatus; before?: Date } = {}): Promise<Run[]> {
      const rows = await prisma.run.findMany({
        where: {
          ...(query.status !== undefined && { status: query.status }),
          ...(query.before !== undefined && { createdAt: { lt: query.before } }),
        },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: Math.min(Math.max(query.limit ?? 50, 1), 500),
      });
      return rows.map(runOf);
    },

    /**
     * Moves a run to `status`, stamping startedAt on the first `running` and finishedAt on a
     * terminal status. A terminal run does not change any more (setting the same terminal status
     * again is accepted, so a retried "finish" is harmless). Returns the run, or null when the run
     * does not exist or the transition is refused.
     */
    async setStatus(
      id: string,
      status: RunStatus,
      details: { error?: string | null; result?: RunResult } = {},
    ): Promise<Run | null> {
      const now = clock();
      const terminal = TERMINAL_RUN_STATUSES.includes(status);
      const from: RunStatus[] = terminal ? ['pending', 'running', status] : ['pending', 'running'];
      const { count } = await prisma.run.updateMany({
        where: { id, status: { in: from } },
        data: {
          status,
          ...(details.error !== undefined && { error: details.error }),
          ...(details.result !== undefined && { result: details.result }),
        },
      });
      if (count === 0) return null;
      if (status === 'running') {
        await prisma.run.updateMany({ where: { id, startedAt: null }, data: { startedAt: now } });
      }
      if (terminal) {
        await prisma.run.updateMany({ where: { id, finishedAt: null }, data: { finishedAt: now } });
      }
      const row = await prisma.run.findUnique({ where: { id } });
      return row && runOf(row);
    },

    async setDatasetSha256(id: string, datasetSha256: string): Promise<Run> {
      return runOf(await prisma.run.update({ where: { id }, data: { datasetSha256 } }));
    },
  };
}

export type RunRepository = ReturnType<typeof createRunRepository>;

export function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}
