import pg from 'pg';
import type { PrismaClient } from '../client';

/**
 * Where the repositories send their writes of large bytea values (checkpoints, predictions).
 *
 * Prisma's raw queries carry a Uint8Array parameter as base64 inside JSON (encoded, stringified,
 * parsed, decoded: four passes over the bytes on the caller's thread); node-pg sends a Buffer as a
 * binary parameter of the Bind message, no conversion at all. For a 4.8 MB checkpoint into the
 * embedded PGlite that is 47 → 27 ms of the coordinator's CPU (bench/support/bytea-write.bench.ts).
 * Without a connection string the writes go through Prisma (`$executeRawUnsafe`), same SQL.
 */
export interface BytesWriter {
  /** One statement with `$1 … $n` placeholders; a Uint8Array value is a bytea parameter. */
  execute(sql: string, values: readonly unknown[]): Promise<void>;
  /** Ends the writer's own connections (none for the Prisma fallback). */
  close(): Promise<void>;
}

export function prismaBytesWriter(prisma: PrismaClient): BytesWriter {
  return {
    async execute(sql, values) {
      await prisma.$executeRawUnsafe(sql, ...values);
    },
    close: async () => {},
  };
}

/**
 * A small pg pool of its own (default 2 connections) on `connectionString`. Its connections are
 * opened on first use; an idle one that fails is replaced (`onError` hears about it).
 */
export function createBytesWriter(
  connectionString: string,
  options: { max?: number; onError?: (error: Error) => void } = {},
): BytesWriter {
  const pool = new pg.Pool({ connectionString, max: options.max ?? 2 });
  pool.on('error', options.onError ?? (() => {}));
  let closed: Promise<void> | undefined;
  return {
    async execute(sql, values) {
      // node-pg sends a Buffer (and a Uint8Array, as a Buffer view) in binary format.
      await pool.query(sql, values as unknown[]);
    },
    close: () => (closed ??= pool.end()),
  };
}
