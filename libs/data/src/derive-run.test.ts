import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memberModelSpec, MODEL_NAMES, parseRunConfig, SHARDING_STRATEGIES } from '@chorus/protocol';
import { datasetKeyOf, deriveRun, deriveSplits, splitSettingsOf } from './derive-run';
import { planShards } from './sharding';
import { prepareRunData } from './split';
import type { Split } from './types';

/** A small dataset: row r of train has features [r, r + 0.5] and label r mod 3. */
function dataset(trainRows: number, testRows: number): { train: Split; test: Split } {
  const split = (n: number, offset: number): Split => ({
    x: Float32Array.from({ length: 2 * n }, (_, i) => offset + Math.floor(i / 2) + (i % 2) / 2),
    y: Int32Array.from({ length: n }, (_, r) => (offset + r) % 3),
    count: n,
  });
  return { train: split(trainRows, 0), test: split(testRows, 1000) };
}

describe('deriveRun', () => {
  const config = parseRunConfig({
    dataset: 'synthetic',
    members: 3,
    sharding: 'bootstrap',
    epochs: 2,
    batchSize: 7,
    seed: 5,
    trainLimit: 90,
    validationFraction: 0.2,
    memberOverrides: [{ member: 2, seed: 42, dropout: 0.5 }],
  });

  it('is prepareRunData, planShards on its training rows and memberModelSpec of every member', () => {
    const data = dataset(120, 30);
    const run = deriveRun(config, data);
    const expected = prepareRunData(data, config);
    expect(run.train).toEqual(expected.train);
    expect(run.validation).toEqual(expected.validation);
    expect(run.test).toBe(data.test);
    // 90 rows, 18 held out: 72 training rows.
    expect(run.train.count).toBe(72);
    const plan = planShards({
      strategy: 'bootstrap',
      numSamples: 72,
      members: 3,
      batchSize: 7,
      epochs: 2,
      seed: 5,
    });
    for (let m = 0; m < 3; m++) {
      const p = run.plan.member(m);
      expect(p.batches(0, p.totalBatches)).toEqual(plan.member(m).batches(0, p.totalBatches));
    }
    expect(run.members).toEqual([0, 1, 2].map((m) => memberModelSpec(config, m)));
    expect(run.members[2]).toMatchObject({ seed: 42, dropout: 0.5 });
  });

  it('derives the same rows from the labels alone, copying no feature', () => {
    const data = dataset(120, 30);
    const full = deriveRun(config, data);
    const labels = deriveRun(
      config,
      { train: { y: data.train.y, count: 120 }, test: data.test },
      { features: false },
    );
    for (const split of ['train', 'validation', 'test'] as const) {
      expect(labels[split].y).toEqual(full[split].y);
      expect(labels[split].count).toBe(full[split].count);
    }
    // A full dataset handed in with features: false is not copied either.
    const fromFull = deriveRun(config, data, { features: false });
    expect((fromFull.validation as Split).x).toHaveLength(0);
    expect(fromFull.members).toEqual(full.members);
  });

  it('takes its splits from splitSettingsOf(config) alone (the worker caches them under it)', () => {
    const data = dataset(200, 10);
    const settingsArb = fc.record({
      seed: fc.integer({ min: 0, max: 1000 }),
      validationFraction: fc.double({ min: 0.05, max: 0.5, noNaN: true }),
      trainLimit: fc.option(fc.integer({ min: 20, max: 250 }), { nil: undefined }),
    });
    // Everything else a run config holds, varied independently of the split settings.
    const restArb = fc.record({
      model: fc.constantFrom(...MODEL_NAMES),
      sharding: fc.constantFrom(...SHARDING_STRATEGIES),
      members: fc.integer({ min: 1, max: 3 }),
      epochs: fc.integer({ min: 1, max: 4 }),
      batchSize: fc.integer({ min: 1, max: 5 }),
      name: fc.string({ minLength: 1, maxLength: 8 }).filter((s) => s.trim().length > 0),
    });
    fc.assert(
      fc.property(settingsArb, restArb, restArb, (settings, a, b) => {
        const defined = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
        const one = parseRunConfig({ dataset: 'synthetic', ...defined, ...a });
        const other = parseRunConfig({ dataset: 'mnist', ...defined, ...b });
        expect(splitSettingsOf(one)).toEqual(splitSettingsOf(other));
        const x = deriveRun(one, data);
        const y = deriveRun(other, data);
        expect([x.train, x.validation, x.test]).toEqual([y.train, y.validation, y.test]);
        // deriveSplits, given the settings alone, is the same part of the derivation.
        const z = deriveSplits(splitSettingsOf(one), data);
        expect([z.train, z.validation, z.test]).toEqual([x.train, x.validation, x.test]);
      }),
      { numRuns: 50 },
    );
    // …and a different split setting changes the rows.
    const base = parseRunConfig({ seed: 1, members: 1 });
    const moved = deriveRun({ ...base, seed: 2 }, data).validation.y;
    expect([...moved]).not.toEqual([...deriveRun(base, data).validation.y]);
  });

  it('refuses a config whose plan cannot work, as planShards does', () => {
    const small = parseRunConfig({
      members: 5,
      sharding: 'round-robin',
      batchSize: 64,
      validationFraction: 0.1,
    });
    expect(() => deriveRun(small, dataset(100, 10))).toThrow(
      /round-robin gives each member whole mini-batches/,
    );
  });
});

describe('datasetKeyOf', () => {
  it('tells datasets apart by name and path, and by seed only for the generated one', () => {
    const key = (input: object) => datasetKeyOf(parseRunConfig(input));
    // A file dataset does not depend on the run seed: two seeds share one loaded copy.
    expect(key({ dataset: 'digits', seed: 1 })).toBe(key({ dataset: 'digits', seed: 2 }));
    expect(key({ dataset: 'digits' })).not.toBe(
      key({ dataset: 'digits', datasetPath: '/data/digits.csv.gz' }),
    );
    expect(key({ dataset: 'digits' })).not.toBe(key({ dataset: 'mnist' }));
    // The synthetic dataset is generated from the seed.
    expect(key({ dataset: 'synthetic', seed: 1 })).not.toBe(key({ dataset: 'synthetic', seed: 2 }));
  });
});
