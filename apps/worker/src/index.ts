/**
 * @chorus/worker — trains ensemble members for a Chorus coordinator: one process per GPU (or per
 * group of CPU cores), `slots` members at a time.
 */
export { startWorker } from './worker';
export type { WorkerHandle, WorkerOptions } from './worker';
export { runWorkerMain } from './main';
export { readTlsTrust, tlsTrustOf, type TlsTrust } from './tls-trust';
export {
  parseEnv,
  resolveWorkerSettings,
  DEFAULT_CACHE_DIR,
  LOG_FORMATS,
  LOG_LEVELS,
  WORKER_BACKENDS,
} from './env';
export type {
  LogFormat,
  LogLevel,
  WorkerBackendPreference,
  WorkerEnv,
  WorkerFlags,
  WorkerSettings,
} from './env';
export { DatasetCache, RunDataProvider, writeAtomically } from './dataset-cache';
export type { BundleSource, DatasetRef, RunData } from './dataset-cache';
export { PlanStream, unpackChunk } from './plan-stream';
