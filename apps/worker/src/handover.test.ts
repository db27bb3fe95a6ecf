import * as tf from '@tensorflow/tfjs-core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '@chorus/models';
import {
  memberModelSpec,
  parseRunConfig,
  type Assignment,
  type CheckpointMessage,
  type MemberModelSpec,
} from '@chorus/protocol';
import { expectEventually, startFakeCoordinator, startTestWorker, type FakeCoordinator } from './test-server';

/**
 * Straggler handover (`member:handover` → checkpoint where training got to → `member:release`)
 * against the scripted coordinator. The coordinator sends each handover while it handles a message
 * of the worker's, before acknowledging it, so where training stands when the worker reads it does
 * not depend on timing.
 */

const TOKEN = 'handover-test-token';
const config = parseRunConfig({
  dataset: 'synthetic',
  model: 'mlp',
  members: 2,
  epochs: 3,
  batchSize: 8,
  trainLimit: 3000,
  seed: 5,
  sharding: 'round-robin',
});
// Adam (t, m, v) and dropout masks seeded per (layer, step): a member resumed mid-epoch continues
// exactly only if both come back.
const model: MemberModelSpec = {
  ...memberModelSpec(config, 0),
  optimizer: 'adam',
  dropout: 0.3,
  learningRate: 0.01,
};

/** The worker's log records: they show when it has read a handover. */
const logs: Array<Record<string, unknown>> = [];
const logger = pino(
  { level: 'info' },
  {
    write: (line: string) => {
      logs.push(JSON.parse(line) as Record<string, unknown>);
      if (process.env['TEST_LOG_LEVEL'] !== undefined) process.stderr.write(line);
    },
  },
);
const logged = (msg: string, memberId: string) =>
  logs.filter((l) => l['msg'] === msg && l['memberId'] === memberId);

let coordinator: FakeCoordinator;
let stop: (() => Promise<void>) | undefined;
let perEpoch: number;

const of: FakeCoordinator['of'] = (event, memberId) => coordinator.of(event, memberId);
const member = (memberId: string, extra: Partial<Assignment> = {}): Assignment =>
  coordinator.assignment(0, memberId, { model, ...extra });
const handover = (memberId: string, attempt: number) =>
  coordinator.emit('member:handover', { memberId, attempt, reason: 'a faster worker is idle' });
const probabilities = (memberId: string, round: number, split: string) => {
  const p = of('predictions', memberId).find(
    (r) => r.payload['round'] === round && r.payload['split'] === split,
  );
  return new Float32Array(
    new Uint8Array((p?.payload['probabilities'] as Uint8Array | undefined) ?? []).buffer,
  );
};

beforeAll(async () => {
  coordinator = await startFakeCoordinator({ token: TOKEN, config });
  perEpoch = member('x').totalBatches / config.epochs;
  ({ stop } = await startTestWorker(coordinator, TOKEN, logger, { heartbeatMs: 100 }));
});

afterAll(() => stop?.());

