import { SHARDING_STRATEGIES, type ShardingStrategyName } from '@chorus/protocol';
import { DatasetError } from './errors';
import { createRng, permutation } from './rng';

export interface ShardOptions {
  strategy: ShardingStrategyName;
  /** Training rows; indices run over 0…numSamples-1. */
  numSamples: number;
  members: number;
  batchSize: number;
  epochs: number;
  seed: number;
}

/** One member's whole sequence of mini-batches, addressed by a run-wide batch index k. */
export interface MemberPlan {
  member: number;
  totalBatches: number;
  epochOf(batchIndex: number): number;
  batchesInEpoch(epoch: number): number;
  firstBatchOfEpoch(epoch: number): number;
  /** Sample indices of mini-batch k (0-based over the whole run); a fresh array. */
  batch(k: number): Int32Array;
  /** Batches offset…offset+count-1, cut short at the end of the run (empty at offset = totalBatches). */
  batches(offset: number, count: number): Int32Array[];
  samplesPerEpoch(epoch: number): number;
}

export interface ShardPlan {
  strategy: ShardingStrategyName;
  members: number;
  epochs: number;
  batchSize: number;
  numSamples: number;
  member(m: number): MemberPlan;
}

/**
 * How a member's samples are laid out in one epoch: its "epoch order" (indices in the order they
 * are visited) and which contiguous ranges of it form its batches.
 */
interface EpochLayout {
  batchesPerEpoch: number;
  /** Indices visited by member in epoch e, in order (may be cached by the caller). */
  order(e: number): Int32Array;
  /** [start, end) of the member's j-th batch of the epoch within order(e). */
  range(j: number): [number, number];
  samplesPerEpoch: number;
}

/**
 * Plans every member's mini-batches (see README.md for the exact definitions). Deterministic in
 * the options; any batch is computed from its epoch's permutation alone, so a member can resume
 * at any offset without replaying earlier batches.
 */
export function planShards(o: ShardOptions): ShardPlan {
  validate(o);
  const { strategy, numSamples: n, members, batchSize: b, epochs, seed } = o;
  // round-robin: all members slice the same per-epoch permutation, so share one cache.
  const sharedEpoch = cachedByEpoch((e) => permutation(n, createRng(seed, e)));
  // disjoint: the fixed permutation that is cut into the members' parts.
  let disjointPerm: Int32Array | undefined;

  const layoutOf = (m: number): EpochLayout => {
    switch (strategy) {
      case 'round-robin': {
        const globalBatches = Math.ceil(n / b);
        const mine = Math.floor((globalBatches - 1 - m) / members) + 1;
        const lastGlobal = m + (mine - 1) * members;
        const samples = (mine - 1) * b + (Math.min(n, (lastGlobal + 1) * b) - lastGlobal * b);
        return {
          batchesPerEpoch: mine,
          order: sharedEpoch,
          range: (j) => {
            const g = m + j * members;
            return [g * b, Math.min(n, (g + 1) * b)];
          },
          samplesPerEpoch: samples,
        };
      }
      case 'disjoint': {
        const start = Math.floor((m * n) / members);
        const end = Math.floor(((m + 1) * n) / members);
        const part = (): Int32Array =>
          (disjointPerm ??= permutation(n, createRng(seed))).subarray(start, end);
        return shuffledEach(end - start, b, (e) => {
          const p = part().slice();
          createRng(seed, m, e).shuffle(p);
          return p;
        });
      }
      case 'bootstrap': {
        let sample: Int32Array | undefined;
        const draw = (): Int32Array => {
          if (sample) return sample;
          const rng = createRng(seed, m);
          sample = new Int32Array(n);
          for (let i = 0; i < n; i++) sample[i] = rng.nextInt(n);
          return sample;
        };
        return shuffledEach(n, b, (e) => {
          const p = draw().slice();
          createRng(seed, m, e).shuffle(p);
          return p;
        });
      }
      case 'full':
        return shuffledEach(n, b, (e) => permutation(n, createRng(seed, m, e)));
    }
  };

  const plans = new Map<number, MemberPlan>();
  return {
    strategy,
    members,
    epochs,
    batchSize: b,
    numSamples: n,
    member(m: number): MemberPlan {
      if (!Number.isInteger(m) || m < 0 || m >= members) {
        throw new DatasetError(
          'invalid',
          `member ${m} does not exist: this plan has members 0…${members - 1}`,
        );
      }
      let plan = plans.get(m);
      if (!plan) {
        plan = memberPlan(m, epochs, layoutOf(m));
        plans.set(m, plan);
      }
      return plan;
    },
  };
}

