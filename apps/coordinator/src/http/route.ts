import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  ChorusError,
  HTTP_ROUTES,
  type HttpRoutes,
  type RouteName,
  type RouteOutput,
  type RouteSpec,
} from '@chorus/protocol';
import { accessGuard, type AccessPolicy } from './auth';

/** The largest request body the API reads (a run config is a few kB); beyond it: 413, `too-large`. */
export const MAX_BODY_BYTES = 1024 * 1024;

type Parsed<R, K extends string> = R extends { [P in K]: infer S extends z.ZodType }
  ? z.output<S>
  : undefined;

/** What a handler gets: the route's params and query parsed with its schemas, and the raw body. */
export interface RouteRequest<R extends RouteSpec> {
  params: Parsed<R, 'params'>;
  query: Parsed<R, 'query'>;
  /** Validated by the service it is handed to (POST /api/runs: parseRunConfig, the route's body schema). */
  body: unknown;
  /** An upload's request headers, parsed with the route's `upload` schema. */
  headers: Parsed<R, 'upload'>;
  request: FastifyRequest;
  reply: FastifyReply;
}

/** A JSON route answers its response type; a download route sends its bytes on the reply. */
type Answer<R extends RouteSpec> = R extends { download: z.ZodType } ? FastifyReply : RouteOutput<R>;

/** What registerRoute needs to guard a route (auth.ts). */
export type RouteTokens = AccessPolicy;

/**
 * Registers the handler of one route of libs/protocol's HTTP_ROUTES: its method, path and access
 * level (auth.ts) come from the table, params and query are parsed with its schemas, and a JSON answer is encoded
 * with its response schema before it is sent (an answer that does not match is an internal error
 * naming the route and the field, never sent half-right).
 */
export function registerRoute<K extends RouteName>(
  app: FastifyInstance,
  name: K,
  tokens: RouteTokens,
  handler: (input: RouteRequest<HttpRoutes[K]>) => Promise<Answer<HttpRoutes[K]>>,
): void {
  const spec: RouteSpec = HTTP_ROUTES[name];
  app.route({
    method: spec.method,
    url: spec.path,
    // Every route is guarded by its table entry's level; an open one lets requests through there.
    preHandler: accessGuard(spec.auth, tokens, `${spec.method} ${spec.path}`),
    handler: async (request, reply) => {
      // A route that takes a body takes a JSON object: `null`, an array, a string or nothing is
      // refused here, never read as "all defaults" by the service.
      if (spec.body !== undefined && !isPlainObject(request.body)) {
        throw new ChorusError(
          'invalid-input',
          `${spec.method} ${spec.path} takes a JSON object as its body (content-type: application/json), got ${describe(request.body)}`,
        );
      }
      const input = {
        params: spec.params?.parse(request.params),
        query: spec.query?.parse(request.query),
        body: request.body,
        headers: spec.upload?.parse(request.headers),
        request,
        reply,
      } as RouteRequest<HttpRoutes[K]>;
      const answer = await handler(input);
      if (!spec.response) return answer;
      const encoded = z.safeEncode(spec.response, answer);
      if (!encoded.success) {
        const fields = encoded.error.issues.map((i) => `${i.path.join('.') || '(answer)'}: ${i.message}`);
        throw new ChorusError(
          'internal',
          `${spec.method} ${spec.path}: the answer does not match its schema: ${fields.join('; ')}`,
        );
      }
      return reply.status(spec.status ?? 200).send(encoded.data);
    },
  });
}

/**
 * Upload routes (a spec with `upload`) take `application/octet-stream`: the body reaches the handler
 * as the request stream, unread (so `bodyLimit` does not apply: the handler bounds it), after the
 * route's token check.
 */
export function streamBinaryBodies(app: FastifyInstance): void {
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));
}

/**
 * Refuses, when the server starts, any route that is not in HTTP_ROUTES: every route the
 * coordinator serves has its schemas in libs/protocol, where clients derive their calls from.
 */
export function onlyTableRoutes(app: FastifyInstance): void {
  const known = new Set(Object.values(HTTP_ROUTES).map((r: RouteSpec) => `${r.method} ${r.path}`));
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      // Fastify adds a HEAD route beside each GET.
      const key = `${method === 'HEAD' ? 'GET' : method} ${route.url}`;
      if (!known.has(key)) throw new Error(`${method} ${route.url} is not in libs/protocol's HTTP_ROUTES`);
    }
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  // A stream is what an octet-stream body is (streamBinaryBodies): never a JSON object.
  const stream = typeof (value as { pipe?: unknown } | null)?.pipe === 'function';
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !stream;
}

/** What a body was, without its content. */
function describe(body: unknown): string {
  if (body === undefined) return 'no body';
  if (body === null) return 'null';
  if (Array.isArray(body)) return 'an array';
  if (typeof (body as { pipe?: unknown }).pipe === 'function') return 'binary data';
  return `a ${typeof body}`;
}
