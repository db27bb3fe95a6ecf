import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Server } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import { ChorusError, MetricsMessageSchema, PROTOCOL_VERSION, WORKERS_NAMESPACE } from '@chorus/protocol';
import { Connection } from './connection';
import { expectEventually, startTestServer, type TestServer } from './test-server';

const TOKEN = 'conn-token';
const logger = pino({ level: 'silent' });
const workerId = randomUUID();
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const connect = (
  server: { url: string },
  token = TOKEN,
  extra: Partial<ConstructorParameters<typeof Connection>[0]> = {},
) => {
  const connection = new Connection({
    url: server.url,
    logger,
    ackTimeoutMs: 2_000,
    ...extra,
    handshake: () => ({
      token,
      protocolVersion: PROTOCOL_VERSION,
      workerId,
      name: 'test',
      host: 'localhost',
      backend: 'cpu',
      device: 'CPU',
      slots: 1,
      activeMembers: ['m1'],
    }),
  });
  cleanup.push(() => connection.close());
  return connection;
};

const serve = async (
  onMetrics: (server: TestServer) => (payload: unknown, ack: (r: { ok: true }) => void) => void,
  port?: number,
) => {
  const holder: { server?: TestServer } = {};
  const server = await startTestServer({
    token: TOKEN,
    ...(port !== undefined ? { port } : {}),
    onConnection: (socket) =>
      socket.on('metrics', (payload, ack) => onMetrics(holder.server as TestServer)(payload, ack)),
  });
  holder.server = server;
  cleanup.push(() => server.close());
  return server;
};

const point = { step: 1, epoch: 0, loss: 1, accuracy: 0.5, samplesPerSecond: 10 };

