import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ChorusError } from '@chorus/protocol';
import type { DatasetStore, WeightsStore } from '../dataset-store';
import { registerRoute, type RouteTokens } from './route';

/** Default of CHORUS_UPLOAD_MAX_BYTES: the largest dataset bundle an upload may hold (4 GiB). */
export const DEFAULT_UPLOAD_MAX_BYTES = 4 * 1024 ** 3;

/**
 * The routes a launching machine uses to bring its own dataset (README "Your own data") and a model
 * file's initial weights (README "Your own model"): whether they are stored, and their upload
 * (streamed, size-capped, hash-checked; dataset-store.ts putStream). Bundle downloads stay
 * `getDataset` (system.routes.ts); weights are downloaded with `getWeights`, here.
 */
export async function registerDatasetRoutes(
  app: FastifyInstance,
  deps: RouteTokens & { store: DatasetStore; weights: WeightsStore; uploadMaxBytes: number },
): Promise<void> {
  registerRoute(app, 'getDatasetStatus', deps, async ({ params }) => status(deps.store, params.sha256));
  // The body arrives as the request's own stream, unread (route.ts streamBinaryBodies).
  registerRoute(app, 'putDataset', deps, async ({ params, request, reply }) =>
    put(deps.store, deps.uploadMaxBytes, params.sha256, request, reply),
  );

  // A model file's initial weights (README "Your own model"): stored and served as bundles are.
  registerRoute(app, 'getWeightsStatus', deps, async ({ params }) => status(deps.weights, params.sha256));
  registerRoute(app, 'putWeights', deps, async ({ params, request, reply }) =>
    put(deps.weights, deps.uploadMaxBytes, params.sha256, request, reply),
  );
  registerRoute(app, 'getWeights', deps, async ({ params, reply }) =>
    sendContentAddressed(reply, params.sha256, await deps.weights.open(params.sha256)),
  );
}

/**
 * Streams a stored file named by its sha256 (a dataset bundle, a model file's weights): its ETag is
 * the hash and, as the bytes of a hash never change, caches may keep it for good.
 */
export function sendContentAddressed(
  reply: FastifyReply,
  sha256: string,
  file: { stream: NodeJS.ReadableStream; bytes: number },
): FastifyReply {
  return reply
    .header('content-type', 'application/octet-stream')
    .header('content-length', file.bytes)
    .header('etag', `"${sha256}"`)
    .header('cache-control', 'public, max-age=31536000, immutable')
    .send(file.stream);
}

async function status(store: WeightsStore, sha256: string) {
  const bytes = await store.size(sha256);
  return { sha256, stored: bytes !== undefined, bytes: bytes ?? null };
}

async function put(
  store: WeightsStore,
  uploadMaxBytes: number,
  sha256: string,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > uploadMaxBytes) {
    reply.header('connection', 'close');
    throw new ChorusError(
      'too-large',
      `the upload is ${declared} bytes, more than the ${uploadMaxBytes} this coordinator stores (CHORUS_UPLOAD_MAX_BYTES)`,
    );
  }
  const existing = await store.size(sha256);
  if (existing !== undefined) {
    // Stored already (content-addressed: the same bytes): the body is not read.
    reply.header('connection', 'close');
    return { sha256, stored: true, bytes: existing };
  }
  if (!isStream(request.body)) {
    throw new ChorusError(
      'invalid-input',
      `PUT ${request.url} takes the bytes to store (content-type: application/octet-stream)`,
    );
  }
  try {
    const stored = await store.putStream(sha256, request.body, uploadMaxBytes);
    return { sha256, stored: true, bytes: stored.bytes };
  } catch (error) {
    reply.header('connection', 'close');
    throw error;
  }
}

function isStream(body: unknown): body is AsyncIterable<Uint8Array> {
  return typeof body === 'object' && body !== null && Symbol.asyncIterator in body;
}
