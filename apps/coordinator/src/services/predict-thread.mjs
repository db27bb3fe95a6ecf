// Entry of the coordinator's predict thread (predict-pool.ts): a worker thread does not inherit the
// main thread's TypeScript loader, so it registers tsx itself, then runs predict-thread.ts.
const { register } = await import('tsx/esm/api');
register();
await import('./predict-thread.ts');