/** A layout whose epoch order is `order(e)`, cut into consecutive batches of `b` (last one partial). */
function shuffledEach(size: number, b: number, order: (e: number) => Int32Array): EpochLayout {
  return {
    batchesPerEpoch: Math.ceil(size / b),
    order: cachedByEpoch(order),
    range: (j) => [j * b, Math.min(size, (j + 1) * b)],
    samplesPerEpoch: size,
  };
}

/** Remembers the most recent epoch's order: workers walk batches epoch by epoch. */
function cachedByEpoch(make: (e: number) => Int32Array): (e: number) => Int32Array {
  let epoch = -1;
  let value: Int32Array | undefined;
  return (e) => {
    if (value === undefined || e !== epoch) {
      value = make(e);
      epoch = e;
    }
    return value;
  };
}

function memberPlan(member: number, epochs: number, layout: EpochLayout): MemberPlan {
  const per = layout.batchesPerEpoch;
  const totalBatches = per * epochs;
  const checkEpoch = (e: number): void => {
    if (!Number.isInteger(e) || e < 0 || e >= epochs) {
      throw new DatasetError('invalid', `epoch ${e} is outside the run (epochs 0…${epochs - 1})`);
    }
  };
  const checkBatch = (k: number): void => {
    if (!Number.isInteger(k) || k < 0 || k >= totalBatches) {
      throw new DatasetError(
        'invalid',
        `batch ${k} is outside member ${member}'s plan (batches 0…${totalBatches - 1})`,
      );
    }
  };
  const batch = (k: number): Int32Array => {
    checkBatch(k);
    const e = Math.floor(k / per);
    const [start, end] = layout.range(k - e * per);
    return layout.order(e).slice(start, end);
  };
  return {
    member,
    totalBatches,
    epochOf: (k) => {
      checkBatch(k);
      return Math.floor(k / per);
    },
    batchesInEpoch: (e) => {
      checkEpoch(e);
      return per;
    },
    firstBatchOfEpoch: (e) => {
      checkEpoch(e);
      return e * per;
    },
    batch,
    batches: (offset, count) => {
      if (!Number.isInteger(offset) || offset < 0 || offset > totalBatches) {
        throw new DatasetError(
          'invalid',
          `offset ${offset} is outside member ${member}'s plan (0…${totalBatches})`,
        );
      }
      if (!Number.isInteger(count) || count < 0) {
        throw new DatasetError('invalid', `count must be a non-negative integer, got ${count}`);
      }
      const out: Int32Array[] = [];
      for (let k = offset; k < Math.min(totalBatches, offset + count); k++) out.push(batch(k));
      return out;
    },
    samplesPerEpoch: (e) => {
      checkEpoch(e);
      return layout.samplesPerEpoch;
    },
  };
}

function validate(o: ShardOptions): void {
  const bad = (msg: string): never => {
    throw new DatasetError('invalid', `planShards: ${msg}`);
  };
  if (!(SHARDING_STRATEGIES as readonly string[]).includes(o.strategy)) {
    bad(`unknown strategy "${String(o.strategy)}"; expected one of ${SHARDING_STRATEGIES.join(', ')}`);
  }
  const positiveInt = (name: keyof ShardOptions): void => {
    const v = o[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
      bad(`${name} must be an integer ≥ 1, got ${String(v)}`);
  };
  positiveInt('members');
  positiveInt('batchSize');
  positiveInt('epochs');
  positiveInt('numSamples');
  if (!Number.isFinite(o.seed)) bad(`seed must be a finite number, got ${o.seed}`);
  if (o.strategy === 'disjoint' && o.numSamples < o.members) {
    bad(
      `disjoint sharding needs at least one sample per member (${o.numSamples} samples, ${o.members} members)`,
    );
  }
  if (o.strategy === 'round-robin' && Math.ceil(o.numSamples / o.batchSize) < o.members) {
    bad(
      `round-robin gives each member whole mini-batches: ${o.numSamples} samples in batches of ${o.batchSize} ` +
        `make ${Math.ceil(o.numSamples / o.batchSize)} per epoch, fewer than ${o.members} members`,
    );
  }
}
