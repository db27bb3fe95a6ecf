import { z } from 'zod';
import { STRATEGY_NAMES, StrategyResultSchema } from './run-result';

/**
 * "What if the ensemble were only these members, voting this way?" — the query of the
 * coordinator's `GET /api/runs/:id/what-if` (the dashboard's what-if panel forwards it) and its answer.
 */
export const WhatIfQuerySchema = z.object({
  /** Comma-separated member indices, e.g. `0,2,3` (deduplicated and sorted). */
  members: z
    .string({ message: 'Choose at least one member.' })
    .regex(/^\d{1,4}(,\d{1,4})*$/, 'members must be comma-separated member indices, e.g. 0,2')
    .transform((s) => [...new Set(s.split(',').map(Number))].sort((a, b) => a - b)),
  strategy: z.enum(STRATEGY_NAMES, { message: `strategy must be one of ${STRATEGY_NAMES.join(', ')}` }),
  /** Evaluation round; default the latest round every chosen member has sent both splits of. */
  round: z.coerce.number().int().min(0).optional(),
});
export type WhatIfQuery = z.infer<typeof WhatIfQuerySchema>;

export const WhatIfResultSchema = z.object({
  runId: z.string(),
  strategy: z.enum(STRATEGY_NAMES),
  round: z.number().int(),
  members: z.array(
    z.object({
      index: z.number().int(),
      valAccuracy: z.number(),
      testAccuracy: z.number(),
      weight: z.number(),
    }),
  ),
  /** Test split scores of the sub-ensemble; gains are over the chosen members only. */
  test: StrategyResultSchema,
  /** The same on the validation split (where the weights were fitted: it flatters the weighted strategies). */
  validation: StrategyResultSchema,
});
export type WhatIfResult = z.infer<typeof WhatIfResultSchema>;
