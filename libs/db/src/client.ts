import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client';

export interface PrismaClientOptions {
  /** `postgresql://user:password@host:port/database` — an external server or the embedded one. */
  connectionString: string;
  /** Size of the pg connection pool (default 10). */
  maxConnections?: number;
  /** Called when an idle pooled connection fails (e.g. the server went away); the pool replaces it. */
  onPoolError?: (error: Error) => void;
}

/** A Prisma 7 client on `@prisma/adapter-pg`; the same client serves external Postgres and PGlite. */
export function createPrismaClient(options: PrismaClientOptions): PrismaClient {
  const adapter = new PrismaPg(
    { connectionString: options.connectionString, max: options.maxConnections ?? 10 },
    // Without a listener, an idle connection's error would be an unhandled 'error' event.
    { onPoolError: options.onPoolError ?? (() => {}) },
  );
  return new PrismaClient({ adapter });
}

export { PrismaClient };
export { Prisma } from './generated/prisma/client';
