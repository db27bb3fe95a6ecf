export type ModelErrorCode =
  /** A model config or override is out of range (unknown model, width ≤ 0, dropout ≥ 1, …). */
  | 'invalid-config'
  /** The input shape cannot go through the model (wrong rank, too small for its convolutions/pools). */
  | 'incompatible-input'
  /** The requested tfjs backend is not installed or failed to initialise. */
  | 'backend-unavailable'
  /** Training data or a batch of indices is malformed (sizes, labels, indices out of range). */
  | 'invalid-data'
  /** Checkpoint bytes are malformed or belong to a different model. */
  | 'weights-mismatch';

/** The one error type of @chorus/models; `code` says what kind of failure it is, the message what to do. */
export class ModelError extends Error {
  override readonly name = 'ModelError';
  readonly code: ModelErrorCode;

  constructor(code: ModelErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isModelError(e: unknown): e is ModelError {
  return e instanceof ModelError;
}
