import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import type { RunStatusName } from '@chorus/protocol';
import { onlyTableRoutes, registerRoute } from './route';

const tokens = {
  adminToken: 'admin-token-0123456789',
  workerToken: 'worker-token-0123456789',
  viewerToken: 'viewer-token-0123456789',
  requireAuth: false,
};

describe('the route table guard', () => {
  it('accepts the routes of HTTP_ROUTES and refuses any other', async () => {
    const app = Fastify();
    onlyTableRoutes(app);
    registerRoute(app, 'listRuns', tokens, async () => ({ runs: [] }));
    expect(() => app.get('/api/other', async () => ({}))).toThrow(
      "GET /api/other is not in libs/protocol's HTTP_ROUTES",
    );
    expect(() => app.post('/api/runs/:id', async () => ({}))).toThrow(/POST \/api\/runs\/:id is not in/);
    await app.close();
  });

  it('encodes an answer with its schema and refuses one that does not match, naming the field', async () => {
    const app = Fastify();
    let status: RunStatusName = 'cancelled';
    registerRoute(app, 'cancelRun', tokens, async ({ params }) => ({ id: params.id, status }));
    const cancel = () =>
      app.inject({
        method: 'POST',
        url: '/api/runs/r1/cancel',
        headers: { authorization: `Bearer ${tokens.adminToken}` },
      });
    expect((await cancel()).json()).toEqual({ id: 'r1', status: 'cancelled' });
    // A value its type does not allow, as a bug could produce at run time.
    status = JSON.parse('"stopped"');
    const refused = await cancel();
    expect(refused.statusCode).toBe(500);
    expect(refused.json().message).toMatch(
      /^POST \/api\/runs\/:id\/cancel: the answer does not match its schema: status: Invalid option/,
    );
    await app.close();
  });
});
