import 'server-only';
import { createPrismaClient, createRepositories, type Repositories } from '@chorus/db/client';
import { parseEnv, type DashboardEnv } from '../env';
import { createDatabaseSource, type DatabaseSource } from './database-source';

/**
 * One Prisma client per dashboard server process, created on first use from the environment
 * (Next renders server components in this process; a module-level client is the documented
 * pattern, and it is kept on globalThis so development reloads do not open new pools). On a
 * coordinator's embedded database it is replaced when the coordinator restarts on another port
 * (database-source.ts).
 */
interface DashboardServer {
  env: DashboardEnv;
  database: DatabaseSource<{ repos: Repositories; close(): Promise<void> }>;
}

const holder = globalThis as typeof globalThis & { __chorusDashboard?: DashboardServer };

export function dashboardServer(): DashboardServer {
  if (!holder.__chorusDashboard) {
    const env = parseEnv();
    const database = createDatabaseSource({
      databaseUrl: env.databaseUrl,
      descriptorFile: env.embeddedDatabaseFile,
      connect: (connectionString) => {
        const prisma = createPrismaClient({ connectionString, maxConnections: 5 });
        return { repos: createRepositories(prisma), close: () => prisma.$disconnect() };
      },
      disconnect: (client) => client.close(),
      onSwitch: () => console.warn('chorus dashboard: the embedded database moved; reconnected'),
    });
    holder.__chorusDashboard = { env, database };
  }
  return holder.__chorusDashboard;
}

export const repositories = (): Repositories => dashboardServer().database.current().repos;
