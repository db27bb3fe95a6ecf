// Entry of the coordinator's worker threads (thread-pool.ts): a worker thread does not inherit the
// main thread's TypeScript loader, so it registers tsx itself, then runs the thread's module
// (workerData.module: predict-thread.ts, evaluation-thread.ts).
import { workerData } from 'node:worker_threads';

const { register } = await import('tsx/esm/api');
register();
await import(workerData.module);
