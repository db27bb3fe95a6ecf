import { rm } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import type { LoadedEnsemble } from '@chorus/models';
import { ChorusError, parsePredictRows } from '@chorus/protocol';
import type { PredictThreadReply, PredictThreadRequest } from './predict-thread-messages';

/**
 * The coordinator's predict thread (started by predict-pool.ts through thread-entry.mjs): every
 * piece of TensorFlow.js work of `POST /api/runs/:id/predict` — loading libs/models, rebuilding a
 * run's members from their checkpoints and writing its export, predicting — runs here, so the
 * coordinator's event loop (heartbeats, leases, the dashboard) never waits on a model.
 */

/** Exports whose members stay loaded; a predict on another one loads it and drops the least recent. */
const LOADED_EXPORTS = 2;

type Models = typeof import('@chorus/models');

const port = parentPort;
if (port === null) throw new Error('predict-thread.ts runs in a worker thread (predict-pool.ts)');
const reply = (message: PredictThreadReply) => port.postMessage(message);

let models: Promise<Models> | undefined;
const libs = (): Promise<Models> => {
  models ??= (async () => {
    const lib = await import('@chorus/models');
    // wasm (cpu if it cannot start), never tensorflow: a GPU on this machine is for its workers.
    const backend = await lib.selectBackend('wasm').catch(() => lib.selectBackend('cpu'));
    reply({ kind: 'ready', backend: backend.backend });
    return lib;
  })();
  return models;
};

const loaded = new Map<string, Promise<LoadedEnsemble>>();
const ensembleOf = (lib: Models, dir: string): Promise<LoadedEnsemble> => {
  const cached = loaded.get(dir);
  if (cached) {
    loaded.delete(dir); // most recent last
    loaded.set(dir, cached);
    return cached;
  }
  const loading = lib.readEnsembleExport(dir);
  loaded.set(dir, loading);
  loading.catch(() => loaded.delete(dir)); // not written yet: tried again after write-export
  while (loaded.size > LOADED_EXPORTS) {
    const [oldest, evicted] = loaded.entries().next().value as [string, Promise<LoadedEnsemble>];
    loaded.delete(oldest);
    // predictEnsembleRows runs without awaiting once started, so no request is mid-way in it.
    evicted.then((e) => e.dispose()).catch(() => {});
  }
  return loading;
};

async function handle(request: PredictThreadRequest): Promise<PredictThreadReply> {
  const lib = await libs();
  if (request.kind === 'write-export') {
    const { source, dir } = request;
    await rm(dir, { recursive: true, force: true });
    const { inputShape, numClasses } = source.dataset;
    const members = await lib.modelsFromCheckpoints(
      source.config,
      { inputShape, numClasses },
      request.checkpoints,
    );
    try {
      await lib.writeEnsembleExport(dir, {
        runId: source.runId,
        config: source.config,
        dataset: source.dataset,
        result: source.result,
        combiners: source.combiners,
        models: members,
      });
    } finally {
      members.forEach((m) => lib.disposeModel(m));
    }
    return { kind: 'written', id: request.id };
  }
  let ensemble: LoadedEnsemble;
  try {
    ensemble = await ensembleOf(lib, request.dir);
  } catch {
    return { kind: 'missing', id: request.id };
  }
  const { dataset, defaultStrategy } = ensemble.manifest;
  const features = dataset.inputShape.reduce((a, b) => a * b, 1);
  const { x, count } = parsePredictRows(request.body, { features });
  const predictions = await lib.predictEnsembleRows(ensemble, x, count);
  return {
    kind: 'answer',
    id: request.id,
    answer: { strategy: defaultStrategy, classNames: lib.classNamesOf(dataset), predictions },
  };
}

port.on('message', (request: PredictThreadRequest) => {
  handle(request).then(reply, (error: unknown) => {
    const code = error instanceof ChorusError ? error.code : 'internal';
    reply({ kind: 'failed', id: request.id, code, message: (error as Error).message ?? String(error) });
  });
});
