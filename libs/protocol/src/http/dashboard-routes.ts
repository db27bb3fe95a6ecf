import { z } from 'zod';
import { DashboardTicketAnswerSchema } from '../dashboard-ticket';
import { ChorusError, ERROR_CODES, httpStatusFor, type ErrorCode } from '../errors';
import { StrategyResultSchema } from '../run-result';
import { PairwiseMatricesSchema, StoredDiversitySummarySchema } from '../stored';
import { WhatIfQuerySchema, WhatIfResultSchema } from '../what-if';
import { decodeAnswer, issueList, jsonOrUndefined } from './client';
import { routePath, RunParamsSchema } from './routes';
import { RunDetailSchema } from './views';

/**
 * The dashboard server's own routes (apps/dashboard `src/app/api`), which its browsers call: the
 * same contract as the coordinator's HTTP_ROUTES (routes.ts), one table, the handlers encode their
 * answer with the route's schema (`encodeAnswer`) and the browser decodes it (`fetchDashboardRoute`),
 * so an answer that does not match is an error naming the route and the field. They take no token:
 * the dashboard server holds the coordinator's tokens itself and listens on loopback by default.
 */

/** A chart point: x (a step or an epoch), y. */
export const XYSchema = z.tuple([z.number(), z.number()]).readonly();
export type XY = z.output<typeof XYSchema>;

/** One member's training curves (loss and accuracy by step), downsampled for the charts. */
export const MemberCurveSchema = z.object({
  index: z.number().int().min(0),
  loss: z.array(XYSchema),
  accuracy: z.array(XYSchema),
});
export type MemberCurve = z.output<typeof MemberCurveSchema>;

/** One complete round of the test split: each strategy's accuracy, the members' and the diversity. */
export const RoundSummarySchema = z.object({
  round: z.number().int().min(0),
  /** Strategy → test accuracy. */
  strategies: z.record(z.string(), z.number()),
  bestMember: z.number().nullable(),
  meanMember: z.number().nullable(),
  diversity: StoredDiversitySummarySchema.nullable(),
  /** By member index; null where the stored matrices cannot tell (fewer than three members). */
  memberAccuracy: z.array(z.number().nullable()),
  memberDisagreement: z.array(z.number().nullable()),
});
export type RoundSummary = z.output<typeof RoundSummarySchema>;

/** The diversity heatmaps' round: the latest complete one, else the live view. */
export const DiversityPanelSchema = z.object({
  source: z.enum(['round', 'live']),
  round: z.number().int().nullable(),
  memberCount: z.number().int(),
  pairwise: PairwiseMatricesSchema.nullable(),
  summary: StoredDiversitySummarySchema.nullable(),
});
export type DiversityPanelData = z.output<typeof DiversityPanelSchema>;

/** The metrics of the final table: a strategy's scores, some of them for a member's row. */
export const FINAL_METRICS = StrategyResultSchema.keyof().options;
export type FinalMetric = (typeof FINAL_METRICS)[number];
export const FINAL_TABLE_SOURCES = ['result', 'round', 'live'] as const;
export type FinalTableSource = (typeof FINAL_TABLE_SOURCES)[number];

export const FinalTableRowSchema = z.object({
  kind: z.enum(['strategy', 'member']),
  /** The strategy name, or the member index as a string. */
  key: z.string(),
  label: z.string(),
  values: StrategyResultSchema.partial(),
});
export type FinalTableRow = z.output<typeof FinalTableRowSchema>;

/** The final comparison table of a run (test split): from its result, else its latest complete round, else live. */
export const FinalTableSchema = z.object({
  source: z.enum(FINAL_TABLE_SOURCES),
  /** The complete round shown (source 'round'), else null. */
  round: z.number().int().nullable(),
  rows: z.array(FinalTableRowSchema),
});
export type FinalTable = z.output<typeof FinalTableSchema>;

/** Members' and the soft vote's validation accuracy after each epoch (complete rounds). */
export const ValidationCurvesSchema = z.object({
  members: z.array(z.object({ index: z.number().int().min(0), points: z.array(XYSchema) })),
  ensemble: z.array(XYSchema),
});
export type ValidationCurves = z.output<typeof ValidationCurvesSchema>;

/** GET /api/runs/:id/state: the run's status, members, evaluations and tables, without its curves. */
export const RunStateSchema = z.object({
  run: RunDetailSchema,
  rounds: z.array(RoundSummarySchema),
  diversity: DiversityPanelSchema.nullable(),
  finalTable: FinalTableSchema.nullable(),
  validation: ValidationCurvesSchema,
  /** The names of the workers that hold members now, by worker id (the Workers page's names). */
  workerNames: z.record(z.string(), z.string()),
  /** What those workers train on, by worker id: the device string of their handshake ("GPU 0: …"). */
  workerDevices: z.record(z.string(), z.string()),
});
export type RunState = z.output<typeof RunStateSchema>;

/** GET /api/runs/:id: the whole run page (what the server rendered): the state and every member's curves. */
export const RunPageSchema = RunStateSchema.extend({ curves: z.array(MemberCurveSchema) });
export type RunPageData = z.output<typeof RunPageSchema>;

/** GET /api/health: 200 once the dashboard's database answers (else 503 with DashboardErrorBodySchema). */
export const DashboardHealthSchema = z.object({ ok: z.literal(true) });

