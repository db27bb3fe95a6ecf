import { ChorusError } from '@chorus/protocol';

/**
 * Batches concurrent predict requests: the first request of a batch waits up to `waitMs` for others
 * (or until `maxBatchRows` rows are queued), then one call of `run` predicts them all and each
 * request gets its own rows back. One batch runs at a time (the model runs on one thread anyway);
 * requests arriving meanwhile form the next batch. A request is never split across batches.
 */
export interface BatcherOptions<R> {
  /** Values per row. */
  features: number;
  /** Predicts `count` rows of `x` (count × features) and returns one answer per row, in order. */
  run: (x: Float32Array, count: number) => Promise<R[]>;
  /** How long the first request of a batch waits for company (default 2 ms). */
  waitMs?: number;
  /** Rows after which a batch starts at once (default 512). */
  maxBatchRows?: number;
  /** Rows that may wait at most; beyond: 503 `unavailable` (default 16 × maxBatchRows). */
  maxQueuedRows?: number;
}

export interface Batcher<R> {
  /** The answers for `count` rows of `x`, once their batch has run. */
  predict(x: Float32Array, count: number): Promise<R[]>;
  /** Batches run so far and the rows they held (for logs and the bench). */
  stats(): { batches: number; rows: number };
}

interface Pending<R> {
  x: Float32Array;
  count: number;
  resolve: (rows: R[]) => void;
  reject: (error: unknown) => void;
}

export function createBatcher<R>(options: BatcherOptions<R>): Batcher<R> {
  const waitMs = options.waitMs ?? 2;
  const maxBatchRows = options.maxBatchRows ?? 512;
  const maxQueuedRows = options.maxQueuedRows ?? 16 * maxBatchRows;
  const queue: Pending<R>[] = [];
  let queuedRows = 0;
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  const totals = { batches: 0, rows: 0 };

  const takeBatch = (): Pending<R>[] => {
    const batch: Pending<R>[] = [];
    let rows = 0;
    while (queue.length > 0) {
      const next = queue[0] as Pending<R>;
      if (batch.length > 0 && rows + next.count > maxBatchRows) break;
      batch.push(next);
      rows += next.count;
      queue.shift();
    }
    queuedRows -= rows;
    return batch;
  };

  const runBatch = async (batch: Pending<R>[]): Promise<void> => {
    const count = batch.reduce((n, p) => n + p.count, 0);
    const x = new Float32Array(count * options.features);
    let offset = 0;
    for (const p of batch) {
      x.set(p.x, offset * options.features);
      offset += p.count;
    }
    totals.batches += 1;
    totals.rows += count;
    try {
      const answers = await options.run(x, count);
      if (answers.length !== count) {
        throw new ChorusError('internal', `the model answered ${answers.length} rows for ${count}`);
      }
      let start = 0;
      for (const p of batch) {
        p.resolve(answers.slice(start, start + p.count));
        start += p.count;
      }
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  };

  const drain = async (): Promise<void> => {
    running = true;
    try {
      while (queue.length > 0) await runBatch(takeBatch());
    } finally {
      running = false;
    }
  };

  const schedule = (): void => {
    if (running || timer !== undefined) return;
    const start = () => {
      timer = undefined;
      void drain();
    };
    if (queuedRows >= maxBatchRows) start();
    else timer = setTimeout(start, waitMs);
  };

  return {
    predict(x, count) {
      if (x.length !== count * options.features) {
        return Promise.reject(
          new ChorusError('internal', `${x.length} values are not ${count} rows of ${options.features}`),
        );
      }
      if (queuedRows + count > maxQueuedRows) {
        return Promise.reject(
          new ChorusError('unavailable', `the server is busy (${queuedRows} rows waiting); retry shortly`),
        );
      }
      return new Promise<R[]>((resolve, reject) => {
        queue.push({ x, count, resolve, reject });
        queuedRows += count;
        if (timer !== undefined && queuedRows >= maxBatchRows) {
          clearTimeout(timer);
          timer = undefined;
        }
        schedule();
      });
    },
    stats: () => ({ ...totals }),
  };
}
