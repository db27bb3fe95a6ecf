// @chorus/db/client — the Prisma client factory and the repositories, without migrations or the
// embedded database (no file-system assets, no PGlite): what a bundled server such as the
// dashboard imports.
export { createPrismaClient, PrismaClient, Prisma, type PrismaClientOptions } from './client';
export type {
  Checkpoint,
  DiversityEval,
  EnsembleEval,
  Member,
  MetricPoint,
  Prediction,
  Run,
  Worker,
} from './generated/prisma/client';
export { MemberStatus, RunStatus, Split, WorkerStatus } from './generated/prisma/enums';
export * from './repositories/index';
export * from './run-views';
