import { describe, expect, it } from 'vitest';
import { createLeaseTable } from './lease-table';

const lease = { id: 'm1', runId: 'r', index: 0, attempt: 2, workerId: 'w1' };

describe('the lease table', () => {
  it('answers only for the holder under its attempt, until the entry is older than its ttl', () => {
    let t = 0;
    const table = createLeaseTable({ ttlMs: 1_000, now: () => t });
    table.confirm(lease, table.mark());
    expect(table.lookup('w1', 'm1', 2)).toEqual(lease);
    expect(table.lookup('w2', 'm1', 2)).toBeUndefined();
    expect(table.lookup('w1', 'm1', 1)).toBeUndefined();
    expect(table.lookup('w1', 'm2', 2)).toBeUndefined();
    t = 999;
    expect(table.lookup('w1', 'm1', 2)).toEqual(lease);
    t = 1_000;
    expect(table.lookup('w1', 'm1', 2)).toBeUndefined();
    expect(table.size).toBe(0);
  });

  it('forgets a lease, and ignores a confirmation older than the forgetting', () => {
    const table = createLeaseTable({ ttlMs: 1_000 });
    const before = table.mark();
    table.confirm(lease, before);
    table.forget('m1');
    expect(table.lookup('w1', 'm1', 2)).toBeUndefined();
    // A database answer read before the revocation arrives after it: not trusted.
    table.confirm(lease, before);
    expect(table.lookup('w1', 'm1', 2)).toBeUndefined();
    // A newer answer is.
    table.confirm({ ...lease, workerId: 'w2', attempt: 3 }, table.mark());
    expect(table.lookup('w2', 'm1', 3)).toMatchObject({ workerId: 'w2', attempt: 3 });
    // Another member's forgetting does not matter.
    const mark = table.mark();
    table.forget('m9');
    table.confirm({ ...lease, id: 'm2' }, mark);
    expect(table.lookup('w1', 'm2', 2)).toMatchObject({ id: 'm2' });
  });

  it("keeps only the leases a worker's heartbeat names", () => {
    const table = createLeaseTable({ ttlMs: 1_000 });
    const mark = table.mark();
    table.confirm(lease, mark);
    table.confirm({ ...lease, id: 'm2' }, mark);
    table.confirm({ ...lease, id: 'm3', workerId: 'w2' }, mark);
    table.retain('w1', new Set(['m2']));
    expect(table.lookup('w1', 'm1', 2)).toBeUndefined();
    expect(table.lookup('w1', 'm2', 2)).toMatchObject({ id: 'm2' });
    expect(table.lookup('w2', 'm3', 2)).toMatchObject({ id: 'm3' });
  });
});
