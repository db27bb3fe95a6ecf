import type { FastifyRequest } from 'fastify';
import { ChorusError } from '@chorus/protocol';
import { bearerToken, tokenMatches } from '../tokens';

/** A preHandler that lets a request through only with `Authorization: Bearer <token>`. */
export function requireBearer(token: string, role: 'admin' | 'worker') {
  return async (request: FastifyRequest): Promise<void> => {
    if (!tokenMatches(token, bearerToken(request.headers.authorization))) {
      throw new ChorusError(
        'unauthorized',
        role === 'admin'
          ? 'this action needs the admin token: send "Authorization: Bearer <CHORUS_ADMIN_TOKEN>"'
          : 'this download needs the worker token: send "Authorization: Bearer <CHORUS_WORKER_TOKEN>"',
      );
    }
  };
}