describe('member handover', () => {
  it('ignores a handover of another attempt, of a member it does not hold, or after the last batch', async () => {
    // Batch 32 is asked for once about 24 are trained: mid-epoch 0, whatever the machine's speed.
    expect(perEpoch).toBeGreaterThan(64);
    coordinator.onReceive = ({ event, payload }) => {
      if (payload['memberId'] !== 'ref-0') return;
      if (event === 'plan:next' && payload['offset'] === 32) {
        handover('ref-0', 2);
        handover('not-held', 1);
      }
      // The last epoch's predictions: every batch is trained, the member completes.
      if (event === 'predictions' && payload['round'] === config.epochs - 1 && payload['split'] === 'test') {
        handover('ref-0', 1);
      }
    };
    coordinator.offer(member('ref-0'));
    await expectEventually(() => expect(of('member:done', 'ref-0')).toHaveLength(1), 60_000);
    coordinator.onReceive = null;

    const ignored = 'ignoring a handover of a member this worker does not hold under that attempt';
    expect(logged(ignored, 'ref-0')).toHaveLength(1);
    expect(logged(ignored, 'not-held')).toHaveLength(1);
    expect(logged('member handover requested', 'ref-0')).toHaveLength(1);
    expect(of('member:release')).toHaveLength(0);
    expect(of('member:failed', 'ref-0')).toHaveLength(0);
    expect(of('checkpoint', 'ref-0').map((r) => r.payload['planOffset'])).toEqual(
      [1, 2, 3].map((e) => e * perEpoch),
    );
    expect(of('predictions', 'ref-0')).toHaveLength(2 * config.epochs);
  });

  it('hands a member over mid-epoch: checkpoint at the batches trained, member:release, then asks for work', async () => {
    const tensorsBefore = tf.memory().numTensors;
    coordinator.onReceive = ({ event, payload }) => {
      if (event === 'plan:next' && payload['memberId'] === 'hand-0' && payload['offset'] === 32) {
        handover('hand-0', 1);
      }
    };
    coordinator.offer(member('hand-0'));
    await expectEventually(() => expect(of('member:release', 'hand-0')).toHaveLength(1), 60_000);
    coordinator.onReceive = null;

    const checkpoints = of('checkpoint', 'hand-0');
    expect(checkpoints).toHaveLength(1);
    const c = checkpoints[0]?.payload as Record<string, number>;
    const p = c['planOffset'] as number;
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(perEpoch);
    // A fresh member: one step per batch trained.
    expect(c).toMatchObject({ memberId: 'hand-0', attempt: 1, epoch: 0, step: p });
    const decoded = decodeCheckpoint(coordinator.checkpoints.get('hand-0/0')?.weights ?? new Uint8Array());
    expect(decoded.training?.step).toBe(p);
    expect(decoded.training?.optimizer).toMatchObject({ name: 'Adam', iterations: p });
    expect(of('member:release', 'hand-0')[0]?.payload).toEqual({
      memberId: 'hand-0',
      attempt: 1,
      planOffset: p,
      reason: 'handover',
    });
    expect(coordinator.received.indexOf(checkpoints[0] as never)).toBeLessThan(
      coordinator.received.indexOf(of('member:release', 'hand-0')[0] as never),
    );
    // Metrics up to the last batch trained; no predictions for the partial epoch, no done or failure.
    const steps = of('metrics', 'hand-0').flatMap((r) =>
      (r.payload['points'] as Array<{ step: number }>).map((s) => s.step),
    );
    expect(Math.max(...steps)).toBe(p);
    expect(of('predictions', 'hand-0')).toHaveLength(0);
    expect(of('member:done', 'hand-0')).toHaveLength(0);
    expect(of('member:failed', 'hand-0')).toHaveLength(0);
    // The worker logs the handover once the release is acknowledged, a moment after it arrived here.
    await expectEventually(() =>
      expect(logged('member handed over', 'hand-0')[0]).toMatchObject({ planOffset: p }),
    );

    // The slot is free again: it asks for work without being told there is some.
    const released = coordinator.received.indexOf(of('member:release', 'hand-0')[0] as never);
    await expectEventually(() =>
      expect(coordinator.received.slice(released).some((r) => r.event === 'member:request')).toBe(true),
    );
    await expectEventually(() => expect(tf.memory().numTensors).toBe(tensorsBefore), 10_000);
  });

  it('resumes from the handover checkpoint exactly as if never interrupted (Adam, dropout)', async () => {
    const c = coordinator.checkpoints.get('hand-0/0') as CheckpointMessage;
    coordinator.offer(member('hand-0b', { attempt: 2, ...coordinator.resumption('hand-0/0') }));
    await expectEventually(() => expect(of('member:done', 'hand-0b')).toHaveLength(1), 60_000);
    expect(of('plan:next', 'hand-0b')[0]?.payload).toMatchObject({ offset: c.planOffset, attempt: 2 });
    const points = of('metrics', 'hand-0b').flatMap((r) => r.payload['points'] as Array<{ step: number }>);
    expect(Math.min(...points.map((s) => s.step))).toBeGreaterThan(c.step);
    for (let round = 0; round < config.epochs; round++) {
      for (const split of ['validation', 'test']) {
        const original = probabilities('ref-0', round, split);
        expect(original.length).toBeGreaterThan(0);
        // Bit-identical on the cpu backend, not merely close.
        expect(probabilities('hand-0b', round, split), `round ${round} ${split}`).toEqual(original);
      }
    }
    const last = config.epochs - 1;
    expect(coordinator.checkpoints.get(`hand-0b/${last}`)?.weights).toEqual(
      coordinator.checkpoints.get(`ref-0/${last}`)?.weights,
    );
  });

  it('after an epoch’s last batch, sends its predictions and checkpoint, then releases at the boundary', async () => {
    coordinator.onReceive = ({ event, payload }) => {
      if (event === 'predictions' && payload['memberId'] === 'edge-0' && payload['round'] === 0) {
        if (payload['split'] === 'validation') handover('edge-0', 1);
      }
    };
    coordinator.offer(member('edge-0'));
    await expectEventually(() => expect(of('member:release', 'edge-0')).toHaveLength(1), 60_000);
    coordinator.onReceive = null;
    expect(of('predictions', 'edge-0').map((r) => `${r.payload['round']}:${r.payload['split']}`)).toEqual([
      '0:validation',
      '0:test',
    ]);
    // The epoch's checkpoint was acknowledged at the boundary: no second one.
    expect(of('checkpoint', 'edge-0').map((r) => [r.payload['epoch'], r.payload['planOffset']])).toEqual([
      [0, perEpoch],
    ]);
    expect(of('member:release', 'edge-0')[0]?.payload).toMatchObject({ attempt: 1, planOffset: perEpoch });
    expect(of('member:done', 'edge-0')).toHaveLength(0);
    expect(of('member:failed', 'edge-0')).toHaveLength(0);
  });

  it('a handover before training starts releases at the start offset without a checkpoint', async () => {
    // Hold the checkpoint download until the worker has read the handover.
    coordinator.onCheckpointDownload = async () => {
      handover('late-0', 2);
      await expectEventually(() => expect(logged('member handover requested', 'late-0')).toHaveLength(1));
    };
    coordinator.offer(member('late-0', { attempt: 2, ...coordinator.resumption('ref-0/0') }));
    await expectEventually(() => expect(of('member:release', 'late-0')).toHaveLength(1), 60_000);
    coordinator.onCheckpointDownload = null;
    expect(of('member:release', 'late-0')[0]?.payload).toEqual({
      memberId: 'late-0',
      attempt: 2,
      planOffset: perEpoch,
      reason: 'handover',
    });
    // No batch was pulled, trained or reported.
    for (const event of [
      'plan:next',
      'metrics',
      'checkpoint',
      'predictions',
      'member:done',
      'member:failed',
    ] as const) {
      expect(of(event, 'late-0'), event).toHaveLength(0);
    }
  });
});
