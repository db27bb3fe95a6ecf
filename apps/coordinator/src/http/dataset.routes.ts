import type { FastifyInstance } from 'fastify';
import { ChorusError } from '@chorus/protocol';
import type { DatasetStore } from '../dataset-store';
import { registerRoute, type RouteTokens } from './route';

/** Default of CHORUS_UPLOAD_MAX_BYTES: the largest dataset bundle an upload may hold (4 GiB). */
export const DEFAULT_UPLOAD_MAX_BYTES = 4 * 1024 ** 3;

/**
 * The routes a launching machine uses to bring its own dataset (README "Your own data"): whether a
 * bundle is stored, and its upload (streamed, size-capped, hash-checked; dataset-store.ts putStream).
 * Downloads stay `getDataset` (system.routes.ts), for workers.
 */
export async function registerDatasetRoutes(
  app: FastifyInstance,
  deps: RouteTokens & { store: DatasetStore; uploadMaxBytes: number },
): Promise<void> {
  registerRoute(app, 'getDatasetStatus', deps, async ({ params }) => {
    const bytes = await deps.store.size(params.sha256);
    return { sha256: params.sha256, stored: bytes !== undefined, bytes: bytes ?? null };
  });

  // The body arrives as the request's own stream, unread (route.ts streamBinaryBodies).
  registerRoute(app, 'putDataset', deps, async ({ params, request, reply }) => {
    const { sha256 } = params;
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > deps.uploadMaxBytes) {
      reply.header('connection', 'close');
      throw new ChorusError(
        'too-large',
        `the upload is ${declared} bytes, more than the ${deps.uploadMaxBytes} this coordinator stores (CHORUS_UPLOAD_MAX_BYTES)`,
      );
    }
    const existing = await deps.store.size(sha256);
    if (existing !== undefined) {
      // Stored already (content-addressed: the same bytes): the body is not read.
      reply.header('connection', 'close');
      return { sha256, stored: true, bytes: existing };
    }
    if (!isStream(request.body)) {
      throw new ChorusError(
        'invalid-input',
        `PUT /api/datasets/${sha256} takes the bundle's bytes (content-type: application/octet-stream)`,
      );
    }
    try {
      const stored = await deps.store.putStream(sha256, request.body, deps.uploadMaxBytes);
      return { sha256, stored: true, bytes: stored.bytes };
    } catch (error) {
      reply.header('connection', 'close');
      throw error;
    }
  });
}

function isStream(body: unknown): body is AsyncIterable<Uint8Array> {
  return typeof body === 'object' && body !== null && Symbol.asyncIterator in body;
}
