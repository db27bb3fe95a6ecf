import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import {
  ChorusError,
  httpStatusFor,
  MAX_PREDICT_BODY_BYTES,
  MAX_PREDICT_ROWS,
  parsePredictRows,
  type PredictAnswer,
  type RowPrediction,
  type ServedEnsemble as ServedEnsembleView,
  type StrategyName,
} from '@chorus/protocol';
import { bearerToken, tokenMatches } from '@chorus/coordinator';
import { isModelError } from '@chorus/models';
import { createBatcher, type BatcherOptions } from './batcher';
import { imageToRow } from '../image-row';

/** What the server serves: the loaded ensemble, as rows in and answer rows out. */
export interface ServedModel {
  /** `GET /ensemble`: the manifest without its file paths and hashes. */
  view: ServedEnsembleView;
  /** Raw values per row (the product of the input shape). */
  features: number;
  classNames: string[];
  strategy: StrategyName;
  /** Preprocesses and predicts `count` raw rows; one answer row each. */
  predictRows(x: Float32Array, count: number): Promise<RowPrediction[]>;
}

export interface ServeServerOptions {
  model: ServedModel;
  /** When set, every route but /health needs `Authorization: Bearer <token>`. */
  token?: string;
  maxRows?: number;
  maxBodyBytes?: number;
  batch?: Pick<BatcherOptions<RowPrediction>, 'waitMs' | 'maxBatchRows' | 'maxQueuedRows'>;
}

/**
 * `chorus serve`'s HTTP server (README "Serve an ensemble"): `POST /predict`, `GET /ensemble`,
 * `GET /health`. One model, loaded before the server starts; concurrent requests are batched
 * (batcher.ts). Errors answer `{ ok: false, code, message }` with the status of their code.
 */
export async function createServeServer(options: ServeServerOptions): Promise<FastifyInstance> {
  const { model } = options;
  const maxRows = options.maxRows ?? MAX_PREDICT_ROWS;
  const maxBodyBytes = options.maxBodyBytes ?? MAX_PREDICT_BODY_BYTES;
  const batcher = createBatcher({ features: model.features, run: model.predictRows, ...options.batch });
  const app = Fastify({ bodyLimit: maxBodyBytes, logger: false });

  app.setErrorHandler((error, _request, reply) => {
    const chorus = asServeError(error, maxBodyBytes);
    return reply
      .status(httpStatusFor(chorus.code))
      .send({ ok: false, code: chorus.code, message: chorus.message });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({
      ok: false,
      code: 'not-found',
      message: `no route ${request.method} ${request.url.split('?')[0]}; this server has POST /predict, GET /ensemble, GET /health`,
    }),
  );
  const token = options.token;
  if (token !== undefined) {
    app.addHook('onRequest', async (request) => {
      if (request.url === '/health') return;
      if (!tokenMatches(token, bearerToken(request.headers.authorization))) {
        throw new ChorusError(
          'unauthorized',
          'send "Authorization: Bearer <token>" with the token chorus serve was started with',
        );
      }
    });
  }

  // An image body (content-type image/*): one row, decoded and sized as the ensemble's images (../image-row.ts).
  app.addContentTypeParser(/^image\//, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.get('/health', async () => ({ ok: true, members: model.view.members.length, ...batcher.stats() }));
  app.get('/ensemble', async () => model.view);
  app.post('/predict', async (request): Promise<PredictAnswer> => {
    const body = Buffer.isBuffer(request.body)
      ? {
          rows: [
            Array.from(
              await imageToRow(request.body, model.view.dataset, {
                invert: invertOf(request.query),
                source: 'the body',
              }),
            ),
          ],
        }
      : request.body;
    const { x, count } = parsePredictRows(body, { features: model.features, maxRows });
    const predictions = await batcher.predict(x, count);
    return { strategy: model.strategy, classNames: model.classNames, predictions };
  });
  await app.ready();
  return app;
}

/** `?invert=1` (or `true`): the image is dark ink on a light background. */
function invertOf(query: unknown): boolean {
  const value = (query as { invert?: unknown } | undefined)?.invert;
  return value === '1' || value === 'true';
}

/** Any thrown value as a ChorusError; fastify's own refusals (body too large, bad JSON) keep their meaning. */
function asServeError(error: unknown, maxBodyBytes: number): ChorusError {
  if (error instanceof ChorusError) return error;
  const fastify = error as Partial<FastifyError>;
  if (fastify.statusCode === 413) {
    return new ChorusError(
      'too-large',
      `the request body is larger than ${maxBodyBytes} bytes; send fewer rows per request`,
    );
  }
  if (typeof fastify.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    // Empty body, malformed JSON, another content type: the request is wrong, say how.
    return new ChorusError(
      'invalid-input',
      `${fastify.message ?? 'bad request'} (send JSON: { "rows": [[...], ...] })`,
    );
  }
  if (isModelError(error) && error.code === 'invalid-data')
    return new ChorusError('invalid-input', error.message);
  return new ChorusError('internal', error instanceof Error ? error.message : String(error));
}
