import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SHARDING_STRATEGIES } from '@chorus/protocol';
import { createRng, permutation } from './rng';
import { planShards, type MemberPlan, type ShardOptions, type ShardPlan } from './sharding';

/** Valid planShards options of any strategy, small enough to enumerate every batch. */
const optionsArb = fc
  .record({
    strategy: fc.constantFrom(...SHARDING_STRATEGIES),
    numSamples: fc.integer({ min: 1, max: 120 }),
    members: fc.integer({ min: 1, max: 5 }),
    batchSize: fc.integer({ min: 1, max: 25 }),
    epochs: fc.integer({ min: 1, max: 3 }),
    seed: fc.integer(),
  })
  .filter(
    (o) =>
      (o.strategy !== 'disjoint' || o.numSamples >= o.members) &&
      (o.strategy !== 'round-robin' || Math.ceil(o.numSamples / o.batchSize) >= o.members),
  );
const withStrategy = (s: ShardOptions['strategy']) =>
  optionsArb.map((o) => ({ ...o, strategy: s })).filter((o) => planOk(o));

function planOk(o: ShardOptions): boolean {
  try {
    planShards(o);
    return true;
  } catch {
    return false;
  }
}

const all = (p: MemberPlan): Int32Array[] => p.batches(0, p.totalBatches);
const epochBatches = (p: MemberPlan, e: number): Int32Array[] =>
  p.batches(p.firstBatchOfEpoch(e), p.batchesInEpoch(e));
const flat = (bs: Int32Array[]): number[] => bs.flatMap((b) => Array.from(b));
const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const members = (plan: ShardPlan): MemberPlan[] => range(plan.members).map((m) => plan.member(m));

