import { z } from 'zod';
import { ChorusError, type ErrorCode } from '../errors';
import {
  ErrorBodySchema,
  HTTP_ROUTES,
  routePath,
  type HttpRoutes,
  type RouteInput,
  type RouteName,
  type RouteOutput,
  type RouteSpec,
} from './routes';

/** A refusal of the coordinator: its code and message, the HTTP status, and the fields that failed. */
export class HttpError extends ChorusError {
  constructor(
    code: ErrorCode,
    /** `METHOD /path` as requested. */
    readonly route: string,
    readonly status: number,
    /** The coordinator's own message (without the route). */
    readonly reason: string,
    readonly issues: ReadonlyArray<{ path: string; message: string }> = [],
  ) {
    super(code, `${route}: ${reason}`);
    this.name = 'HttpError';
  }
}

export interface HttpClientOptions {
  /** The coordinator's base URL, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <token>` (every route takes one: routes.ts `auth`). */
  token?: string;
  /** Added to every request (e.g. Next's `cache: 'no-store'`). */
  init?: RequestInit;
}

export interface CallOptions {
  /** This call's token instead of the client's. */
  token?: string;
  signal?: AbortSignal;
}

type Call<R extends RouteSpec> =
  Record<string, never> extends RouteInput<R>
    ? (input?: RouteInput<R>, options?: CallOptions) => Promise<RouteOutput<R>>
    : (input: RouteInput<R>, options?: CallOptions) => Promise<RouteOutput<R>>;

/** One call per route of HTTP_ROUTES, typed from its schemas. */
export type HttpClient = { [K in RouteName]: Call<HttpRoutes[K]> } & { readonly baseUrl: string };

interface WireInput {
  params?: Record<string, unknown>;
  query?: Record<string, unknown>;
  body?: unknown;
  upload?: { headers: Record<string, unknown>; bytes: Uint8Array };
}

/** `path: message` of each issue, e.g. `members.0.status: Invalid option`. */
export const issueList = (error: z.ZodError): string =>
  error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(answer)'}: ${i.message}`).join('; ');

/**
 * A route's JSON answer decoded with its schema; one that does not match is a
 * ChorusError('internal') naming the route (`METHOD /path`) and each failed field. Shared by
 * `createHttpClient` and the dashboard server's routes (dashboard-routes.ts).
 */
export function decodeAnswer<S extends z.ZodType>(route: string, schema: S, json: unknown): z.output<S> {
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new ChorusError(
      'internal',
      `${route}: the answer does not match its schema: ${issueList(parsed.error)}`,
      {
        cause: parsed.error,
      },
    );
  }
  return parsed.data;
}

