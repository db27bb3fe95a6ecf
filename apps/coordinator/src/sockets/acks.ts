import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Ack } from '@chorus/protocol';
import { toAckError } from '../errors';
import type { TaskQueue } from '../services/task-queue';

type AckFn<T extends object> = (response: Ack<T>) => void;

/**
 * Wraps a socket event handler: the payload is parsed with its schema, the handler's result is
 * acknowledged as `{ ok: true, ...result }` and any failure as `{ ok: false, code, message }`
 * (errors.ts). Nothing is applied from a payload that fails parsing. The work is tracked so a
 * shutdown waits for it.
 */
export function acknowledged<S extends z.ZodType, T extends object>(
  options: { event: string; schema: S; logger: Logger; queue: TaskQueue },
  handler: (payload: z.output<S>) => Promise<T>,
): (...args: unknown[]) => void {
  return (...args: unknown[]) => {
    const last = args[args.length - 1];
    const ack: AckFn<T> = typeof last === 'function' ? (last as AckFn<T>) : () => {};
    // An event sent without a payload (only the ack) is parsed as `{}`.
    const payload = args.length > 1 || typeof last !== 'function' ? args[0] : {};
    const work = (async () => {
      const parsed = options.schema.safeParse(payload);
      if (!parsed.success) throw parsed.error;
      return handler(parsed.data);
    })();
    void options.queue.track(
      work.then(
        (result) => ack({ ok: true, ...result } as Ack<T>),
        (error: unknown) => {
          const answer = toAckError(error, options.logger, options.event);
          if (answer.code !== 'internal')
            options.logger.warn(
              { event: options.event, code: answer.code, reason: answer.message },
              'message refused',
            );
          ack(answer);
        },
      ),
    );
  };
}
