import { z } from 'zod';
import { ERROR_CODES } from '../errors';
import { RunConfigSchema } from '../run-config';
import { RUN_STATUSES } from '../statuses';
import { WhatIfQuerySchema, WhatIfResultSchema } from '../what-if';
import {
  DatasetListingSchema,
  DiversityEvalSchema,
  EnsembleEvalSchema,
  HealthSchema,
  MetricPointViewSchema,
  RunDetailSchema,
  RunListItemSchema,
  WorkerViewSchema,
} from './views';

/**
 * Every route of the coordinator's HTTP API: method, path, who may call it, and the schemas of its
 * path params, query, body and answer. The coordinator registers its handlers from this table and
 * `createHttpClient` (client.ts) derives its calls from it; libs/protocol/README.md lists it.
 */

/** Ids are cuids (runs, members); anything else in a path is refused before it reaches a query. */
export const IdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be an id (letters, digits, _ or -, at most 64)');

export const RunParamsSchema = z.object({ id: IdSchema });
export const DatasetParamsSchema = z.object({
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 hex digest'),
});
export const CheckpointParamsSchema = z.object({
  memberId: IdSchema,
  epoch: z.coerce.number().int().min(0).max(1_000_000),
});
/** Worker ids are chosen by the workers (uuids); the same character rules as other ids. */
export const WorkerParamsSchema = z.object({ id: IdSchema });
export const RunListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  status: z.enum(RUN_STATUSES).optional(),
});

/** The headers of a checkpoint download: where the weights leave the member's plan. */
export const CheckpointHeadersSchema = z.object({
  'x-chorus-epoch': z.coerce.number().int().min(0),
  'x-chorus-step': z.coerce.number().int().min(0),
  'x-chorus-plan-offset': z.coerce.number().int().min(0),
});
/** The headers of the Prometheus scrape: its text exposition format (the body is that text). */
export const MetricsHeadersSchema = z.object({ 'content-type': z.string().startsWith('text/plain') });
/** The headers of a dataset bundle download (content-addressed: the ETag is its sha256). */
export const DatasetHeadersSchema = z.object({ etag: z.string() });

/** The body of every error answer (errors.ts of the coordinator sends it with the code's status). */
export const ErrorBodySchema = z.object({
  ok: z.literal(false),
  code: z.enum(ERROR_CODES),
  message: z.string(),
  /** Which fields of the input failed their schema. */
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

export type HttpMethod = 'GET' | 'POST';
type AnyObject = z.ZodType<Record<string, unknown>, Record<string, unknown>>;

/** One route. `response` is the JSON answer; `download` marks a binary answer and its headers. */
export interface RouteSpec {
  method: HttpMethod;
  path: string;
  /** The bearer token the route needs: `admin` (CHORUS_ADMIN_TOKEN) or `worker` (CHORUS_WORKER_TOKEN). */
  auth?: 'admin' | 'worker';
  params?: AnyObject;
  query?: AnyObject;
  body?: z.ZodType;
  /** The status of a success (200 unless given). */
  status?: number;
  response?: z.ZodType;
  download?: AnyObject;
}

const route = <const R extends RouteSpec>(spec: R): R => spec;

export const HTTP_ROUTES = {
  health: route({ method: 'GET', path: '/api/health', response: HealthSchema }),
  listWorkers: route({
    method: 'GET',
    path: '/api/workers',
    response: z.object({ workers: z.array(WorkerViewSchema) }),
  }),
  /**
   * Asks a connected worker to drain: it checkpoints and releases its members at their next step,
   * then exits; it is leased nothing more (README "Health and draining").
   */
  drainWorker: route({
    method: 'POST',
    path: '/api/workers/:id/drain',
    auth: 'admin',
    params: WorkerParamsSchema,
    status: 202,
    response: z.object({ id: z.string(), draining: z.literal(true), members: z.number().int() }),
  }),
  /** Prometheus' text exposition format (README "Metrics"); open like the other reads. */
  metrics: route({ method: 'GET', path: '/metrics', download: MetricsHeadersSchema }),
  listRuns: route({
    method: 'GET',
    path: '/api/runs',
    query: RunListQuerySchema,
    response: z.object({ runs: z.array(RunListItemSchema) }),
  }),
  createRun: route({
    method: 'POST',
    path: '/api/runs',
    auth: 'admin',
    body: RunConfigSchema,
    status: 201,
    response: z.object({ id: z.string() }),
  }),
  getRun: route({ method: 'GET', path: '/api/runs/:id', params: RunParamsSchema, response: RunDetailSchema }),
  getRunEvaluations: route({
    method: 'GET',
    path: '/api/runs/:id/evaluations',
    params: RunParamsSchema,
    response: z.object({ ensemble: z.array(EnsembleEvalSchema), diversity: z.array(DiversityEvalSchema) }),
  }),
  getRunMetrics: route({
    method: 'GET',
    path: '/api/runs/:id/metrics',
    params: RunParamsSchema,
    response: z.object({ points: z.array(MetricPointViewSchema) }),
  }),
  getWhatIf: route({
    method: 'GET',
    path: '/api/runs/:id/what-if',
    params: RunParamsSchema,
    query: WhatIfQuerySchema,
    response: WhatIfResultSchema,
  }),
  cancelRun: route({
    method: 'POST',
    path: '/api/runs/:id/cancel',
    auth: 'admin',
    params: RunParamsSchema,
    response: z.object({ id: z.string(), status: z.enum(RUN_STATUSES) }),
  }),
  listDatasets: route({
    method: 'GET',
    path: '/api/datasets',
    response: z.object({ datasets: z.array(DatasetListingSchema) }),
  }),
  getDataset: route({
    method: 'GET',
    path: '/api/datasets/:sha256',
    auth: 'worker',
    params: DatasetParamsSchema,
    download: DatasetHeadersSchema,
  }),
  getCheckpoint: route({
    method: 'GET',
    path: '/api/checkpoints/:memberId/:epoch',
    auth: 'worker',
    params: CheckpointParamsSchema,
    download: CheckpointHeadersSchema,
  }),
} as const;

export type HttpRoutes = typeof HTTP_ROUTES;
export type RouteName = keyof HttpRoutes;

type SchemaOf<R, K extends string> = R extends { [P in K]: infer S extends z.ZodType } ? S : never;

/** What a caller gives: path params, query and body, each as the wire accepts it. */
export type RouteInput<R extends RouteSpec> = ([SchemaOf<R, 'params'>] extends [never]
  ? unknown
  : { params: z.input<SchemaOf<R, 'params'>> }) &
  ([SchemaOf<R, 'query'>] extends [never] ? unknown : { query?: z.input<SchemaOf<R, 'query'>> }) &
  ([SchemaOf<R, 'body'>] extends [never] ? unknown : { body: z.input<SchemaOf<R, 'body'>> });

/** What a handler returns and a caller gets: the decoded answer, or the bytes and headers of a download. */
export type RouteOutput<R extends RouteSpec> = [SchemaOf<R, 'download'>] extends [never]
  ? z.output<SchemaOf<R, 'response'>>
  : { bytes: Uint8Array<ArrayBuffer>; headers: z.output<SchemaOf<R, 'download'>> };

/** A route's path with its params filled in (each one URI-encoded). */
export function routePath(path: string, params: Record<string, unknown> = {}): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, (_match, name: string) => {
    if (!(name in params)) throw new TypeError(`${path}: missing path param ${name}`);
    return encodeURIComponent(String(params[name]));
  });
}
