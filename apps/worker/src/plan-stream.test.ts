import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planShards } from '@chorus/data';
import { PlanRequestSchema, PROTOCOL_VERSION, type PlanRequest } from '@chorus/protocol';
import { Connection } from './connection';
import { PlanStream } from './plan-stream';
import { expectEventually, startTestServer, type TestServer } from './test-server';

const TOKEN = 'plan-token';
const plan = planShards({
  strategy: 'round-robin',
  numSamples: 1000,
  members: 3,
  batchSize: 10,
  epochs: 2,
  seed: 5,
});
const member = plan.member(1);

let server: TestServer;
let connection: Connection;
const requests: PlanRequest[] = [];
/** Acks held back by the test, to look at the stream while a request is outstanding. */
let hold: Promise<void> = Promise.resolve();

beforeAll(async () => {
  server = await startTestServer({
    token: TOKEN,
    onConnection: (socket) => {
      // The coordinator's side of plan:next, straight from planShards.
      socket.on('plan:next', async (payload, ack) => {
        const request = PlanRequestSchema.parse(payload);
        requests.push(request);
        await hold;
        const batches = member.batches(request.offset, request.count);
        const indices = new Int32Array(batches.reduce((n, b) => n + b.length, 0));
        let at = 0;
        for (const b of batches) {
          indices.set(b, at);
          at += b.length;
        }
        ack({
          ok: true,
          chunk: {
            offset: request.offset,
            sizes: batches.map((b) => b.length),
            indices: new Uint8Array(indices.buffer),
          },
        });
      });
    },
  });
  connection = new Connection({
    url: server.url,
    logger: pino({ level: 'silent' }),
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
  await connection.open();
});

afterAll(async () => {
  connection.close();
  await server.close();
});

const streamFrom = (offset: number, chunkSize = 8) =>
  new PlanStream({
    offset,
    total: member.totalBatches,
    chunkSize,
    fetchChunk: async (o, count) =>
      (await connection.request('plan:next', { memberId: 'm1', attempt: 1, offset: o, count })).chunk,
  });

describe('PlanStream over plan:next', () => {
  it('pulls the next chunk ahead, yields the plan in order and stops at its end', async () => {
    requests.length = 0;
    const stream = streamFrom(0);
    const epoch = member.batchesInEpoch(0);
    const firstEpoch = stream.take(epoch);
    const got: Int32Array[] = [];
    for (let i = 0; i < 4; i++) got.push(((await firstEpoch.next()).value as Int32Array).slice());
    // Half of the first chunk is used: the second is requested before the first runs out.
    await expectEventually(() => expect(requests.map((r) => r.offset)).toEqual([0, 8]));
    expect(stream.offset).toBe(4);
    for await (const batch of firstEpoch) got.push(batch.slice());
    for await (const batch of stream.take(member.totalBatches - epoch)) got.push(batch.slice());

    expect(got).toHaveLength(member.totalBatches);
    got.forEach((batch, k) => expect(batch).toEqual(member.batch(k)));
    expect(stream.offset).toBe(member.totalBatches);
    const last = requests.at(-1) as PlanRequest;
    expect(last.offset + last.count).toBe(member.totalBatches);
    expect(requests.every((r) => r.offset + r.count <= member.totalBatches)).toBe(true);
    await expect(stream.take(1).next()).rejects.toThrow(/cannot take 1 batches/);
  });

  it('resumes from an offset', async () => {
    requests.length = 0;
    const offset = member.firstBatchOfEpoch(1) - 3;
    const stream = streamFrom(offset, 5);
    const got: Int32Array[] = [];
    for await (const batch of stream.take(member.totalBatches - offset)) got.push(batch.slice());
    expect(requests[0]).toEqual({ memberId: 'm1', attempt: 1, offset, count: 5 });
    got.forEach((batch, k) => expect(batch).toEqual(member.batch(offset + k)));
    expect(stream.offset).toBe(member.totalBatches);
  });

  it('waits for an outstanding chunk rather than failing', async () => {
    requests.length = 0;
    let release!: () => void;
    hold = new Promise<void>((resolve) => (release = resolve));
    const stream = streamFrom(10, 4);
    const next = stream.take(2).next();
    await expectEventually(() => expect(requests).toHaveLength(1));
    setTimeout(release, 50);
    expect((await next).value).toEqual(member.batch(10));
    hold = Promise.resolve();
  });
});