/** The body of every error answer of the dashboard server's routes. */
export const DashboardErrorBodySchema = z.object({ ok: z.literal(false), message: z.string() });
export type DashboardErrorBody = z.output<typeof DashboardErrorBodySchema>;

/** One route of the dashboard server: its path, path params, query and answer. */
export interface DashboardRouteSpec {
  method: 'GET';
  path: string;
  params?: z.ZodType<Record<string, unknown>, Record<string, unknown>>;
  query?: z.ZodType<Record<string, unknown>, Record<string, unknown>>;
  response: z.ZodType;
}

const route = <const R extends DashboardRouteSpec>(spec: R): R => spec;

export const DASHBOARD_ROUTES = {
  health: route({ method: 'GET', path: '/api/health', response: DashboardHealthSchema }),
  /** A ticket for the browser's socket to the coordinator (dashboard-ticket.ts). */
  socketTicket: route({ method: 'GET', path: '/api/socket-ticket', response: DashboardTicketAnswerSchema }),
  /** Refetched after every (re)join of the run's room. */
  getRunPage: route({
    method: 'GET',
    path: '/api/runs/:id',
    params: RunParamsSchema,
    response: RunPageSchema,
  }),
  /** Refetched after member and evaluation notifications. */
  getRunState: route({
    method: 'GET',
    path: '/api/runs/:id/state',
    params: RunParamsSchema,
    response: RunStateSchema,
  }),
  /** Checked against the run's members, then computed by the coordinator (HTTP_ROUTES.getWhatIf). */
  getWhatIf: route({
    method: 'GET',
    path: '/api/runs/:id/what-if',
    params: RunParamsSchema,
    query: WhatIfQuerySchema,
    response: WhatIfResultSchema,
  }),
};
export type DashboardRoutes = typeof DASHBOARD_ROUTES;
export type DashboardRouteName = keyof DashboardRoutes;
export type DashboardAnswer<N extends DashboardRouteName> = z.output<DashboardRoutes[N]['response']>;

/**
 * The wire form of a route's answer, for its handler's `Response.json`: dates as ISO strings. A
 * value that does not match the route's schema is a ChorusError('internal') naming the route and
 * the fields (the handler's own bug, reported rather than sent).
 */
export function encodeDashboardAnswer<N extends DashboardRouteName>(
  name: N,
  value: DashboardAnswer<N>,
): unknown {
  const spec: DashboardRouteSpec = DASHBOARD_ROUTES[name];
  const encoded = z.safeEncode(spec.response, value);
  if (!encoded.success) {
    throw new ChorusError(
      'internal',
      `${spec.method} ${spec.path}: the answer does not match its schema: ${issueList(encoded.error)}`,
      { cause: encoded.error },
    );
  }
  return encoded.data;
}

/** A refusal of the dashboard server: the route as requested, the HTTP status and its message. */
export class DashboardHttpError extends ChorusError {
  constructor(
    code: ErrorCode,
    /** `METHOD /path` as requested. */
    readonly route: string,
    readonly status: number,
    /** The dashboard server's own message (without the route). */
    readonly reason: string,
  ) {
    super(code, `${route}: ${reason}`);
    this.name = 'DashboardHttpError';
  }
}

export interface DashboardCallInput {
  params?: Record<string, string | number>;
  query?: Record<string, string | number | undefined>;
}

/**
 * Calls a route of the dashboard server from the browser (relative to the page) or from Node
 * (`baseUrl`), `cache: 'no-store'`, and decodes the answer with the route's schema. An error
 * status is a DashboardHttpError carrying the server's message; an answer that does not match its
 * schema is a ChorusError('internal') naming the route and the fields.
 */
export async function fetchDashboardRoute<N extends DashboardRouteName>(
  name: N,
  input: DashboardCallInput = {},
  options: { baseUrl?: string; signal?: AbortSignal } = {},
): Promise<DashboardAnswer<N>> {
  const spec: DashboardRouteSpec = DASHBOARD_ROUTES[name];
  const path = routePath(spec.path, input.params);
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(input.query ?? {})) {
    if (value !== undefined) search.set(key, String(value));
  }
  const relative = `${path}${search.size > 0 ? `?${search}` : ''}`;
  const url = options.baseUrl === undefined ? relative : new URL(relative, options.baseUrl);
  const requested = `${spec.method} ${path}`;
  // Never the browser's cached copy: these answers follow the database. (`cache` is in the DOM's
  // RequestInit, not in Node's, which ignores it.)
  const init: RequestInit & { cache: 'no-store' } = {
    cache: 'no-store',
    ...(options.signal !== undefined && { signal: options.signal }),
  };
  const response = await fetch(url, init);
  const text = await response.text();
  const json = jsonOrUndefined(text);
  if (!response.ok) {
    const body = DashboardErrorBodySchema.safeParse(json);
    const code: ErrorCode = ERROR_CODES.find((c) => httpStatusFor(c) === response.status) ?? 'internal';
    const reason = body.success ? body.data.message : `HTTP ${response.status} ${response.statusText}`.trim();
    throw new DashboardHttpError(code, requested, response.status, reason);
  }
  if (json === undefined) {
    throw new ChorusError(
      'internal',
      `${spec.method} ${spec.path}: the answer is not JSON: ${text.slice(0, 200)}`,
    );
  }
  return decodeAnswer(`${spec.method} ${spec.path}`, spec.response, json) as DashboardAnswer<N>;
}
