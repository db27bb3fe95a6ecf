import { z } from 'zod';
import { MemberOverrideSchema, MODEL_NAMES, overridesFor, type RunConfig } from './run-config';
import { ModelFileSchema } from './model-file';
import { fmix32 } from './seed-mix';

/**
 * The weight-initialisation seed of member `member` of a run: derived from the run seed only, so a
 * member rebuilt on another worker starts from the same weights. A 31-bit integer (tfjs seeds).
 */
export function memberSeed(runSeed: number, member: number): number {
  let h = fmix32(runSeed ^ 0x9e3779b9);
  h = fmix32(h ^ Math.imul(member + 1, 0x85ebca6b));
  return h & 0x7fffffff;
}

/**
 * What a member is built from: the run's model and optimizer settings, its overrides, its seed.
 * The coordinator sends it in every assignment; its fields are the run's names (model, activation,
 * optimizer) and a member override's, so a spec a worker receives builds without further checks.
 */
export const MemberModelSpecSchema = MemberOverrideSchema.omit({ member: true }).extend({
  name: z.enum(MODEL_NAMES, {
    error: (issue) => `unknown model "${String(issue.input)}"; this version knows ${MODEL_NAMES.join(', ')}`,
  }),
  seed: z.number().int().min(0),
  /** The run's model file: when present it is built, and `name` is not. */
  modelFile: ModelFileSchema.optional(),
});
export type MemberModelSpec = z.infer<typeof MemberModelSpecSchema>;

export function memberModelSpec(cfg: RunConfig, member: number): MemberModelSpec {
  const overrides = overridesFor(cfg, member);
  return {
    name: cfg.model,
    ...(cfg.optimizer ? { optimizer: cfg.optimizer } : {}),
    ...(cfg.learningRate ? { learningRate: cfg.learningRate } : {}),
    ...(cfg.modelFile ? { modelFile: cfg.modelFile } : {}),
    ...overrides,
    seed: overrides.seed ?? memberSeed(cfg.seed, member),
  };
}
