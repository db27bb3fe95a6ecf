import type { PrismaClient } from '../client';
import type { Worker, WorkerStatus } from '../generated/prisma/client';
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
