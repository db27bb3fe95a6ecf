import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChorusError, parseRunConfig, WORKERS_NAMESPACE, type RunConfig } from '@chorus/protocol';
import { expectEventually, startFakeCoordinator, startTestWorker, type FakeCoordinator } from './test-server';

/**
 * A worker whose messages for one member the coordinator cannot take: it fails that member with
 * the reason, does not send the message in a loop, and goes on training the next one.
 */

const TOKEN = 'refusals-token';
const logger = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });

const config: RunConfig = parseRunConfig({
  dataset: 'synthetic',
  model: 'mlp',
  members: 3,
  epochs: 1,
  batchSize: 32,
  trainLimit: 640,
  seed: 5,
});

let coordinator: FakeCoordinator;
let stop: (() => Promise<void>) | undefined;

beforeAll(async () => {
  coordinator = await startFakeCoordinator({ token: TOKEN, config });
  coordinator.onReceive = ({ event, payload }) => {
    if (event !== 'checkpoint') return;
    if (payload['memberId'] === 'dropped') {
      // What the coordinator's transport does with a message beyond its size limit: it closes.
      for (const socket of coordinator.io.of(WORKERS_NAMESPACE).sockets.values()) socket.conn.close();
    }
    if (payload['memberId'] === 'refused') {
      throw new ChorusError('invalid-input', 'checkpoint does not match the member');
    }
  };
  ({ stop } = await startTestWorker(coordinator, TOKEN, logger));
});

afterAll(() => stop?.());

describe('worker facing refusals', () => {
  it('fails a member whose message the coordinator refuses, sends it once, and trains the next', async () => {
    coordinator.offer(coordinator.assignment(0, 'refused'));
    coordinator.offer(coordinator.assignment(1, 'next-1'));
    await expectEventually(() => expect(coordinator.of('member:done', 'next-1')).toHaveLength(1), 60_000);
    expect(coordinator.of('checkpoint', 'refused')).toHaveLength(1);
    expect(coordinator.of('member:failed', 'refused').map((r) => r.payload['error'])).toEqual([
      'checkpoint refused: checkpoint does not match the member',
    ]);
    expect(coordinator.of('member:done', 'refused')).toHaveLength(0);
  });

  it('fails a member whose message drops the connection, after three sends, and trains the next', async () => {
    coordinator.offer(coordinator.assignment(0, 'dropped'));
    coordinator.offer(coordinator.assignment(2, 'next-2'));
    await expectEventually(() => expect(coordinator.of('member:done', 'next-2')).toHaveLength(1), 60_000);
    expect(coordinator.of('checkpoint', 'dropped')).toHaveLength(3);
    const failed = coordinator.of('member:failed', 'dropped').map((r) => r.payload['error']);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatch(
      /^checkpoint not sent again: the connection was lost each of the 3 times it was sent/,
    );
    expect(coordinator.of('member:done', 'dropped')).toHaveLength(0);
  });
});
