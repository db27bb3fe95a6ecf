/**
 * The one error this library throws. libs/ensemble may import no other Chorus lib, so it cannot
 * throw the apps' ChorusError; it carries a stable `code` instead, which the coordinator maps to
 * its own error codes (a bad prediction upload is a client error, not a server fault).
 */
export class EnsembleInputError extends Error {
  override readonly name = 'EnsembleInputError';
  readonly code = 'ENSEMBLE_INPUT_INVALID' as const;

  constructor(message: string) {
    super(message);
  }
}
