import type { PrismaClient } from '../client';
import { createCheckpointRepository } from './checkpoints';
import { createEvalRepository } from './evals';
import { createMemberRepository } from './members';
import { createMetricRepository } from './metrics';
import { createPredictionRepository } from './predictions';
import { createRunRepository } from './runs';
import type { RepositoryOptions } from './types';
import { createWorkerRepository } from './workers';

/** Every repository over one Prisma client (and one clock). */
export function createRepositories(prisma: PrismaClient, options: RepositoryOptions = {}) {
  return {
    workers: createWorkerRepository(prisma, options),
    runs: createRunRepository(prisma, options),
    members: createMemberRepository(prisma, options),
    metrics: createMetricRepository(prisma),
    predictions: createPredictionRepository(prisma, options),
    evals: createEvalRepository(prisma),
    checkpoints: createCheckpointRepository(prisma, options),
    /** `SELECT 1`: resolves when the database answers (health checks). */
    ping: async (): Promise<void> => {
      await prisma.$queryRaw`SELECT 1`;
    },
  };
}

export type Repositories = ReturnType<typeof createRepositories>;

export * from './bytes-writer';
export * from './checkpoints';
export * from './evals';
export * from './float32';
export * from './members';
export * from './metrics';
export * from './predictions';
export * from './records';
export * from './runs';
export * from './types';
export * from './workers';
