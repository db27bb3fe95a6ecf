import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Server } from 'socket.io';
import { checkDashboardTicket, DASHBOARD_NAMESPACE, runRoom, signDashboardTicket } from '@chorus/protocol';
import { fetchSocketTicket, subscribeCoordinatorEvents, type ConnectionState } from './coordinator-events';

/** A real socket.io server with the coordinator's `/dashboard` contract: join a known run's room. */
async function startServer(port = 0): Promise<{ io: Server; http: HttpServer; url: string; port: number }> {
  const http = createServer();
  const io = new Server(http);
  io.of(DASHBOARD_NAMESPACE).on('connection', (socket) => {
    socket.on('run:join', async (payload: { runId: string }, ack: (r: unknown) => void) => {
      if (payload.runId === 'unknown') return ack({ ok: false, code: 'not-found', message: 'no such run' });
      await socket.join(runRoom(payload.runId));
      ack({ ok: true });
    });
  });
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  const actual = (http.address() as AddressInfo).port;
  return { io, http, url: `http://127.0.0.1:${actual}`, port: actual };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

describe('subscribeCoordinatorEvents', () => {
  it("joins the run's room, passes its valid notifications only, and refetches after every rejoin", async () => {
    const first = await startServer();
    const states: ConnectionState[] = [];
    const runs: unknown[] = [];
    const invalid: string[] = [];
    let resyncs = 0;
    let runsChanged = 0;
    const unsubscribe = subscribeCoordinatorEvents(
      first.url,
      'r1',
      () => ({
        onState: (s) => states.push(s),
        onRun: (n) => runs.push(n),
        onInvalid: (reason) => invalid.push(reason),
        onResync: () => resyncs++,
        onRunsChanged: () => runsChanged++,
      }),
      { reconnectionDelayMax: 200 },
    );
    cleanups.push(unsubscribe);
    await until(() => resyncs === 1, 'the first join');
    expect(states.at(-1)).toBe('live');

    const ns = first.io.of(DASHBOARD_NAMESPACE);
    const point = { index: 0, step: 3, epoch: 0, loss: 1.5, accuracy: 0.5, samplesPerSecond: 10 };
    ns.to(runRoom('r1')).emit('run:changed', { runId: 'r1', kind: 'metrics', data: { members: [point] } });
    ns.emit('run:changed', { runId: 'r2', kind: 'status', data: { status: 'running' } }); // another run's: ignored
    // Invalid, ignored with a reason naming the field: an unknown kind, a metrics notification without its points.
    ns.to(runRoom('r1')).emit('run:changed', { runId: 'r1', kind: 'nonsense' });
    ns.to(runRoom('r1')).emit('run:changed', { runId: 'r1', kind: 'metrics', data: { members: 'nope' } });
    ns.emit('runs:changed');
    ns.to(runRoom('r1')).emit('run:changed', { runId: 'r1', kind: 'status', data: { status: 'completed' } });
    await until(() => runs.length === 2 && runsChanged === 1 && invalid.length === 2, 'the notifications');
    expect(runs).toEqual([
      { runId: 'r1', kind: 'metrics', data: { members: [point] } },
      { runId: 'r1', kind: 'status', data: { status: 'completed' } },
    ]);
    expect(invalid[0]).toMatch(/^invalid run:changed message:\nkind: /);
    expect(invalid[1]).toMatch(/^invalid run:changed message:\ndata\.members: /);

    // The coordinator restarts on the same port: offline, then back, joined again and resynced.
    first.io.close();
    await until(() => states.at(-1) === 'offline', 'offline after the restart');
    const second = await startServer(first.port);
    cleanups.push(() => second.io.close());
    await until(() => resyncs === 2, 'the rejoin after the restart');
    expect(states.at(-1)).toBe('live');
    second.io
      .of(DASHBOARD_NAMESPACE)
      .to(runRoom('r1'))
      .emit('run:changed', {
        runId: 'r1',
        kind: 'evaluation',
        data: { round: 0, complete: false, liveMembers: 2 },
      });
    await until(() => runs.length === 3, 'a notification after the rejoin');
  });

  it('is offline when the run cannot be joined, and stops listening once unsubscribed', async () => {
    const server = await startServer();
    cleanups.push(() => server.io.close());
    const states: ConnectionState[] = [];
    let resyncs = 0;
    const unsubscribe = subscribeCoordinatorEvents(server.url, 'unknown', () => ({
      onState: (s) => states.push(s),
      onResync: () => resyncs++,
    }));
    await until(() => states.includes('offline'), 'the refused join');
    expect(resyncs).toBe(0);
    unsubscribe();
    await until(() => server.io.of(DASHBOARD_NAMESPACE).sockets.size === 0, 'the socket to close');
  });

  it('shows a fresh ticket at every (re)connection, which a ticket-checking namespace takes', async () => {
    const viewer = 'viewer-token-for-dashboard-tests-01';
    const server = await startServer();
    cleanups.push(() => server.io.close());
    // As the coordinator's middleware (apps/coordinator sockets/dashboard-access.ts) checks tickets.
    const seen: string[] = [];
    server.io.of(DASHBOARD_NAMESPACE).use((socket, next) => {
      const ticket = String((socket.handshake.auth as { ticket?: unknown }).ticket);
      seen.push(ticket);
      void checkDashboardTicket(viewer, ticket, Date.now()).then((problem) =>
        next(problem === null ? undefined : new Error(`ticket ${problem}`)),
      );
    });
    let issued = 0;
    const states: ConnectionState[] = [];
    const unsubscribe = subscribeCoordinatorEvents(
      server.url,
      null,
      () => ({ onState: (s) => states.push(s) }),
      // Each ticket a millisecond later than the last, so two tickets differ.
      {
        auth: async () => ({ ticket: (await signDashboardTicket(viewer, Date.now() + issued++)).ticket }),
        reconnectionDelayMax: 200,
      },
    );
    cleanups.push(unsubscribe);
    await until(() => states.at(-1) === 'live', 'the connection with a ticket');
    for (const socket of server.io.of(DASHBOARD_NAMESPACE).sockets.values()) socket.conn.close(); // a lost connection (not a server-side kick), which the client retries
    await until(() => seen.length === 2 && states.at(-1) === 'live', 'the reconnection');
    expect(seen[0]).not.toBe(seen[1]);

    // A forged ticket is refused: the page stays offline.
    const forged = subscribeCoordinatorEvents(
      server.url,
      null,
      () => ({ onState: (s) => states.push(`forged:${s}` as ConnectionState) }),
      {
        auth: async () => ({
          ticket: (await signDashboardTicket('another-viewer-token-000000', Date.now())).ticket,
        }),
      },
    );
    cleanups.push(forged);
    await until(() => states.includes('forged:offline' as ConnectionState), 'the refusal');
    expect(states).not.toContain('forged:live');
  });

  it("fetches the dashboard server's ticket, or none, and names the field of a malformed answer", async () => {
    const answers = [
      { status: 200, body: { ticket: 'v1.1.abc', expiresAt: 1 } },
      { status: 200, body: { ticket: null } },
      { status: 500, body: { error: 'x' } },
      { status: 200, body: { ticket: 42 } },
    ];
    const http = createServer((_request, response) => {
      const answer = answers.shift() ?? { status: 404, body: {} };
      response
        .writeHead(answer.status, { 'content-type': 'application/json' })
        .end(JSON.stringify(answer.body));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => http.close(resolve)));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    expect(await fetchSocketTicket(url)).toEqual({ ticket: 'v1.1.abc' });
    expect(await fetchSocketTicket(url)).toEqual({});
    expect(await fetchSocketTicket(url)).toEqual({});
    await expect(fetchSocketTicket(url)).rejects.toThrow(
      /^GET \/api\/socket-ticket: the answer does not match its schema: ticket: /,
    );
  });
});
