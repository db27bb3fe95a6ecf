import { z } from 'zod';
import { VOTING_STRATEGIES, type VotingStrategy } from '@chorus/ensemble';

/**
 * The what-if panel's input: a sub-ensemble (member indices) and a voting strategy. Validated in
 * the browser (to explain mistakes at once) and again by the route handler, which forwards it to
 * the coordinator's `GET /api/runs/:id/what-if` (the true labels live in the run's dataset
 * bundle there).
 */
const strategies = VOTING_STRATEGIES as readonly [VotingStrategy, ...VotingStrategy[]];

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
    strategy: z.enum(strategies, { message: `Choose a strategy: ${VOTING_STRATEGIES.join(', ')}.` }),
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
  const raw = params.get('members') ?? '';
  if (!/^\d{1,4}(,\d{1,4})*$/.test(raw)) {
    return {
      ok: false,
      message:
        raw === ''
          ? 'Choose at least one member.'
          : 'members must be comma-separated member indices, e.g. 0,2.',
    };
  }
  return parseWhatIfInput(
    { members: raw.split(',').map(Number), strategy: params.get('strategy') },
    memberCount,
  );
}

export const whatIfSearch = (input: WhatIfInput): string =>
  new URLSearchParams({ members: input.members.join(','), strategy: input.strategy }).toString();

const scores = z.object({
  accuracy: z.number(),
  nll: z.number(),
  brier: z.number(),
  ece: z.number(),
  gainOverBest: z.number(),
  gainOverMean: z.number(),
});

/** The coordinator's answer (apps/coordinator services/what-if.ts). */
export const WhatIfResultSchema = z.object({
  strategy: z.enum(strategies),
  round: z.number().int(),
  members: z.array(
    z.object({
      index: z.number().int(),
      valAccuracy: z.number(),
      testAccuracy: z.number(),
      weight: z.number(),
    }),
  ),
  test: scores,
  validation: scores,
});
export type WhatIfResult = z.infer<typeof WhatIfResultSchema>;
