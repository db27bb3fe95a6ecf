/**
 * One turn of the event loop (a macrotask: timers, sockets and so a worker's heartbeats run). Work
 * proportional to a model's size — building it, reading its weights and optimizer state, a
 * checkpoint's copies and checksums — awaits this between pieces (a layer, a variable, a few
 * megabytes), so a 25 M-parameter member never holds the thread for the whole of it.
 */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
