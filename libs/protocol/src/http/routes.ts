import { z } from 'zod';
import { RunExportSourceSchema } from '../ensemble-manifest';
import type { AccessLevel } from '../access';
import { ERROR_CODES } from '../errors';
import { RunConfigSchema } from '../run-config';
import { PredictAnswerSchema, PredictRequestSchema } from '../predict';
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
export const RunMemberParamsSchema = z.object({
  id: IdSchema,
  index: z.coerce.number().int().min(0).max(63),
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
/** The headers of a member's final checkpoint download for an export: the epoch it was taken after. */
export const ExportCheckpointHeadersSchema = z.object({ 'x-chorus-epoch': z.coerce.number().int().min(0) });
/**
 * The headers of a checkpoint upload: the worker and the lease it holds the member under (the
 * socket messages' fencing: a worker whose lease was taken over cannot write), and where the
 * weights leave the member's plan. `content-length` is required: the coordinator refuses a body
 * beyond the member's bound before reading it.
 */
export const CheckpointUploadHeadersSchema = z.object({
  'x-chorus-worker-id': z.string().uuid(),
  'x-chorus-attempt': z.coerce.number().int().min(1),
  'x-chorus-step': z.coerce.number().int().min(0),
  'x-chorus-plan-offset': z.coerce.number().int().min(0),
});
/** What the coordinator stored: the bytes and their sha256. */
export const CheckpointStoredSchema = z.object({
  epoch: z.number().int().min(0),
  bytes: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
/** Whether a dataset bundle is stored on the coordinator, and its size. */
export const DatasetStatusSchema = z.object({
  sha256: z.string(),
  stored: z.boolean(),
  bytes: z.number().int().min(0).nullable(),
});
export type DatasetStatus = z.output<typeof DatasetStatusSchema>;

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

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';
type AnyObject = z.ZodType<Record<string, unknown>, Record<string, unknown>>;

/** One route. `response` is the JSON answer; `download` marks a binary answer and its headers. */
export interface RouteSpec {
  method: HttpMethod;
  path: string;
  /**
   * Who may call it (access.ts, ACCESS_TOKENS): `viewer` for reads, `admin` for control actions,
   * `worker` for what workers fetch, `any` for liveness. Required, so no route forgets it.
   */
  auth: AccessLevel;
  params?: AnyObject;
  query?: AnyObject;
  body?: z.ZodType;
  /** The status of a success (200 unless given). */
  status?: number;
  response?: z.ZodType;
  download?: AnyObject;
  /** A binary body (application/octet-stream, streamed) and the schema of its request headers. */
  upload?: AnyObject;
}

const route = <const R extends RouteSpec>(spec: R): R => spec;

export const HTTP_ROUTES = {
  health: route({ method: 'GET', path: '/api/health', auth: 'any', response: HealthSchema }),
  listWorkers: route({
    method: 'GET',
    path: '/api/workers',
    auth: 'viewer',
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
  /** Prometheus' text exposition format (README "Metrics"); a read like the others (viewer token beyond loopback). */
  metrics: route({ method: 'GET', path: '/metrics', auth: 'viewer', download: MetricsHeadersSchema }),
  listRuns: route({
    method: 'GET',
    path: '/api/runs',
    auth: 'viewer',
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
  getRun: route({
    method: 'GET',
    path: '/api/runs/:id',
    auth: 'viewer',
    params: RunParamsSchema,
    response: RunDetailSchema,
  }),
  getRunEvaluations: route({
    method: 'GET',
    path: '/api/runs/:id/evaluations',
    auth: 'viewer',
    params: RunParamsSchema,
    response: z.object({ ensemble: z.array(EnsembleEvalSchema), diversity: z.array(DiversityEvalSchema) }),
  }),
  getRunMetrics: route({
    method: 'GET',
    path: '/api/runs/:id/metrics',
    auth: 'viewer',
    params: RunParamsSchema,
    response: z.object({ points: z.array(MetricPointViewSchema) }),
  }),
  getWhatIf: route({
    method: 'GET',
    path: '/api/runs/:id/what-if',
    auth: 'viewer',
    params: RunParamsSchema,
    query: WhatIfQuerySchema,
    response: WhatIfResultSchema,
  }),
  /** Predictions of a completed run's ensemble (predict.ts); 409 `conflict` for a run not completed. */
  predictRun: route({
    method: 'POST',
    path: '/api/runs/:id/predict',
    auth: 'admin',
    params: RunParamsSchema,
    body: PredictRequestSchema,
    response: PredictAnswerSchema,
  }),
  cancelRun: route({
    method: 'POST',
    path: '/api/runs/:id/cancel',
    auth: 'admin',
    params: RunParamsSchema,
    response: z.object({ id: z.string(), status: z.enum(RUN_STATUSES) }),
  }),
  /**
   * Deletes an ended run with everything stored for it, its checkpoint files and export included;
   * 409 `conflict` for a run still queued or running (cancel it first).
   */
  deleteRun: route({
    method: 'DELETE',
    path: '/api/runs/:id',
    auth: 'admin',
    params: RunParamsSchema,
    response: z.object({ id: z.string(), deleted: z.literal(true), checkpointDirs: z.number().int() }),
  }),
  getRunExport: route({
    method: 'GET',
    path: '/api/runs/:id/export',
    auth: 'admin',
    params: RunParamsSchema,
    response: RunExportSourceSchema,
  }),
  getRunExportMember: route({
    method: 'GET',
    path: '/api/runs/:id/export/members/:index',
    auth: 'admin',
    params: RunMemberParamsSchema,
    download: ExportCheckpointHeadersSchema,
  }),
  listDatasets: route({
    method: 'GET',
    path: '/api/datasets',
    auth: 'viewer',
    response: z.object({ datasets: z.array(DatasetListingSchema) }),
  }),
  getDataset: route({
    method: 'GET',
    path: '/api/datasets/:sha256',
    auth: 'worker',
    params: DatasetParamsSchema,
    download: DatasetHeadersSchema,
  }),
  /**
   * Whether a dataset bundle is stored (`chorus run` asks before uploading one: a second run on the
   * same data uploads nothing).
   */
  getDatasetStatus: route({
    method: 'GET',
    path: '/api/datasets/:sha256/status',
    auth: 'admin',
    params: DatasetParamsSchema,
    response: DatasetStatusSchema,
  }),
  /**
   * Uploads a dataset bundle (libs/data bundle.ts) under its sha256: streamed to a temporary file,
   * checked against the hash and renamed into the store, so nothing half-stored ever has the name.
   * At most CHORUS_UPLOAD_MAX_BYTES (413 beyond); a hash that does not match is refused (400).
   */
  putDataset: route({
    method: 'PUT',
    path: '/api/datasets/:sha256',
    auth: 'admin',
    params: DatasetParamsSchema,
    upload: z.object({}),
    status: 201,
    response: DatasetStatusSchema,
  }),
  /** A model file's initial weights (libs/models weights.ts container), as workers fetch them. */
  getWeights: route({
    method: 'GET',
    path: '/api/weights/:sha256',
    auth: 'worker',
    params: DatasetParamsSchema,
    download: DatasetHeadersSchema,
  }),
  /** Whether a model file's initial weights are stored (`chorus run` asks before uploading them). */
  getWeightsStatus: route({
    method: 'GET',
    path: '/api/weights/:sha256/status',
    auth: 'admin',
    params: DatasetParamsSchema,
    response: DatasetStatusSchema,
  }),
  /**
   * Uploads a model file's initial weights under their sha256 (`ModelFile.weights`), as putDataset
   * does a bundle: streamed, hash-checked, at most CHORUS_UPLOAD_MAX_BYTES, a weights container or 400.
   */
  putWeights: route({
    method: 'PUT',
    path: '/api/weights/:sha256',
    auth: 'admin',
    params: DatasetParamsSchema,
    upload: z.object({}),
    status: 201,
    response: DatasetStatusSchema,
  }),
  getCheckpoint: route({
    method: 'GET',
    path: '/api/checkpoints/:memberId/:epoch',
    auth: 'worker',
    params: CheckpointParamsSchema,
    download: CheckpointHeadersSchema,
  }),
  /** Large checkpoints (beyond CHECKPOINT_SOCKET_MAX_BYTES), streamed; apps/coordinator/README.md. */
  putCheckpoint: route({
    method: 'PUT',
    path: '/api/checkpoints/:memberId/:epoch',
    auth: 'worker',
    params: CheckpointParamsSchema,
    upload: CheckpointUploadHeadersSchema,
    response: CheckpointStoredSchema,
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
  ([SchemaOf<R, 'body'>] extends [never] ? unknown : { body: z.input<SchemaOf<R, 'body'>> }) &
  ([SchemaOf<R, 'upload'>] extends [never]
    ? unknown
    : { upload: { headers: z.input<SchemaOf<R, 'upload'>>; bytes: Uint8Array } });

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
