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

/** A Worker row as the repository returns it: never with its secret's hash (see `secretHashOf`). */
export type WorkerRecord = Omit<Worker, 'secretHash'>;
const NO_SECRET = { secretHash: true } as const;

export function createWorkerRepository(prisma: PrismaClient, options: RepositoryOptions = {}) {
  const clock = options.clock ?? systemClock;

  return {
    /**
     * Re-registers a worker after a (re)connection as online, with its details. Idempotent on its id;
     * a new id gets a row without a secret (the coordinator adds one with `registerNew`). The
     * secret's hash is never changed here.
     */
    register(worker: WorkerRegistration): Promise<WorkerRecord> {
      const now = clock();
      const { id, ...details } = worker;
      return prisma.worker.upsert({
        where: { id },
        create: { ...worker, status: 'online', lastSeenAt: now, createdAt: now },
        update: { ...details, status: 'online', lastSeenAt: now },
        omit: NO_SECRET,
      });
    },

    /**
     * A worker's first registration, with the sha256 (hex) of the session secret issued to it.
     * False when the id is taken already (another connection registered it first): nothing changes.
     */
    async registerNew(worker: WorkerRegistration & { secretHash: string }): Promise<boolean> {
      const now = clock();
      const { count } = await prisma.worker.createMany({
        data: [{ ...worker, status: 'online', lastSeenAt: now, createdAt: now }],
        skipDuplicates: true,
      });
      return count === 1;
    },

    /** The stored hash of the worker's secret: undefined for an unknown id, null for a row without one. */
    async secretHashOf(id: string): Promise<string | null | undefined> {
      const row = await prisma.worker.findUnique({ where: { id }, select: { secretHash: true } });
      return row === null ? undefined : row.secretHash;
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
    markSilentOffline(before: Date): Promise<WorkerRecord[]> {
      return prisma.worker.updateManyAndReturn({
        where: { status: 'online', lastSeenAt: { lt: before } },
        data: { status: 'offline' },
        omit: NO_SECRET,
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

    get(id: string): Promise<WorkerRecord | null> {
      return prisma.worker.findUnique({ where: { id }, omit: NO_SECRET });
    },

    list(query: { status?: WorkerStatus } = {}): Promise<WorkerRecord[]> {
      return prisma.worker.findMany({
        where: query.status !== undefined ? { status: query.status } : {},
        orderBy: [{ name: 'asc' }, { id: 'asc' }],
        omit: NO_SECRET,
      });
    },
  };
}

export type WorkerRepository = ReturnType<typeof createWorkerRepository>;
