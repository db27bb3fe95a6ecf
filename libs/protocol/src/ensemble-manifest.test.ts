import { describe, expect, it } from 'vitest';
import { EnsembleManifestSchema, ExportPathSchema } from './ensemble-manifest';
import { formatIssues, parseRunConfig } from './run-config';

const scores = { accuracy: 0.9, nll: 0.3, brier: 0.1, ece: 0.02, gainOverBest: 0.01, gainOverMean: 0.02 };
const manifest = {
  format: 'chorus-ensemble',
  version: 1,
  runId: 'local-1',
  createdAt: '2026-12-03T12:00:00.000Z',
  config: parseRunConfig({ dataset: 'digits', members: 2 }),
  dataset: {
    name: 'digits',
    inputShape: [8, 8, 1],
    numClasses: 10,
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    preprocess: {
      rawRange: [0, 16],
      divisor: 16,
      normalize: null,
      image: { height: 8, width: 8, channels: 1 },
    },
  },
  strategies: ['hard', 'soft', 'optimal-weights'],
  defaultStrategy: 'soft',
  members: [0, 1].map((index) => ({
    index,
    path: `members/${index}`,
    valAccuracy: 0.8,
    testAccuracy: 0.85,
    weight: 0.5,
  })),
  combiners: { 'optimal-weights': { combiner: 'optimal-weights', numClasses: 10, weights: [0.3, 0.7] } },
  result: {
    members: [0, 1].map((index) => ({ index, valAccuracy: 0.8, testAccuracy: 0.85, samplesPerSecond: 100 })),
    weights: [0.5, 0.5],
    ensemble: {
      hard: scores,
      soft: scores,
      'weighted-soft': scores,
      'weighted-hard': scores,
      geometric: scores,
    },
    diversity: {
      disagreement: 0.1,
      qStatistic: 0.9,
      correlation: 0.5,
      doubleFault: 0.05,
      kappa: 0.7,
      entropy: 0.1,
      kwVariance: 0.02,
      interraterKappa: 0.7,
    },
  },
  files: { 'members/0/model.json': 'a'.repeat(64) },
};

const issues = (value: unknown) => {
  const parsed = EnsembleManifestSchema.safeParse(value);
  return parsed.success ? '' : formatIssues(parsed.error);
};

describe('EnsembleManifestSchema', () => {
  it('accepts a manifest', () => {
    expect(issues(manifest)).toBe('');
  });

  it('names what is wrong: default strategy, a combiner missing or of the wrong size, member order', () => {
    expect(issues({ ...manifest, defaultStrategy: 'geometric' })).toBe(
      'defaultStrategy: must be one of strategies',
    );
    expect(issues({ ...manifest, combiners: {} })).toBe(
      'combiners.optimal-weights: is missing for strategy optimal-weights',
    );
    expect(
      issues({
        ...manifest,
        combiners: { 'optimal-weights': { combiner: 'optimal-weights', numClasses: 10, weights: [1] } },
      }),
    ).toBe('combiners.optimal-weights.weights: must have one weight per member (2)');
    expect(issues({ ...manifest, members: [...manifest.members].reverse() })).toContain(
      'members.0.index: must be 0',
    );
    expect(issues({ ...manifest, version: 2 })).toContain('version');
  });

  it('keeps every path inside the directory', () => {
    for (const bad of ['../x', 'members/../../etc/passwd', '/abs', 'a\\b', 'members/./0', '']) {
      expect(ExportPathSchema.safeParse(bad).success, bad).toBe(false);
    }
    expect(ExportPathSchema.safeParse('members/0/group1-shard1of1.bin').success).toBe(true);
    expect(issues({ ...manifest, files: { '../model.json': 'a'.repeat(64) } })).toMatch(/^files/);
  });
});
