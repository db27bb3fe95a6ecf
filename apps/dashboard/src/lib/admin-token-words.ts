/**
 * Where a user finds the admin token, and what a refusal of it means, in the page's words (the
 * coordinator's own refusal speaks to HTTP clients: `send "Authorization: Bearer …"`). One place
 * for every control (New run, Cancel, Drain, Try it) and for the server actions.
 */
export const ADMIN_TOKEN_SOURCE =
  'it is adminToken in the coordinator’s tokens.json (`npx chorus tokens` on its machine prints it), or CHORUS_ADMIN_TOKEN';

export const ENTER_ADMIN_TOKEN = `Enter the admin token first: ${ADMIN_TOKEN_SOURCE}.`;

/** The coordinator's 401 (a token that is none of its own) or 403 (its worker or viewer token). */
export function adminTokenRefused(status: 401 | 403): string {
  return status === 401
    ? `The coordinator does not know this admin token. Check the Admin token field: ${ADMIN_TOKEN_SOURCE}.`
    : `This is not the admin token but another of the coordinator’s tokens (worker or viewer): ${ADMIN_TOKEN_SOURCE}.`;
}
