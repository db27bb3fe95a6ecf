import type { PrismaClient } from '../client';
import type { Worker, WorkerStatus } from '../generated/prisma/client';
import type { HeldLease } from './members';
import { systemClock, type RepositoryOptions } from './types';

export interface WorkerRegistration {
  /** Chosen by the worker and kept across reconnects. */
  id: string;
  name: string;
  host: string;
  backend: string;
  device: string;
  slots: number;
}

export function createWorkerRepository(prisma: PrismaClient, options: RepositoryOptions = {}) {
  const clock = options.clock ?? systemClock;

  return {
    /** Registers (or re-registers after a reconnect) a worker as online. Idempotent on its id. */
    register(worker: WorkerRegistration): Promise<Worker> {
      const now = clock();
      const { id, ...details } = worker;
      return prisma.worker.upsert({
        where: { id },
        create: { ...worker, status: 'online', lastSeenAt: now, createdAt: now },
        update: { ...details, status: 'online', lastSeenAt: now },
      });
    },

    /** Heartbeat: the worker is alive. False when it is unknown. */
    async touch(id: string): Promise<boolean> {
      const { count } = await prisma.worker.updateMany({
        where: { id },
        data: { status: 'online', lastSeenAt: clock() },
      });
      return count === 1;
    },

    /**
     * A heartbeat in one statement: the worker is marked online and seen now, and the listed
     * leases it still holds under their attempt are renewed for `leaseMs`. Returns the renewed
     * members (a listed lease missing from the answer is no longer held by this worker).
     */
    heartbeat(
      workerId: string,
      leases: ReadonlyArray<{ memberId: string; attempt: number }>,
      leaseMs: number,
    ): Promise<HeldLease[]> {
      const now = clock();
      const expiresAt = new Date(now.getTime() + leaseMs);
      // A data-modifying WITH runs once, whether or not the main statement reads it.
      return prisma.$queryRaw<HeldLease[]>`
        WITH touched AS (
          UPDATE "Worker" SET "status" = 'online', "lastSeenAt" = ${now}::timestamp(3)
           WHERE "id" = ${workerId}
          RETURNING "id"
        )
        UPDATE "Member" AS m
           SET "leaseExpiresAt" = ${expiresAt}::timestamp(3)
          FROM unnest(${leases.map((l) => l.memberId)}::text[], ${leases.map((l) => l.attempt)}::int[])
               AS l(id, attempt)
         WHERE m."id" = l.id
           AND m."attempt" = l.attempt
           AND m."workerId" = ${workerId}
           AND m."status" IN ('leased', 'running')
        RETURNING m."id", m."runId", m."index", m."attempt", m."workerId", m."status"::text AS "status"`;
    },

    async markOffline(id: string): Promise<void> {
      await prisma.worker.updateMany({ where: { id }, data: { status: 'offline' } });
    },

    /** Marks online workers not seen since `before` offline; returns them. */
    markSilentOffline(before: Date): Promise<Worker[]> {
      return prisma.worker.updateManyAndReturn({
        where: { status: 'online', lastSeenAt: { lt: before } },
        data: { status: 'offline' },
      });
    },

    /**
     * Forgets workers offline and not seen since `before` that no member refers to (members keep
     * the worker that trained them): each worker process has its own id, so without this the
     * table grows by one row per worker start. Returns how many were deleted.
     */
    async pruneOffline(before: Date): Promise<number> {
      const { count } = await prisma.worker.deleteMany({
        where: { status: 'offline', lastSeenAt: { lt: before }, members: { none: {} } },
      });
      return count;
    },

    /** Online workers per backend (the coordinator's `chorus_workers_online` gauge). */
    async countOnlineByBackend(): Promise<Array<{ backend: string; count: number }>> {
      const groups = await prisma.worker.groupBy({
        by: ['backend'],
        where: { status: 'online' },
        _count: { _all: true },
      });
      return groups.map((g) => ({ backend: g.backend, count: g._count._all }));
    },

    get(id: string): Promise<Worker | null> {
      return prisma.worker.findUnique({ where: { id } });
    },

    list(query: { status?: WorkerStatus } = {}): Promise<Worker[]> {
      return prisma.worker.findMany({
        where: query.status !== undefined ? { status: query.status } : {},
        orderBy: [{ name: 'asc' }, { id: 'asc' }],
      });
    },
  };
}

export type WorkerRepository = ReturnType<typeof createWorkerRepository>;
