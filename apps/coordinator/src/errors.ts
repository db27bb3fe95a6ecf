import type { FastifyError, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { isDatasetError } from '@chorus/data';
import { EnsembleInputError } from '@chorus/ensemble';
import { MAX_BODY_BYTES } from './http/route';
import { ChorusError, formatIssues, httpStatusFor, RunConfigError, type AckError } from '@chorus/protocol';

/**
 * The one place where failures become answers: every thrown value is turned into a ChorusError,
 * which becomes an HTTP status + `{ ok: false, code, message }` body, or the same object as a
 * socket acknowledgement. Errors of the libs carry their own types; the mapping lives here.
 */

export interface IssueDetail {
  path: string;
  message: string;
}

/** A ChorusError for anything thrown; `issues` when the input failed a schema. */
export function asChorusError(error: unknown): ChorusError & { issues?: IssueDetail[] } {
  if (error instanceof ChorusError) return error;
  if (error instanceof RunConfigError) {
    return Object.assign(new ChorusError('invalid-input', error.message, { cause: error }), {
      issues: error.issues.map((i) => ({ path: i.path.join('.') || '(config)', message: i.message })),
    });
  }
  if (error instanceof z.ZodError) {
    return Object.assign(
      new ChorusError('invalid-input', `invalid input:\n${formatIssues(error)}`, { cause: error }),
      {
        issues: error.issues.map((i) => ({ path: i.path.join('.') || '(input)', message: i.message })),
      },
    );
  }
  // A dataset that is missing, corrupt or asked for impossible batches: the request cannot work.
  if (isDatasetError(error)) return new ChorusError('invalid-input', error.message, { cause: error });
  if (error instanceof EnsembleInputError)
    return new ChorusError('invalid-input', error.message, { cause: error });
  if (isFastifyClientError(error)) {
    if (error.statusCode === 413) {
      return new ChorusError('too-large', `the request body is larger than ${MAX_BODY_BYTES} bytes`, {
        cause: error,
      });
    }
    const code =
      error.statusCode === 401 ? 'unauthorized' : error.statusCode === 404 ? 'not-found' : 'invalid-input';
    return new ChorusError(code, error.message, { cause: error });
  }
  if (error instanceof Error) return new ChorusError('internal', error.message, { cause: error });
  return new ChorusError('internal', String(error));
}

/** Internal failures are logged in full and answered without their details. */
function publicMessage(error: ChorusError, log: Logger, context: string): string {
  if (error.code !== 'internal') return error.message;
  log.error({ err: error.cause ?? error }, `${context} failed`);
  return `internal error (${context}); see the coordinator log`;
}

/** `{ ok: false, code, message }` for a socket acknowledgement. */
export function toAckError(error: unknown, log: Logger, context: string): AckError {
  const chorus = asChorusError(error);
  return { ok: false, code: chorus.code, message: publicMessage(chorus, log, context) };
}

/** Sends an error as the HTTP status of its code and `{ ok: false, code, message, issues? }`. */
export function sendHttpError(reply: FastifyReply, error: unknown, log: Logger): FastifyReply {
  const chorus = asChorusError(error);
  const context = `${reply.request.method} ${reply.request.url}`;
  return reply.status(httpStatusFor(chorus.code)).send({
    ok: false,
    code: chorus.code,
    message: publicMessage(chorus, log, context),
    ...(chorus.issues !== undefined && { issues: chorus.issues }),
  });
}

function isFastifyClientError(error: unknown): error is FastifyError & { statusCode: number } {
  if (!(error instanceof Error)) return false;
  const status = (error as Partial<FastifyError>).statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
}