describe('planShards: properties of every strategy', () => {
  it('batch sizes, epoch bookkeeping and index range', () => {
    fc.assert(
      fc.property(optionsArb, (o) => {
        const plan = planShards(o);
        for (const p of members(plan)) {
          expect(p.totalBatches).toBe(range(o.epochs).reduce((s, e) => s + p.batchesInEpoch(e), 0));
          for (let e = 0; e < o.epochs; e++) {
            const bs = epochBatches(p, e);
            expect(bs.length).toBeGreaterThan(0);
            expect(bs.reduce((s, b) => s + b.length, 0)).toBe(p.samplesPerEpoch(e));
            bs.forEach((b, j) => {
              expect(p.epochOf(p.firstBatchOfEpoch(e) + j)).toBe(e);
              expect(b.length).toBeGreaterThan(0);
              expect(b.length).toBeLessThanOrEqual(o.batchSize);
              if (j < bs.length - 1) expect(b.length).toBe(o.batchSize); // only an epoch's last batch is partial
            });
            for (const i of flat(bs)) expect(i >= 0 && i < o.numSamples).toBe(true);
          }
        }
      }),
      { numRuns: 60 },
    );
  });

  it('is deterministic: same options, same plan', () => {
    fc.assert(
      fc.property(optionsArb, (o) => {
        const a = members(planShards(o)).map(all);
        const b = members(planShards(o)).map(all);
        expect(b).toEqual(a);
      }),
      { numRuns: 40 },
    );
  });

  it('depends on the seed', () => {
    fc.assert(
      fc.property(
        optionsArb.filter((o) => o.numSamples >= 12),
        fc.integer(),
        (o, other) => {
          fc.pre(other !== o.seed);
          const a = members(planShards(o)).map(all);
          const b = members(planShards({ ...o, seed: other })).map(all);
          expect(b).not.toEqual(a);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('resumes from any offset: batches(offset, count) is the slice of the whole sequence', () => {
    fc.assert(
      fc.property(
        optionsArb,
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 0, max: 40 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        (o, mSeed, offSeed, count, randomAccess) => {
          const m = mSeed % o.members;
          const whole = all(planShards(o).member(m));
          const offset = offSeed % (whole.length + 1);
          // a fresh plan, entered at `offset` without visiting earlier batches
          const resumed = planShards(o).member(m);
          expect(resumed.batches(offset, count)).toEqual(whole.slice(offset, offset + count));
          for (const r of randomAccess) {
            const k = r % whole.length;
            expect(resumed.batch(k)).toEqual(whole[k]);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('returns fresh arrays that callers may modify', () => {
    const p = planShards({
      strategy: 'full',
      numSamples: 10,
      members: 1,
      batchSize: 4,
      epochs: 1,
      seed: 1,
    }).member(0);
    const b = p.batch(0);
    const copy = b.slice();
    b.fill(-1);
    expect(p.batch(0)).toEqual(copy);
  });
});

describe('round-robin (the mini-batch ensemble)', () => {
  it('within an epoch members get disjoint batches covering every index once', () => {
    fc.assert(
      fc.property(withStrategy('round-robin'), (o) => {
        const plan = planShards(o);
        for (let e = 0; e < o.epochs; e++) {
          const seen = members(plan).flatMap((p) => flat(epochBatches(p, e)));
          expect(sorted(seen)).toEqual(range(o.numSamples));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('deals global mini-batch j of createRng(seed, e)’s permutation to member j mod M', () => {
    const o = {
      strategy: 'round-robin',
      numSamples: 10,
      members: 2,
      batchSize: 3,
      epochs: 2,
      seed: 5,
    } as const;
    const plan = planShards(o);
    const [m0, m1] = [plan.member(0), plan.member(1)];
    for (let e = 0; e < 2; e++) {
      const perm = Array.from(permutation(10, createRng(5, e)));
      // global batches: [0,3) [3,6) [6,9) [9,10) → member 0 gets 0 and 2, member 1 gets 1 and 3
      expect(epochBatches(m0, e).map((b) => Array.from(b))).toEqual([perm.slice(0, 3), perm.slice(6, 9)]);
      expect(epochBatches(m1, e).map((b) => Array.from(b))).toEqual([perm.slice(3, 6), perm.slice(9, 10)]);
    }
    expect([m0.samplesPerEpoch(0), m1.samplesPerEpoch(0)]).toEqual([6, 4]);
    expect([m0.totalBatches, m1.firstBatchOfEpoch(1), m1.epochOf(3)]).toEqual([4, 2, 1]);
  });
});

describe('disjoint', () => {
  it('members never share an index in any epoch, and together cover every index once', () => {
    fc.assert(
      fc.property(withStrategy('disjoint'), (o) => {
        const plan = planShards(o);
        const owned = members(plan).map((p) => new Set(flat(all(p))));
        const union = owned.flatMap((s) => [...s]);
        expect(sorted(union)).toEqual(range(o.numSamples)); // disjoint and covering
        for (const p of members(plan)) {
          const first = sorted(flat(epochBatches(p, 0)));
          expect(new Set(first).size).toBe(first.length); // no repeats within an epoch
          for (let e = 1; e < o.epochs; e++) expect(sorted(flat(epochBatches(p, e)))).toEqual(first);
        }
        const sizes = members(plan).map((p) => p.samplesPerEpoch(0));
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 60 },
    );
  });

  it('member m owns contiguous part m of createRng(seed)’s permutation, reshuffled by (seed, m, e)', () => {
    const plan = planShards({
      strategy: 'disjoint',
      numSamples: 10,
      members: 3,
      batchSize: 2,
      epochs: 2,
      seed: 9,
    });
    const perm = Array.from(permutation(10, createRng(9)));
    const parts = [perm.slice(0, 3), perm.slice(3, 6), perm.slice(6, 10)];
    parts.forEach((part, m) => {
      for (let e = 0; e < 2; e++) {
        const order = Int32Array.from(part);
        createRng(9, m, e).shuffle(order);
        expect(flat(epochBatches(plan.member(m), e))).toEqual(Array.from(order));
      }
    });
  });
});

describe('bootstrap', () => {
  it('each member redraws the same bootstrap multiset every epoch; members differ', () => {
    fc.assert(
      fc.property(
        withStrategy('bootstrap').filter((o) => o.numSamples >= 10),
        (o) => {
          const plan = planShards(o);
          const multisets = members(plan).map((p) => {
            const first = sorted(flat(epochBatches(p, 0)));
            expect(first).toHaveLength(o.numSamples);
            for (let e = 1; e < o.epochs; e++) expect(sorted(flat(epochBatches(p, e)))).toEqual(first);
            return first.join();
          });
          expect(new Set(multisets).size).toBe(o.members);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('draws with replacement from createRng(seed, m)', () => {
    const plan = planShards({
      strategy: 'bootstrap',
      numSamples: 1000,
      members: 2,
      batchSize: 64,
      epochs: 1,
      seed: 3,
    });
    const rng = createRng(3, 1);
    const expected = sorted(Array.from({ length: 1000 }, () => rng.nextInt(1000)));
    const got = sorted(flat(all(plan.member(1))));
    expect(got).toEqual(expected);
    // about 1 - 1/e ≈ 63.2% distinct rows
    expect(new Set(got).size / 1000).toBeGreaterThan(0.58);
    expect(new Set(got).size / 1000).toBeLessThan(0.68);
  });
});

describe('full', () => {
  it('every member sees every index once per epoch, in its own order createRng(seed, m, e)', () => {
    fc.assert(
      fc.property(withStrategy('full'), (o) => {
        const plan = planShards(o);
        for (const p of members(plan)) {
          for (let e = 0; e < o.epochs; e++) {
            expect(flat(epochBatches(p, e))).toEqual(
              Array.from(permutation(o.numSamples, createRng(o.seed, p.member, e))),
            );
          }
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe('planShards errors', () => {
  const base: ShardOptions = {
    strategy: 'full',
    numSamples: 10,
    members: 2,
    batchSize: 4,
    epochs: 2,
    seed: 1,
  };
  it('rejects impossible options with a reason', () => {
    expect(() => planShards({ ...base, members: 0 })).toThrow('members must be an integer ≥ 1, got 0');
    expect(() => planShards({ ...base, batchSize: 0 })).toThrow('batchSize must be an integer ≥ 1');
    expect(() => planShards({ ...base, epochs: 1.5 })).toThrow('epochs must be an integer ≥ 1');
    expect(() => planShards({ ...base, numSamples: 0 })).toThrow('numSamples must be an integer ≥ 1');
    expect(() => planShards({ ...base, seed: NaN })).toThrow('seed must be a finite number');
    expect(() => planShards({ ...base, strategy: 'bagging' as never })).toThrow('unknown strategy "bagging"');
    expect(() => planShards({ ...base, strategy: 'disjoint', members: 11 })).toThrow(
      'disjoint sharding needs at least one sample per member (10 samples, 11 members)',
    );
    expect(() => planShards({ ...base, strategy: 'round-robin', members: 4 })).toThrow(
      'fewer than 4 members',
    );
  });

  it('rejects out-of-range members, batches, epochs and offsets', () => {
    const plan = planShards(base);
    expect(() => plan.member(2)).toThrow('member 2 does not exist: this plan has members 0…1');
    const p = plan.member(1);
    expect(p.totalBatches).toBe(6);
    expect(() => p.batch(6)).toThrow("batch 6 is outside member 1's plan (batches 0…5)");
    expect(() => p.batch(-1)).toThrow('batch -1');
    expect(() => p.batch(0.5)).toThrow('batch 0.5');
    expect(() => p.epochOf(6)).toThrow('batch 6');
    expect(() => p.batchesInEpoch(2)).toThrow('epoch 2 is outside the run');
    expect(() => p.batches(7, 1)).toThrow('offset 7');
    expect(() => p.batches(0, -1)).toThrow('count must be');
    expect(p.batches(6, 10)).toEqual([]);
    expect(p.batches(4, 10)).toHaveLength(2);
  });
});