describe('Connection', () => {
  it('sends the handshake and gets acknowledgements', async () => {
    const got: unknown[] = [];
    const server = await serve(() => (payload, ack) => {
      got.push(MetricsMessageSchema.parse(payload));
      ack({ ok: true });
    });
    const connection = connect(server);
    await connection.open();
    expect(server.handshakes[0]).toMatchObject({ workerId, backend: 'cpu', slots: 1, activeMembers: ['m1'] });
    await expect(
      connection.request('metrics', { memberId: 'm1', attempt: 1, points: [point] }),
    ).resolves.toEqual({ ok: true });
    expect(got).toHaveLength(1);
  });

  it('sends no message that violates its schema, and refuses an answer that violates its own', async () => {
    let received = 0;
    let answer: unknown = { ok: true };
    const server = await serve(() => (_payload, ack) => {
      received++;
      ack(answer as { ok: true });
    });
    const connection = connect(server);
    await connection.open();
    await expect(
      connection.request('metrics', { memberId: 'm1', attempt: 1, points: [{ ...point, loss: Number.NaN }] }),
    ).rejects.toThrow(
      new ChorusError(
        'invalid-input',
        'not sent: invalid metrics message:\npoints.0.loss: Invalid input: expected number, received NaN',
      ),
    );
    expect(received).toBe(0);
    // An answer that is neither `{ ok: true, … }` nor a refusal: a protocol mismatch, not retried.
    answer = { ok: 'yes' };
    await expect(
      connection.request('metrics', { memberId: 'm1', attempt: 1, points: [point] }),
    ).rejects.toMatchObject({
      code: 'internal',
      message: expect.stringMatching(/^the answer to metrics does not match the protocol:\n/),
    });
    expect(received).toBe(1);
  });

  it('turns a refusal into a ChorusError with its code', async () => {
    const server = await startTestServer({
      token: TOKEN,
      onConnection: (socket) =>
        socket.on('metrics', (_p, ack) =>
          ack({ ok: false, code: 'conflict', message: 'attempt 1 is stale' }),
        ),
    });
    cleanup.push(() => server.close());
    const connection = connect(server);
    await connection.open();
    const error = await connection
      .request('metrics', { memberId: 'm1', attempt: 1, points: [point] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChorusError);
    expect(error).toMatchObject({ code: 'conflict', message: 'metrics refused: attempt 1 is stale' });
  });

  it('backs off and sends again when it is rate-limited, until the message is taken', async () => {
    const arrivals: number[] = []; // each send's arrival
    const server = await startTestServer({
      token: TOKEN,
      onConnection: (socket) =>
        socket.on('metrics', (_p, ack) => {
          arrivals.push(Date.now());
          if (arrivals.length <= 2) ack({ ok: false, code: 'rate-limited', message: 'slow down' });
          else ack({ ok: true });
        }),
    });
    cleanup.push(() => server.close());
    const connection = connect(server);
    await connection.open();
    await expect(
      connection.request('metrics', { memberId: 'm1', attempt: 1, points: [point] }),
    ).resolves.toEqual({ ok: true });
    expect(arrivals).toHaveLength(3);
  });

  it('gives up at once, clearly, when the token is refused', async () => {
    const server = await serve(() => () => undefined);
    const connection = connect(server, 'wrong-token');
    const error = await connection.open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChorusError);
    expect((error as ChorusError).code).toBe('unauthorized');
    expect((error as ChorusError).message).toMatch(/refused this worker: unauthorized.*--token/);
    await expect(connection.fatal).rejects.toThrow(/refused/);
    expect(connection.socket.active).toBe(false);
    // No retrying forever: a little later, still the one attempt.
    await new Promise((r) => setTimeout(r, 800));
    expect(server.attempts()).toBe(1);
  });

  it('gives up, naming the field, when a refusal does not match ConnectRefusalSchema', async () => {
    // A coordinator of another version: its refusal's data is not one this worker can read.
    const http = createServer();
    const io = new Server(http);
    io.of(WORKERS_NAMESPACE).use((_socket, next) =>
      next(Object.assign(new Error('go away'), { data: { code: 'teapot' } })),
    );
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise((resolve) => io.close(() => resolve(undefined))));
    const connection = connect({ url: `http://127.0.0.1:${(http.address() as AddressInfo).port}` });
    const error = await connection.open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChorusError);
    expect((error as ChorusError).code).toBe('invalid-input');
    expect((error as ChorusError).message).toMatch(
      /refused this worker: go away \(the connection refusal's data does not match its schema: code: Invalid option/,
    );
    expect(connection.socket.active).toBe(false);
  });

  it('waits for a coordinator that is not up yet', async () => {
    const probe = await serve(() => () => undefined);
    const port = probe.port;
    await probe.close();
    const connection = connect({ url: `http://127.0.0.1:${port}` });
    const opened = connection.open();
    await new Promise((r) => setTimeout(r, 300));
    await serve(() => (_p, ack) => ack({ ok: true }), port);
    await opened;
    expect(connection.connected).toBe(true);
  });

  it('reconnects after a coordinator restart and re-sends what was not acknowledged', async () => {
    const first = await serve((self) => () => {
      // Receive, never acknowledge, and go down (a crash between receiving and answering).
      void self.close();
    });
    const received: unknown[] = [];
    const connection = connect(first);
    await connection.open();
    const sent = connection.request('metrics', { memberId: 'm1', attempt: 1, points: [point] });
    await new Promise((r) => setTimeout(r, 100));
    const second = await serve(
      () => (payload, ack) => {
        received.push(payload);
        ack({ ok: true });
      },
      first.port,
    );
    await expect(sent).resolves.toEqual({ ok: true });
    expect(received).toHaveLength(1);
    expect(second.handshakes.map((h) => h.workerId)).toEqual([workerId]);
  });

  it('backs off exponentially with jitter when each connection is dropped at once, logging each retry', async () => {
    const connectedAt: number[] = [];
    const server = await startTestServer({
      token: TOKEN,
      onConnection: (socket) => {
        connectedAt.push(performance.now());
        // Accept, then drop the link at once: before, the backoff restarted on every connect.
        socket.conn.close();
      },
    });
    cleanup.push(() => server.close());
    const lines: Array<{ msg: string; attempt?: number; nextDelayMs?: number }> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]);
        done();
      },
    });
    const connection = connect(server, TOKEN, {
      logger: pino({ level: 'warn' }, sink),
      reconnectMinMs: 40,
      reconnectMaxMs: 320,
    });
    await connection.open();
    await expectEventually(() => expect(connectedAt.length).toBeGreaterThanOrEqual(7), 20_000);
    connection.close();
    const retries = lines.filter((l) => l.msg.startsWith('lost the coordinator; reconnecting in'));
    // One line per attempt, each naming its delay: half fixed, half random, of 40·2^(n−1) ms capped at 320.
    expect(retries.length).toBeGreaterThanOrEqual(6);
    retries.forEach((line, i) => {
      const base = Math.min(320, 40 * 2 ** i);
      expect(line.attempt).toBe(i + 1);
      expect(line.nextDelayMs).toBeGreaterThanOrEqual(base / 2);
      expect(line.nextDelayMs).toBeLessThanOrEqual(base);
    });
    // Every reconnection came no sooner than the delay announced for it (timers never fire early;
    // 2 ms for the clocks' rounding).
    for (let i = 1; i < Math.min(connectedAt.length, retries.length + 1); i++) {
      const gap = (connectedAt[i] as number) - (connectedAt[i - 1] as number);
      expect(gap).toBeGreaterThanOrEqual((retries[i - 1]?.nextDelayMs as number) - 2);
    }
  });

  it('does not re-send a message whose sending lost the connection three times, and carries on', async () => {
    let received = 0;
    const server = await startTestServer({
      token: TOKEN,
      onConnection: (socket) =>
        socket.on('metrics', (payload, ack) => {
          received++;
          // What the coordinator's transport does with a message beyond its limit: close.
          if ((payload as { memberId: string }).memberId === 'poison') socket.conn.close();
          else ack({ ok: true });
        }),
    });
    cleanup.push(() => server.close());
    const connection = connect(server, TOKEN, { reconnectMinMs: 20, reconnectMaxMs: 100 });
    await connection.open();
    const error = await connection
      .request('metrics', { memberId: 'poison', attempt: 1, points: [point] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChorusError);
    expect(error).toMatchObject({
      code: 'too-large',
      message: expect.stringMatching(/^metrics not sent again: the connection was lost each of the 3 times/),
    });
    expect(received).toBe(3);
    await expect(
      connection.request('metrics', { memberId: 'm1', attempt: 1, points: [point] }),
    ).resolves.toEqual({ ok: true });
    expect(received).toBe(4);
  });

  it('does not send a message larger than the coordinator takes', async () => {
    let received = 0;
    const server = await startTestServer({
      token: TOKEN,
      onConnection: (socket) =>
        socket.on('checkpoint', (_p, ack) => {
          received++;
          ack({ ok: true });
        }),
    });
    cleanup.push(() => server.close());
    const connection = connect(server, TOKEN, { maxMessageBytes: 4096 });
    await connection.open();
    const checkpoint = { memberId: 'm1', attempt: 1, epoch: 0, step: 1, planOffset: 1 };
    // 4,000 bytes of weights plus about 70 of JSON: within 4 KiB.
    await expect(
      connection.request('checkpoint', { ...checkpoint, weights: new Uint8Array(4000) }),
    ).resolves.toEqual({ ok: true });
    // 5 MiB: refused before sending, saying by how much.
    await expect(
      connection.request('checkpoint', { ...checkpoint, weights: Buffer.alloc(5 * 2 ** 20) }),
    ).rejects.toThrow(
      new ChorusError(
        'too-large',
        'checkpoint not sent: its 5.0 MiB exceed the 4 KiB the coordinator takes in one message',
      ),
    );
    expect(received).toBe(1);
  });
});
