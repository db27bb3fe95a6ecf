import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MetricsMessageSchema, PROTOCOL_VERSION } from '@chorus/protocol';
import { Connection } from './connection';
import { MetricsSender, type MetricPoint } from './metrics-sender';
import { expectEventually, startTestServer, type TestServer } from './test-server';

/** The sender over a real Connection to a real socket.io server that is away, then back. */

const TOKEN = 'metrics-token';
const logger = pino({ level: 'silent' });
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const point = (step: number): MetricPoint => ({
  step,
  epoch: 0,
  loss: 1,
  accuracy: 0.5,
  samplesPerSecond: 10,
});

/** A server on `port` that records the steps of every metrics message and acks it unless `ack` says no. */
const serve = async (steps: number[][], port?: number, ack: () => boolean = () => true) => {
  const server = await startTestServer({
    token: TOKEN,
    ...(port !== undefined ? { port } : {}),
    onConnection: (socket) =>
      socket.on('metrics', (payload, answer) => {
        if (!ack()) return;
        steps.push(MetricsMessageSchema.parse(payload).points.map((p) => p.step));
        answer({ ok: true });
      }),
  });
  cleanup.push(() => server.close());
  return server;
};

const connect = (url: string, ackTimeoutMs = 2_000) => {
  const connection = new Connection({
    url,
    logger,
    ackTimeoutMs,
    reconnectMinMs: 20,
    reconnectMaxMs: 100,
    handshake: () => ({
      token: TOKEN,
      protocolVersion: PROTOCOL_VERSION,
      workerId: randomUUID(),
      name: 'test',
      host: 'localhost',
      backend: 'cpu',
      device: 'CPU',
      slots: 1,
      activeMembers: [],
    }),
  });
  cleanup.push(() => connection.close());
  return connection;
};

const senderOver = (connection: Connection, maxBuffered: number, drops: Array<[number, string]>) =>
  new MetricsSender(
    async (points) => {
      await connection.request('metrics', { memberId: 'm1', attempt: 1, points });
    },
    0,
    () => undefined,
    { maxBuffered, onDropped: (n, state) => drops.push([n, state]) },
  );

describe('MetricsSender', () => {
  it('keeps the latest points while the coordinator is away and sends them when it is back', async () => {
    const probe: TestServer = await serve([]);
    const { port } = probe;
    await probe.close();
    const connection = connect(`http://127.0.0.1:${port}`);
    void connection.open().catch(() => undefined);
    const drops: Array<[number, string]> = [];
    const sender = senderOver(connection, 10, drops);
    cleanup.push(() => sender.stop());

    // 25 points at once: the bound keeps 16–25 (15 dropped), which become the message in flight.
    for (let step = 1; step <= 25; step++) sender.push(point(step));
    await new Promise((r) => setTimeout(r, 50));
    // 15 more while that message waits for the coordinator: 31–40 kept, 26–30 dropped.
    for (let step = 26; step <= 40; step++) sender.push(point(step));
    expect(drops).toEqual([[1, 'dropping']]);

    const steps: number[][] = [];
    await serve(steps, port);
    await expectEventually(() => expect(steps.flat()).toHaveLength(20));
    await sender.flush();
    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
    expect(steps.flat()).toEqual([...range(16, 25), ...range(31, 40)]);
    // One warning when dropping began, one with the count when messages got through again.
    expect(drops).toEqual([
      [1, 'dropping'],
      [20, 'delivered again'],
    ]);
  });

  it('sends again, in order, the points of a message that was never acknowledged', async () => {
    const steps: number[][] = [];
    let seen = 0;
    // The first five sends get no answer: the request gives up ('unavailable') after five timeouts.
    const server = await serve(steps, undefined, () => ++seen > 5);
    const connection = connect(server.url, 50);
    await connection.open();
    const errors: unknown[] = [];
    const sender = new MetricsSender(
      async (points) => {
        await connection.request('metrics', { memberId: 'm1', attempt: 1, points });
      },
      0,
      (error) => errors.push(error),
    );
    cleanup.push(() => sender.stop());
    for (let step = 1; step <= 3; step++) sender.push(point(step));
    await expectEventually(() => expect(errors).toHaveLength(1));
    expect(errors[0]).toMatchObject({ code: 'unavailable' });
    sender.push(point(4));
    await expectEventually(() => expect(steps.flat()).toEqual([1, 2, 3, 4]));
    await sender.flush();
    expect(steps.flat()).toEqual([1, 2, 3, 4]); // each point once: the lost sends were never stored
  });
});
