import type { HeldLease } from '@chorus/db';

/** What the coordinator remembers of a lease: enough to accept a message about the member. */
export type KnownLease = Pick<HeldLease, 'id' | 'runId' | 'index' | 'attempt' | 'workerId'>;

/**
 * The leases this coordinator handed out or saw in the database, in memory, so that the frequent
 * read-only messages (`metrics`, `plan:next`) are checked without a database read. The database
 * stays the source of truth: an entry is only ever set from a database answer (a claim, a
 * heartbeat's renewal, a lease check), it is dropped whenever the lease may have ended here
 * (release, failure, completion, revocation, expiry sweep, a refused check), and it is trusted
 * for at most `ttlMs` after it was last confirmed (a worker's heartbeat confirms it again). A miss
 * is not a refusal: the caller falls back to the database.
 */
export interface LeaseTable {
  /** The member's lease when this worker holds it under this attempt, as last confirmed. */
  lookup(workerId: string, memberId: string, attempt: number): KnownLease | undefined;
  /**
   * A mark to take before asking the database about a lease: `confirm(lease, mark)` is then ignored
   * when the member was forgotten meanwhile (a revocation that raced with the query).
   */
  mark(): number;
  /** The database confirmed this lease, in an answer to a query started at `since` (a mark()). */
  confirm(lease: KnownLease, since: number): void;
  /** The lease may have ended: the next message about the member is checked in the database. */
  forget(memberId: string): void;
  /** Forgets the worker's leases but those listed (its heartbeat names every member it trains). */
  retain(workerId: string, memberIds: ReadonlySet<string>): void;
  readonly size: number;
}

export function createLeaseTable(options: { ttlMs: number; now?: () => number }): LeaseTable {
  const now = options.now ?? (() => performance.now());
  const entries = new Map<string, { lease: KnownLease; until: number }>();
  // When each member was last forgotten (a sequence number); older ones are summarised by `floor`.
  let seq = 0;
  let floor = 0;
  const forgotten = new Map<string, number>();
  const forget = (memberId: string): void => {
    entries.delete(memberId);
    seq++;
    if (forgotten.size >= 100_000) {
      forgotten.clear();
      floor = seq;
    }
    forgotten.set(memberId, seq);
  };
  return {
    mark: () => seq,
    lookup(workerId, memberId, attempt) {
      const entry = entries.get(memberId);
      if (!entry) return undefined;
      if (entry.until <= now()) {
        entries.delete(memberId);
        return undefined;
      }
      const { lease } = entry;
      return lease.workerId === workerId && lease.attempt === attempt ? lease : undefined;
    },
    confirm(lease, since) {
      const { id, runId, index, attempt, workerId } = lease;
      if (since < floor || (forgotten.get(id) ?? -1) > since) return;
      entries.set(id, { lease: { id, runId, index, attempt, workerId }, until: now() + options.ttlMs });
    },
    forget,
    retain(workerId, memberIds) {
      for (const [memberId, { lease }] of entries) {
        if (lease.workerId === workerId && !memberIds.has(memberId)) forget(memberId);
      }
    },
    get size() {
      return entries.size;
    },
  };
}
