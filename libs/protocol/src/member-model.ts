import { overridesFor, type RunConfig } from './run-config';

/**
 * The weight-initialisation seed of member `member` of a run: derived from the run seed only, so a
 * member rebuilt on another worker starts from the same weights. A 31-bit integer (tfjs seeds).
 */
export function memberSeed(runSeed: number, member: number): number {
  // murmur3's 32-bit finaliser over (run seed, member): pure JS, so the dashboard can import it too.
  let h = mix(runSeed ^ 0x9e3779b9);
  h = mix(h ^ Math.imul(member + 1, 0x85ebca6b));
  return h & 0x7fffffff;
}

function mix(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** What a member is built from: the run's model and optimizer settings, its overrides, its seed. */
export interface MemberModelSpec {
  name: RunConfig['model'];
  seed: number;
  activation?: 'relu' | 'sigmoid' | 'tanh';
  dropout?: number;
  width?: number;
  optimizer?: 'adam' | 'sgd';
  learningRate?: number;
}

export function memberModelSpec(cfg: RunConfig, member: number): MemberModelSpec {
  const overrides = overridesFor(cfg, member);
  return {
    name: cfg.model,
    ...(cfg.optimizer ? { optimizer: cfg.optimizer } : {}),
    ...(cfg.learningRate ? { learningRate: cfg.learningRate } : {}),
    ...overrides,
    seed: overrides.seed ?? memberSeed(cfg.seed, member),
  };
}
