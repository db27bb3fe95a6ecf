import { z } from 'zod';
import { STRATEGY_NAMES, WhatIfQuerySchema, WhatIfResultSchema, type WhatIfResult } from '@chorus/protocol';

/**
 * The what-if panel's input: a sub-ensemble (member indices) and a voting strategy. Validated in
 * the browser (to explain mistakes at once) and again by the route handler, which forwards it to
 * the coordinator's `GET /api/runs/:id/what-if` (the true labels live in the run's dataset
 * bundle there). The wire format and the answer are libs/protocol's WhatIfQuerySchema and
 * WhatIfResultSchema; this adds what only the page knows: the run's member count.
 */

export function whatIfInputSchema(memberCount: number) {
  return z.object({
    members: z
      .array(
        z
          .number({ message: 'member indices are numbers' })
          .int('member indices are whole numbers')
          .min(0, 'member indices start at 0')
          .max(Math.max(0, memberCount - 1), `this run has members 0–${memberCount - 1}`),
      )
      .min(1, 'Choose at least one member.')
      .transform((list) => [...new Set(list)].sort((a, b) => a - b)),
    strategy: z.enum(STRATEGY_NAMES, { message: `Choose a strategy: ${STRATEGY_NAMES.join(', ')}.` }),
  });
}
export type WhatIfInput = z.infer<ReturnType<typeof whatIfInputSchema>>;

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

export function parseWhatIfInput(input: unknown, memberCount: number): Parsed<WhatIfInput> {
  const parsed = whatIfInputSchema(memberCount).safeParse(input);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, message: [...new Set(parsed.error.issues.map((i) => i.message))].join(' ') };
}

/** `?members=0,2&strategy=soft` → the same input; anything malformed is refused with a reason. */
export function parseWhatIfSearchParams(params: URLSearchParams, memberCount: number): Parsed<WhatIfInput> {
  const wire = WhatIfQuerySchema.safeParse({
    members: params.get('members') ?? undefined,
    strategy: params.get('strategy') ?? undefined,
  });
  if (!wire.success) {
    return { ok: false, message: [...new Set(wire.error.issues.map((i) => i.message))].join(' ') };
  }
  return parseWhatIfInput(wire.data, memberCount);
}

/** The input as the wire's query (WhatIfQuerySchema's input): `{ members: '0,2', strategy: 'soft' }`. */
export const whatIfQuery = (input: WhatIfInput): { members: string; strategy: WhatIfInput['strategy'] } => ({
  members: input.members.join(','),
  strategy: input.strategy,
});

export { WhatIfResultSchema, type WhatIfResult };
