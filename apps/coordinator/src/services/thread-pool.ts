import { Worker } from 'node:worker_threads';
import { ChorusError, ERROR_CODES, type ErrorCode } from '@chorus/protocol';

/** What a thread run by createThreadPool answers to a request: `id` is the request's. */
export type ThreadReply = { id: number };

export interface ThreadPool<Request, Reply> {
  /** Sends a request to the thread (started on the first call) and resolves with its reply. */
  send(request: Request): Promise<Reply>;
  /** Stops the thread; requests in flight fail with `unavailable`. */
  close(): Promise<void>;
}

/**
 * A pool of one worker thread entered through thread-entry.mjs (which registers tsx there and
 * imports `module`, a file next to this one), with a bounded queue: the coordinator hands it work
 * that would otherwise block its event loop (the predict route, the live view's evaluations).
 * Requests and replies are matched by an `id` the pool adds; a message without an `id` goes to
 * `onNotice`. A thread that dies fails the requests it held; the next request starts a new one.
 */
export function createThreadPool<Request extends object, Reply extends ThreadReply>(options: {
  /** The thread's module, relative to this folder (e.g. `./predict-thread.ts`). */
  module: string;
  /** The thread's name in errors: "the <name> thread stopped: …". */
  name: string;
  /** Requests the thread may hold (running or waiting); one more is refused with 503 `unavailable`. */
  maxQueue: number;
  /** The 503's message for `held` requests held. */
  busy: (held: number) => string;
  onNotice?: (message: unknown) => void;
  onError?: (error: Error) => void;
}): ThreadPool<Request, Reply> {
  const pending = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
  let worker: Worker | undefined;
  let nextId = 1;

  const failAll = (error: Error) => {
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };

  const start = (): Worker => {
    const thread = new Worker(new URL('./thread-entry.mjs', import.meta.url), {
      workerData: { module: new URL(options.module, import.meta.url).href },
    });
    thread.on('message', (message: Reply | { id?: undefined }) => {
      if (typeof message.id !== 'number') {
        options.onNotice?.(message);
        return;
      }
      const waiting = pending.get(message.id);
      pending.delete(message.id);
      waiting?.resolve(message as Reply);
    });
    const lost = (reason: string) => {
      if (worker === thread) worker = undefined;
      failAll(new ChorusError('internal', `the ${options.name} thread stopped: ${reason}`));
    };
    thread.on('error', (error) => {
      options.onError?.(error);
      lost(error.message);
    });
    thread.on('exit', (code) => lost(`it exited with code ${code}`));
    return thread;
  };

  return {
    send(request) {
      if (pending.size >= options.maxQueue) {
        return Promise.reject(new ChorusError('unavailable', options.busy(pending.size)));
      }
      worker ??= start();
      const id = nextId++;
      const thread = worker;
      return new Promise<Reply>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        thread.postMessage({ ...request, id });
      });
    },
    async close() {
      const thread = worker;
      worker = undefined;
      failAll(new ChorusError('unavailable', 'the coordinator is shutting down'));
      await thread?.terminate();
    },
  };
}

/** A thread's failure as the ChorusError it was there. */
export function errorOfReply(reply: { code: string; message: string }): ChorusError {
  const code = (ERROR_CODES as readonly string[]).includes(reply.code)
    ? (reply.code as ErrorCode)
    : 'internal';
  return new ChorusError(code, reply.message);
}
