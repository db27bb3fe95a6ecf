import { z } from 'zod';
import { ChorusError } from './errors';
import { MemberOverrideSchema, RunConfigSchema } from './run-config';
import { DiversitySummarySchema, RunResultSchema } from './run-result';

/**
 * The shapes of the database's JSON columns (prisma/schema.prisma `Json` fields). libs/db writes
 * them as these types and reads them back through `parseStored`: a stored value that does not
 * match is an error naming the column and the field, never a silent null.
 */

/** Run.config: the validated run config. */
export const StoredRunConfigSchema = RunConfigSchema;
/** Run.result: the final table, once the run has completed. */
export const StoredRunResultSchema = RunResultSchema.nullable();

/** Member.overrides: the member's entry of the run config's memberOverrides, without its index. */
export const MemberOverridesSchema = MemberOverrideSchema.omit({ member: true });
export type MemberOverrides = z.infer<typeof MemberOverridesSchema>;

const matrix = z.array(z.array(z.number()));
/** DiversityEval.pairwise: the M×M matrices of libs/ensemble `diversity()`, in the evaluated members' order. */
export const PairwiseMatricesSchema = z.object({
  disagreement: matrix,
  qStatistic: matrix,
  correlation: matrix,
  doubleFault: matrix,
  kappa: matrix,
});
export type PairwiseMatrices = z.infer<typeof PairwiseMatricesSchema>;

/**
 * DiversityEval.summary: RunResult's `diversity` (the pairwise means and the non-pairwise
 * measures) plus the evaluated members' indices and their accuracy on the split, in the matrices'
 * order (rows stored before these were recorded lack them).
 */
export const StoredDiversitySummarySchema = DiversitySummarySchema.extend({
  memberIndices: z.array(z.number().int().min(0)).optional(),
  memberAccuracies: z.array(z.number()).optional(),
});
export type StoredDiversitySummary = z.infer<typeof StoredDiversitySummarySchema>;

/** Checkpoint.weightSpecs: tfjs weight specs describing the checkpoint's bytes. */
export const WeightSpecsSchema = z
  .array(
    z.looseObject({
      name: z.string(),
      shape: z.array(z.number().int().min(0)),
      dtype: z.string().optional(),
    }),
  )
  .nullable();
export type WeightSpecs = z.infer<typeof WeightSpecsSchema>;

/**
 * A stored JSON value read back as its shape; throws ChorusError('internal') naming the column
 * (`where`, e.g. `Run.config of run abc`) and every field that does not match.
 */
export function parseStored<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const fields = parsed.error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(value)'}: ${issue.message}`)
    .join('; ');
  throw new ChorusError('internal', `the stored ${where} does not match its shape: ${fields}`, {
    cause: parsed.error,
  });
}
