/**
 * Work that must not overlap per key (a run's evaluations: a slow recomputation must not overwrite
 * a newer one) and a way to wait until everything started has settled (shutdown, tests).
 */
export interface TaskQueue {
  /** Runs `task` after every task queued earlier under `key`; rejects with the task's error. */
  enqueue<T>(key: string, task: () => Promise<T>): Promise<T>;
  /** Tracks a promise started elsewhere (a socket handler), so idle() waits for it too. */
  track<T>(promise: Promise<T>): Promise<T>;
  /** Resolves once nothing queued or tracked is pending (including work queued meanwhile). */
  idle(): Promise<void>;
}

export function createTaskQueue(): TaskQueue {
  const tails = new Map<string, Promise<unknown>>();
  const pending = new Set<Promise<unknown>>();

  const track = <T>(promise: Promise<T>): Promise<T> => {
    const settled = promise.then(
      () => {},
      () => {},
    );
    pending.add(settled);
    void settled.then(() => pending.delete(settled));
    return promise;
  };

  return {
    enqueue(key, task) {
      const previous = tails.get(key) ?? Promise.resolve();
      const run = previous.then(task, task);
      const tail = run.then(
        () => {},
        () => {},
      );
      tails.set(key, tail);
      void tail.then(() => {
        if (tails.get(key) === tail) tails.delete(key);
      });
      return track(run);
    },
    track,
    async idle() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}
