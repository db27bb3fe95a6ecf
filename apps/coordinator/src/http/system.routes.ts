import type { FastifyInstance } from 'fastify';
import type { Repositories } from '@chorus/db';
import { listDatasets } from '@chorus/data';
import { ChorusError, PROTOCOL_VERSION } from '@chorus/protocol';
import type { DatasetStore } from '../dataset-store';
import { registerRoute, type RouteTokens } from './route';

export function registerSystemRoutes(
  app: FastifyInstance,
  deps: RouteTokens & { repos: Repositories; store: DatasetStore; clock: () => Date; leaseMs: number },
): void {
  registerRoute(app, 'health', deps, async () => ({
    ok: true as const,
    protocolVersion: PROTOCOL_VERSION,
    // Workers heartbeat well within this (a third of it, say).
    leaseMs: deps.leaseMs,
    time: deps.clock(),
  }));

  registerRoute(app, 'listWorkers', deps, async () => {
    const workers = await deps.repos.workers.list();
    return {
      workers: await Promise.all(
        workers.map(async (w) => ({
          ...w,
          members: (await deps.repos.members.listByWorker(w.id)).map((m) => ({
            memberId: m.id,
            runId: m.runId,
            index: m.index,
            status: m.status,
          })),
        })),
      ),
    };
  });

  /** Which datasets a run can use without a `datasetPath` (the New run form marks the others). */
  registerRoute(app, 'listDatasets', deps, async () => ({ datasets: await listDatasets() }));

  /** The dataset bundle workers cache, content-addressed (ETag = its sha256). */
  registerRoute(app, 'getDataset', deps, async ({ params, reply }) => {
    const { sha256 } = params;
    const { stream, bytes } = await deps.store.open(sha256);
    return reply
      .header('content-type', 'application/octet-stream')
      .header('content-length', bytes)
      .header('etag', `"${sha256}"`)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .send(stream);
  });

  /** A member's checkpoint weights (the bytes the worker sent), with its step and plan offset in headers. */
  registerRoute(app, 'getCheckpoint', deps, async ({ params, reply }) => {
    const { memberId, epoch } = params;
    const latest = await deps.repos.checkpoints.latest(memberId);
    // Only the latest checkpoint is what a resumed member loads (older ones are pruned).
    if (!latest || latest.epoch !== epoch) {
      throw new ChorusError(
        'not-found',
        latest
          ? `member ${memberId} has no checkpoint of epoch ${epoch} (latest: epoch ${latest.epoch})`
          : `member ${memberId} has no checkpoint`,
      );
    }
    return reply
      .header('content-type', 'application/octet-stream')
      .header('x-chorus-epoch', latest.epoch)
      .header('x-chorus-step', latest.step)
      .header('x-chorus-plan-offset', latest.planOffset)
      .send(Buffer.from(latest.weights.buffer, latest.weights.byteOffset, latest.weights.byteLength));
  });
}
