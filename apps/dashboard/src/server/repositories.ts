import 'server-only';
import { createPrismaClient, createRepositories, type Repositories } from '@chorus/db/client';
import { parseEnv, type DashboardEnv } from '../env';

/**
 * One Prisma client per dashboard server process, created on first use from the environment
 * (Next renders server components in this process; a module-level client is the documented
 * pattern, and it is kept on globalThis so development reloads do not open new pools).
 */
interface DashboardServer {
  env: DashboardEnv;
  repos: Repositories;
}

const holder = globalThis as typeof globalThis & { __chorusDashboard?: DashboardServer };

export function dashboardServer(): DashboardServer {
  if (!holder.__chorusDashboard) {
    const env = parseEnv();
    const prisma = createPrismaClient({ connectionString: env.databaseUrl, maxConnections: 5 });
    holder.__chorusDashboard = { env, repos: createRepositories(prisma) };
  }
  return holder.__chorusDashboard;
}

export const repositories = (): Repositories => dashboardServer().repos;
