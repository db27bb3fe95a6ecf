import type { BytesWriter } from './bytes-writer';

/** The time source of the repositories (leases, heartbeats): injected so tests can move it. */
export type Clock = () => Date;

export interface RepositoryOptions {
  clock?: Clock;
  /** Writes of large bytea values (checkpoints, predictions); default: through the Prisma client. */
  bytes?: BytesWriter;
}

export const systemClock: Clock = () => new Date();

/**
 * A Date as a `timestamp(3)` parameter in UTC, as Prisma stores DateTime (a Date given to node-pg
 * directly would be written in the process's local time zone).
 */
export const sqlTimestamp = (date: Date): string => date.toISOString().replace('T', ' ').replace('Z', '');