/**
 * The typed HTTP client of the coordinator, derived from HTTP_ROUTES: each call fills in the path,
 * sends the token to the routes that need one, and decodes the answer with the route's schema.
 * An error status becomes an HttpError with the coordinator's code; an answer that does not match
 * its schema is a ChorusError naming the route and the fields.
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const call = async (name: RouteName, input: WireInput = {}, callOptions: CallOptions = {}) => {
    const spec: RouteSpec = HTTP_ROUTES[name];
    const path = routePath(spec.path, input.params);
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(input.query ?? {})) {
      if (value !== undefined) search.set(key, String(value));
    }
    const url = new URL(`${path}${search.size > 0 ? `?${search}` : ''}`, options.baseUrl);
    const requested = `${spec.method} ${path}`;
    const token = callOptions.token ?? options.token;
    if (token !== undefined) checkToken(token);
    let response: Response;
    try {
      response = await fetch(url, {
        ...options.init,
        method: spec.method,
        headers: {
          ...(input.body !== undefined && { 'content-type': 'application/json' }),
          ...(input.upload !== undefined && uploadHeaders(spec, input.upload)),
          ...(token !== undefined && { authorization: `Bearer ${token}` }),
        },
        ...(input.body !== undefined && { body: JSON.stringify(input.body) }),
        // fetch streams a typed array as it is, without another copy. (The DOM typings refuse a view
        // whose buffer might be shared; our checkpoint bytes never are.)
        ...(input.upload !== undefined && { body: input.upload.bytes as Uint8Array<ArrayBuffer> }),
        ...(callOptions.signal !== undefined && { signal: callOptions.signal }),
      });
    } catch (error) {
      // Never the token in a message (nor in the cause callers show), whatever fetch put in its own.
      // fetch says "fetch failed"; why (refused, a certificate it does not trust…) is in its cause.
      const cause = (error as Error).cause;
      const why = cause instanceof Error && cause.message !== '' ? ` (${cause.message})` : '';
      const message = `${(error as Error).message}${why}`;
      const leaks = token !== undefined && token !== '' && message.includes(token);
      const reason = leaks ? message.split(token).join('<token>') : message;
      throw new ChorusError('unavailable', `cannot reach the coordinator at ${options.baseUrl}: ${reason}`, {
        cause: leaks ? new Error(reason) : error,
      });
    }
    if (!response.ok) throw await refusal(response, requested);
    const expected = spec.status ?? 200;
    if (response.status !== expected) {
      throw new ChorusError(
        'internal',
        `${requested}: answered HTTP ${response.status} instead of ${expected}`,
      );
    }
    const named = `${spec.method} ${spec.path}`;
    if (spec.download) {
      const headers = spec.download.safeParse(Object.fromEntries(response.headers));
      if (!headers.success) {
        throw new ChorusError(
          'internal',
          `${named}: the answer's headers do not match: ${issueList(headers.error)}`,
        );
      }
      return { bytes: new Uint8Array(await response.arrayBuffer()), headers: headers.data };
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ChorusError('internal', `${named}: the answer is not JSON: ${text.slice(0, 200)}`);
    }
    return decodeAnswer(named, spec.response ?? z.unknown(), json);
  };
  const client = Object.fromEntries(
    (Object.keys(HTTP_ROUTES) as RouteName[]).map((name) => [
      name,
      (input?: WireInput, callOptions?: CallOptions) => call(name, input, callOptions),
    ]),
  );
  return { ...client, baseUrl: options.baseUrl } as HttpClient;
}

/** The request headers of an upload, checked against the route's schema (nothing sent otherwise). */
function uploadHeaders(spec: RouteSpec, upload: NonNullable<WireInput['upload']>): Record<string, string> {
  const checked = (spec.upload ?? z.object({})).safeParse(upload.headers);
  if (!checked.success) {
    throw new ChorusError(
      'invalid-input',
      `${spec.method} ${spec.path}: the upload's headers do not match: ${issueList(checked.error)}`,
    );
  }
  return {
    ...Object.fromEntries(Object.entries(checked.data).map(([k, v]) => [k, String(v)])),
    // fetch sets content-length from the typed array.
    'content-type': 'application/octet-stream',
  };
}

/**
 * A token is printable ASCII without spaces (ours are base64url). Anything else would fail inside
 * fetch with a message that quotes the header, the token with it: refused here, without echoing it.
 */
function checkToken(token: string): void {
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new ChorusError(
      'unauthorized',
      'the token holds characters a token never has (spaces, line breaks or non-ASCII): copy it again from tokens.json',
    );
  }
}

/** The JSON value of an answer's text; undefined when it is not JSON (a proxy's HTML page, say). */
export function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** An error answer as an HttpError (its code and message when it is a Chorus error body). */
async function refusal(response: Response, requested: string): Promise<HttpError> {
  const json = jsonOrUndefined(await response.text());
  const body = ErrorBodySchema.safeParse(json);
  if (body.success) {
    return new HttpError(body.data.code, requested, response.status, body.data.message, body.data.issues);
  }
  const code: ErrorCode =
    response.status === 401 ? 'unauthorized' : response.status === 404 ? 'not-found' : 'internal';
  return new HttpError(
    code,
    requested,
    response.status,
    `HTTP ${response.status} ${response.statusText}`.trim(),
  );
}
