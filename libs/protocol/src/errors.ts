/** The kinds of failure every Chorus surface (CLI, HTTP, socket acks) reports. */
export const ERROR_CODES = [
  'invalid-input',
  'not-found',
  'unauthorized',
  'forbidden',
  'conflict',
  /** A request body or message beyond a size limit. */
  'too-large',
  /** A worker sent more messages or bytes than its budget allows: back off and send again. */
  'rate-limited',
  'unavailable',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** One error type with a code and a message a user can act on. */
export class ChorusError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ChorusError';
  }
}

const HTTP_STATUS: Record<ErrorCode, number> = {
  'invalid-input': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'too-large': 413,
  'rate-limited': 429,
  unavailable: 503,
  internal: 500,
};

/** The one mapping from error codes to HTTP statuses. */
export function httpStatusFor(code: ErrorCode): number {
  return HTTP_STATUS[code];
}
