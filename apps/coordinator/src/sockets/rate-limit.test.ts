import { describe, expect, it } from 'vitest';
import { createWorkerBudget, payloadBytes, TokenBucket } from './rate-limit';

/** A clock the test moves by hand. */
function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('TokenBucket', () => {
  it('spends its burst, then refills at its rate up to the burst', () => {
    const c = clock();
    const bucket = new TokenBucket(10, 20, c.now);
    for (let i = 0; i < 20; i++) expect(bucket.take(1)).toBe(true);
    expect(bucket.take(1)).toBe(false);
    c.advance(100); // 10/s × 0.1 s = 1 token
    expect(bucket.take(1)).toBe(true);
    expect(bucket.take(1)).toBe(false);
    c.advance(60_000); // never more than the burst
    for (let i = 0; i < 20; i++) expect(bucket.take(1)).toBe(true);
    expect(bucket.take(1)).toBe(false);
  });

  it('lets one amount larger than the burst through a full bucket, then is in debt', () => {
    const c = clock();
    const bucket = new TokenBucket(100, 200, c.now);
    expect(bucket.take(500)).toBe(true);
    c.advance(2_000); // 200 tokens pay back 200 of the 300 owed
    expect(bucket.take(1)).toBe(false);
    c.advance(1_010);
    expect(bucket.take(1)).toBe(true);
  });
});

describe('createWorkerBudget', () => {
  const limits = { messagesPerSlot: 5, bytesPerSlot: 1_000, heartbeatsPerSecond: 1 };

  it('refuses messages beyond the slots’ budget with rate-limited, and never heartbeats for it', () => {
    const c = clock();
    const budget = createWorkerBudget(limits, 2, c.now);
    // 2 slots × 5/s, a burst of 2 × 10 = 20 messages.
    for (let i = 0; i < 20; i++) expect(budget.admit('metrics', {})).toBeUndefined();
    expect(budget.admit('metrics', {})).toMatchObject({ code: 'rate-limited', message: /messages faster/ });
    // Heartbeats have a budget of their own (a burst of 10).
    for (let i = 0; i < 10; i++) expect(budget.admit('heartbeat', { members: [] })).toBeUndefined();
    expect(budget.admit('heartbeat', {})).toMatchObject({ code: 'rate-limited', message: /heartbeats/ });
    c.advance(1_000);
    expect(budget.admit('heartbeat', {})).toBeUndefined();
    expect(budget.admit('metrics', {})).toBeUndefined();
  });

  it('counts bytes: binary attachments and strings', () => {
    const c = clock();
    const budget = createWorkerBudget(limits, 1, c.now);
    // 1 slot × 1,000 B/s, a burst of 2,000 B.
    expect(budget.admit('predictions', { probabilities: new Uint8Array(1_500) })).toBeUndefined();
    expect(budget.admit('predictions', { probabilities: new Uint8Array(600) })).toMatchObject({
      code: 'rate-limited',
      message: /bytes/,
    });
    expect(payloadBytes({ a: 'xyz', b: [new Uint8Array(10), 1], c: null })).toBe(3 + 10 + 8 + 8);
  });
});
