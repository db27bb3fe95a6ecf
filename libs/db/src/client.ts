import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client';

export interface PrismaClientOptions {
  /** `postgresql://user:password@host:port/database` — an external server or the embedded one. */
  connectionString: string;
  /** Size of the pg connection pool (default 10). */
  maxConnections?: number;
  /** Called when an idle pooled connection fails (e.g. the server went away); the pool replaces it. */
  onPoolError?: (error: Error) => void;
  /**
   * Told of every statement Prisma runs: its first SQL keyword (`SELECT`, `INSERT`, `UPDATE`,
   * `DELETE`, `WITH`, …) and how long it took in seconds (the coordinator's latency histogram).
   */
  onQuery?: (statement: string, seconds: number) => void;
}

/** A Prisma 7 client on `@prisma/adapter-pg`; the same client serves external Postgres and PGlite. */
export function createPrismaClient(options: PrismaClientOptions): PrismaClient {
  const adapter = new PrismaPg(
    { connectionString: options.connectionString, max: options.maxConnections ?? 10 },
    // Without a listener, an idle connection's error would be an unhandled 'error' event.
    { onPoolError: options.onPoolError ?? (() => {}) },
  );
  const { onQuery } = options;
  if (onQuery === undefined) return new PrismaClient({ adapter });
  const client = new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' }] });
  client.$on('query', (event) => onQuery(statementKind(event.query), event.duration / 1000));
  return client;
}

/** The first keyword of a SQL statement, upper-cased (a label with few values). */
export function statementKind(sql: string): string {
  const keyword = /^\s*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase();
  return keyword !== undefined && keyword.length <= 12 ? keyword : 'OTHER';
}

export { PrismaClient };
export { Prisma } from './generated/prisma/client';
