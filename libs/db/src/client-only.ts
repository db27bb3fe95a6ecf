// @chorus/db/client — the Prisma client factory and the repositories, without migrations or the
// embedded database (no file-system assets, no PGlite): what a bundled server such as the
// dashboard imports.
export { createPrismaClient, PrismaClient, Prisma, type PrismaClientOptions } from './client';
// Run, Member, DiversityEval and Checkpoint are the repositories' records (their JSON columns typed).
export type { EnsembleEval, MetricPoint, Prediction, Worker } from './generated/prisma/client';
export { MemberStatus, RunStatus, Split, WorkerStatus } from './generated/prisma/enums';
export * from './repositories/index';
export * from './run-views';
export * from './runs-list';
