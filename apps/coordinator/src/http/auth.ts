import type { FastifyRequest } from 'fastify';
import {
  ACCESS_TOKENS,
  ChorusError,
  openWithoutAuth,
  type AccessLevel,
  type TokenKind,
} from '@chorus/protocol';
import { bearerToken, tokenMatches } from '../tokens';

/** The coordinator's tokens, and whether reads need one (README "Operating Chorus", "Tokens"). */
export interface AccessPolicy {
  adminToken: string;
  workerToken: string;
  viewerToken: string;
  /**
   * True when the coordinator is bound beyond loopback or started with `--require-auth`: then the
   * `viewer` and `any` levels need a token too. `admin` and `worker` always do.
   */
  requireAuth: boolean;
}

const ENV_NAME: Record<TokenKind, string> = {
  viewer: 'CHORUS_VIEWER_TOKEN',
  admin: 'CHORUS_ADMIN_TOKEN',
  worker: 'CHORUS_WORKER_TOKEN',
};

/** Which of the coordinator's tokens `given` is (each compared in constant time), or undefined. */
export function tokenKindOf(policy: AccessPolicy, given: unknown): TokenKind | undefined {
  const kinds: Array<[TokenKind, string]> = [
    ['viewer', policy.viewerToken],
    ['admin', policy.adminToken],
    ['worker', policy.workerToken],
  ];
  // Every comparison runs, so the time taken does not say which token matched.
  const matches = kinds.map(([kind, token]) => [kind, tokenMatches(token, given)] as const);
  return matches.find(([, matched]) => matched)?.[0];
}

/**
 * The one access check of HTTP routes and socket namespaces: nothing (when the level is open and
 * auth is not required) or a token of a kind the level accepts. No token, or one that is none of
 * ours: `unauthorized` (401); one of ours of the wrong kind: `forbidden` (403).
 */
export function checkAccess(
  level: AccessLevel,
  policy: AccessPolicy,
  given: string | undefined,
  what: string,
): void {
  if (!policy.requireAuth && openWithoutAuth(level)) return;
  const accepted = ACCESS_TOKENS[level];
  const names = accepted.map((kind) => `${kind} (${ENV_NAME[kind]})`).join(' or ');
  const kind = given === undefined ? undefined : tokenKindOf(policy, given);
  if (kind === undefined) {
    throw new ChorusError(
      'unauthorized',
      `${what} needs a token: send "Authorization: Bearer <token>" with the ${names} token ` +
        '(`npx chorus tokens` on the coordinator’s machine prints them)',
    );
  }
  if (!accepted.includes(kind)) {
    throw new ChorusError(
      'forbidden',
      `${what} is not open to the ${kind} token: it takes the ${names} token`,
    );
  }
}

/** A preHandler enforcing a route's access level with its `Authorization: Bearer` header. */
export function accessGuard(level: AccessLevel, policy: AccessPolicy, route: string) {
  return async (request: FastifyRequest): Promise<void> => {
    checkAccess(level, policy, bearerToken(request.headers.authorization), route);
  };
}
