import { ChorusError } from '@chorus/protocol';

/**
 * Per-connection budgets of a worker (apps/coordinator/README.md, "Limits"): token buckets for its
 * messages and their bytes, sized by its slots, and a bucket of its own for heartbeats, so a flood
 * of other messages from the same worker never starves the heartbeats that keep its leases. A
 * message over budget is answered `rate-limited` without being parsed; the worker backs off and
 * sends it again.
 */

export interface RateLimits {
  /** Messages per second per slot (heartbeats apart); a burst of twice that. */
  messagesPerSlot: number;
  /** Bytes per second per slot (binary attachments and strings); a burst of twice that. */
  bytesPerSlot: number;
  /** Heartbeats per second per connection; a burst of ten. */
  heartbeatsPerSecond: number;
}

/**
 * Headroom over what an honest worker sends: per member about 2 metrics/s, a plan chunk per 64
 * steps (≈ 16/s at 1,000 steps/s), two predictions and a checkpoint per epoch, and a heartbeat a
 * few seconds apart; socket checkpoints are at most 16 MiB (larger ones go over HTTP).
 */
export const DEFAULT_RATE_LIMITS: RateLimits = {
  messagesPerSlot: 100,
  bytesPerSlot: 64 * 1024 * 1024,
  heartbeatsPerSecond: 2,
};

/** A token bucket: `rate` tokens a second up to `burst`; `take` spends them or refuses. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  take(amount: number): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
    // A single message larger than the whole burst passes when the bucket is full (socket.io's
    // maxHttpBufferSize bounds it), leaving the bucket in debt.
    if (this.tokens < Math.min(amount, this.burst)) return false;
    this.tokens -= amount;
    return true;
  }
}

export interface WorkerBudget {
  /** Spends the budget of one message; a `rate-limited` ChorusError when it is exhausted. */
  admit(event: string, payload: unknown): ChorusError | undefined;
}

export function createWorkerBudget(
  limits: RateLimits,
  slots: number,
  now: () => number = Date.now,
): WorkerBudget {
  const messages = new TokenBucket(limits.messagesPerSlot * slots, 2 * limits.messagesPerSlot * slots, now);
  const bytes = new TokenBucket(limits.bytesPerSlot * slots, 2 * limits.bytesPerSlot * slots, now);
  const heartbeats = new TokenBucket(limits.heartbeatsPerSecond, 10, now);
  const refuse = (what: string) =>
    new ChorusError(
      'rate-limited',
      `this worker sends ${what} faster than the coordinator allows; back off and retry`,
    );
  return {
    admit(event, payload) {
      if (event === 'heartbeat') return heartbeats.take(1) ? undefined : refuse('heartbeats');
      if (!messages.take(1)) return refuse('messages');
      if (!bytes.take(payloadBytes(payload))) return refuse('bytes');
      return undefined;
    },
  };
}

/** About the bytes a payload takes: its binary attachments, strings and a few per other value. */
export function payloadBytes(value: unknown, depth = 0): number {
  if (value instanceof Uint8Array) return value.byteLength;
  if (typeof value === 'string') return value.length;
  if (value === null || typeof value !== 'object' || depth > 4) return 8;
  let sum = 0;
  for (const item of Array.isArray(value) ? value : Object.values(value))
    sum += payloadBytes(item, depth + 1);
  return sum;
}
