import { z } from 'zod';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const classes = z.number().int().min(2);

/**
 * Stacking: p(c) = softmax_c(b_c + Σ_m w_m · log max(p_m(c), 1e-12)), a multinomial logistic
 * regression on the members' log-probabilities with one weight per member (libs/ensemble README,
 * "Learned combiners").
 */
export const StackingParamsSchema = z.object({
  combiner: z.literal('stacking'),
  numClasses: classes,
  /** w_m, one per member (any sign). */
  weights: z.array(finite).min(1),
  /** b_c, one per class. */
  biases: z.array(finite).min(2),
  /** The L2 strength chosen by cross-validation (objective: mean NLL + λ/2 · (‖w‖² + ‖b‖²)). */
  lambda: z.number().positive(),
  /** The cross-validation: folds, the λ grid and the mean held-out NLL of each λ. */
  cv: z.object({
    folds: z.number().int().min(0),
    lambdas: z.array(z.number().positive()).min(1),
    nll: z.array(finite),
  }),
});

/** Optimal weights: p = Σ_m w_m p_m with w ≥ 0, Σ w = 1 minimising the validation NLL. */
export const OptimalWeightsParamsSchema = z.object({
  combiner: z.literal('optimal-weights'),
  numClasses: classes,
  weights: z.array(z.number().min(0)).min(1),
});

/**
 * Ensemble selection (Caruana et al. 2004): members picked greedily, with replacement;
 * p = the mean of the picked members' probabilities (weights = picks / number of picks).
 */
export const SelectionParamsSchema = z.object({
  combiner: z.literal('selection'),
  numClasses: classes,
  /** Member indices in the order they were picked (a member may appear more than once). */
  picks: z.array(z.number().int().min(0)).min(1),
  weights: z.array(z.number().min(0)).min(1),
});

/** A learned combiner's fitted parameters: plain JSON, stored with the evaluation that fitted them. */
export const CombinerParamsSchema = z.discriminatedUnion('combiner', [
  StackingParamsSchema,
  OptimalWeightsParamsSchema,
  SelectionParamsSchema,
]);

export type StackingParams = z.infer<typeof StackingParamsSchema>;
export type OptimalWeightsParams = z.infer<typeof OptimalWeightsParamsSchema>;
export type SelectionParams = z.infer<typeof SelectionParamsSchema>;
export type CombinerParams = z.infer<typeof CombinerParamsSchema>;
