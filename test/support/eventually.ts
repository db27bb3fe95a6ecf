/**
 * Polls `check` until it stops throwing and returns its value; after `timeoutMs` the last error is
 * thrown (prefixed with `what`, so a timeout says what was being waited for). No fixed sleeps: the
 * interval only paces the polling.
 */
export async function expectEventually<T>(
  check: () => T | Promise<T>,
  timeoutMs: number,
  options: { intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const intervalMs = options.intervalMs ?? 100;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() >= deadline) {
        if (options.what && error instanceof Error) {
          error.message = `still not true after ${timeoutMs} ms: ${options.what}\n${error.message}`;
        }
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}

/** `promise`, or a rejection naming `what` when it has not settled after `timeoutMs`. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
