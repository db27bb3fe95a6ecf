import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChorusError } from '../errors';
import { createHttpClient, HttpError } from './client';
import { routePath } from './routes';

/** A stand-in server that answers each path with a fixed status and body (the coordinator never sends a wrong shape). */
const answers: Record<string, { status: number; body: unknown }> = {
  '/api/health': {
    status: 200,
    body: {
      ok: true,
      protocolVersion: 1,
      database: { ok: true, latencyMs: 1.5 },
      leaseMs: 30_000,
      time: '2026-01-02T03:04:05.678Z',
    },
  },
  '/api/runs/r1/cancel': { status: 200, body: { id: 'r1', status: 'stopped' } },
  '/api/runs': {
    status: 400,
    body: {
      ok: false,
      code: 'invalid-input',
      message: 'invalid run config',
      issues: [{ path: 'members', message: 'too small' }],
    },
  },
};
let server: Server;
let baseUrl: string;
const seen: Array<{ url: string; authorization: string | undefined }> = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    seen.push({ url: request.url ?? '', authorization: request.headers.authorization });
    const answer = answers[(request.url ?? '').split('?')[0] ?? ''] ?? { status: 404, body: 'not json' };
    response.writeHead(answer.status, { 'content-type': 'application/json' });
    response.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('createHttpClient', () => {
  it('decodes an answer with its route schema (ISO strings become Dates)', async () => {
    const health = await createHttpClient({ baseUrl }).health();
    expect(health.time).toEqual(new Date('2026-01-02T03:04:05.678Z'));
  });

  it('names the route and the field of an answer that does not match its schema', async () => {
    const client = createHttpClient({ baseUrl, token: 'admin-token' });
    const error = await client.cancelRun({ params: { id: 'r1' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChorusError);
    expect((error as ChorusError).message).toMatch(
      /^POST \/api\/runs\/:id\/cancel: .*status: Invalid option/,
    );
    // Every route takes a token (routes.ts `auth`): the client's goes with each call, a call's own wins.
    expect(seen.at(-1)?.authorization).toBe('Bearer admin-token');
    await client.health(undefined, { token: 'viewer-token' });
    expect(seen.at(-1)?.authorization).toBe('Bearer viewer-token');
    await createHttpClient({ baseUrl }).health();
    expect(seen.at(-1)?.authorization).toBeUndefined();
  });

  it("turns an error answer into an HttpError with the coordinator's code, status and issues", async () => {
    const error = await createHttpClient({ baseUrl, token: 't' })
      .createRun({ body: { members: 2 } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({
      code: 'invalid-input',
      status: 400,
      reason: 'invalid run config',
      message: 'POST /api/runs: invalid run config',
      issues: [{ path: 'members', message: 'too small' }],
    });
    const other = await createHttpClient({ baseUrl })
      .getRun({ params: { id: 'nope' } })
      .catch((e: unknown) => e);
    expect(other).toMatchObject({ code: 'not-found', status: 404 });
  });

  it('says when the coordinator cannot be reached', async () => {
    const closed = createHttpClient({ baseUrl: 'http://127.0.0.1:9' });
    await expect(closed.health()).rejects.toMatchObject({
      code: 'unavailable',
      message: /cannot reach the coordinator/,
    });
  });

  it('never echoes a token that cannot travel in a header (fetch would quote it)', async () => {
    const secret = 'admin-secret-4242';
    for (const token of [`${secret}\ninjected: 1`, `${secret} x`, `${secret}\u2028`]) {
      const requests = seen.length;
      const error = await createHttpClient({ baseUrl, token })
        .createRun({ body: { members: 2 } })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'unauthorized', message: /copy it again/ });
      const shown = `${(error as Error).message} ${String((error as Error).cause ?? '')}`;
      expect(shown).not.toContain(secret);
      expect(seen.length).toBe(requests); // refused before anything was sent
    }
  });

  it('fills in path params, URI-encoded', () => {
    expect(routePath('/api/checkpoints/:memberId/:epoch', { memberId: 'a/b', epoch: 3 })).toBe(
      '/api/checkpoints/a%2Fb/3',
    );
    expect(() => routePath('/api/runs/:id', {})).toThrow(/missing path param id/);
  });
});
