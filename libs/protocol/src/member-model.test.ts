import { describe, expect, it } from 'vitest';
import { memberModelSpec, MemberModelSpecSchema, memberSeed } from './member-model';
import { parseRunConfig } from './run-config';

describe('memberSeed', () => {
  it('is deterministic, differs between members and runs, and fits a 31-bit seed', () => {
    const seeds = [0, 1, 2, 3, 4].map((m) => memberSeed(1, m));
    expect(new Set(seeds).size).toBe(5);
    expect(seeds).toEqual([0, 1, 2, 3, 4].map((m) => memberSeed(1, m)));
    expect(memberSeed(2, 0)).not.toBe(memberSeed(1, 0));
    for (const s of seeds) expect(Number.isInteger(s) && s >= 0 && s < 2 ** 31).toBe(true);
  });
});

describe('memberModelSpec', () => {
  it('merges run settings, the member override and the derived seed', () => {
    const cfg = parseRunConfig({
      model: 'mlp',
      members: 3,
      optimizer: 'sgd',
      learningRate: 0.01,
      memberOverrides: [{ member: 1, dropout: 0.5, learningRate: 0.1 }, { member: 2, seed: 42 }],
    });
    expect(memberModelSpec(cfg, 0)).toEqual({ name: 'mlp', optimizer: 'sgd', learningRate: 0.01, seed: memberSeed(1, 0) });
    expect(memberModelSpec(cfg, 1)).toEqual({
      name: 'mlp',
      optimizer: 'sgd',
      learningRate: 0.1,
      dropout: 0.5,
      seed: memberSeed(1, 1),
    });
    expect(memberModelSpec(cfg, 2).seed).toBe(42);
  });
});

describe('MemberModelSpecSchema', () => {
  it('reads back every spec memberModelSpec makes, and refuses names outside the enums', () => {
    const cfg = parseRunConfig({
      model: 'lenet5',
      members: 2,
      optimizer: 'adam',
      memberOverrides: [{ member: 1, activation: 'tanh', width: 2, dropout: 0.25 }],
    });
    for (const m of [0, 1]) expect(MemberModelSpecSchema.parse(memberModelSpec(cfg, m))).toEqual(memberModelSpec(cfg, m));

    const refused = (spec: Record<string, unknown>) => {
      const result = MemberModelSpecSchema.safeParse(spec);
      return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(refused({ name: 'resnet', seed: 1 })).toEqual([
      'name: unknown model "resnet"; this version knows mlp, fashion-dnn, fashion-small, sign-cnn, lenet5, small-cnn',
    ]);
    expect(refused({ name: 'mlp', seed: 1, activation: 'gelu' })).toHaveLength(1);
    expect(refused({ name: 'mlp', seed: 1, optimizer: 'rmsprop' })).toHaveLength(1);
    expect(refused({ name: 'mlp', seed: 1, extra: true })).toHaveLength(1);
  });
});
