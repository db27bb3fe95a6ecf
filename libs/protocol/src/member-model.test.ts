import { describe, expect, it } from 'vitest';
import { memberModelSpec, memberSeed } from './member-model';
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
