import * as tf from '@tensorflow/tfjs-core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '@chorus/models';
import {
  memberModelSpec,
  parseRunConfig,
  WORKERS_NAMESPACE,
  type Assignment,
  type CheckpointMessage,
  type MemberModelSpec,
  type PredictionsMessage,
  type RunConfig,
} from '@chorus/protocol';
import { expectEventually, startFakeCoordinator, startTestWorker, type FakeCoordinator } from './test-server';
import type { WorkerHandle } from './worker';

/**
 * The worker against a scripted coordinator (test-server.ts `startFakeCoordinator`): a real
 * socket.io + HTTP server that hands out the assignments a test queues and records everything the
 * worker sends.
 */

const TOKEN = 'worker-test-token';
const HEARTBEAT_MS = 100;
const logger = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });

let coordinator: FakeCoordinator;
let stop: (() => Promise<void>) | undefined;
let worker: WorkerHandle;

const config: RunConfig = parseRunConfig({
  dataset: 'synthetic',
  model: 'mlp',
  members: 2,
  epochs: 3,
  batchSize: 8,
  // Enough batches that training spans several heartbeat intervals even on a fast machine.
  trainLimit: 3000,
  seed: 3,
  sharding: 'round-robin',
  // Stateless optimizer and no dropout: a resumed member must then continue exactly.
  optimizer: 'sgd',
  learningRate: 0.05,
});

const of: FakeCoordinator['of'] = (event, memberId) => coordinator.of(event, memberId);
const assignment = (memberIndex: number, memberId: string, extra: Partial<Assignment> = {}): Assignment =>
  coordinator.assignment(memberIndex, memberId, extra);
const offer = (a: Assignment): void => coordinator.offer(a);

beforeAll(async () => {
  coordinator = await startFakeCoordinator({ token: TOKEN, config });
  ({ worker, stop } = await startTestWorker(coordinator, TOKEN, logger, { heartbeatMs: HEARTBEAT_MS }));
});

afterAll(() => stop?.());

const probabilities = (p: Record<string, unknown>) => {
  const bytes = p['probabilities'] as Uint8Array;
  return new Float32Array(new Uint8Array(bytes).buffer);
};

describe('worker', () => {
  it('connects with its backend and trains a member to the end, keeping heartbeats flowing', async () => {
    expect(worker.backend).toBe('cpu');
    const tensorsBefore = tf.memory().numTensors;
    const a = assignment(0, 'member-0');
    offer(a);
    await expectEventually(() => expect(of('member:done', 'member-0')).toHaveLength(1), 60_000);
    const perEpoch = a.totalBatches / config.epochs;

    // Predictions: every round, both splits, softmax rows.
    const predictions = of('predictions', 'member-0').map((r) => r.payload as unknown as PredictionsMessage);
    expect(predictions.map((p) => `${p.round}:${p.split}`)).toEqual([
      '0:validation',
      '0:test',
      '1:validation',
      '1:test',
      '2:validation',
      '2:test',
    ]);
    for (const p of predictions) {
      expect(p.rows).toBe(p.split === 'validation' ? coordinator.validationRows : coordinator.testRows);
      const values = probabilities(p as unknown as Record<string, unknown>);
      expect(values).toHaveLength(p.rows * p.numClasses);
      for (let r = 0; r < p.rows; r += 37) {
        const sum = values.subarray(r * p.numClasses, (r + 1) * p.numClasses).reduce((s, v) => s + v, 0);
        expect(sum).toBeCloseTo(1, 4);
      }
    }
    // A checkpoint after every epoch, at the next batch to train.
    expect(
      of('checkpoint', 'member-0').map((r) => [
        r.payload['epoch'],
        r.payload['step'],
        r.payload['planOffset'],
      ]),
    ).toEqual([0, 1, 2].map((e) => [e, (e + 1) * perEpoch, (e + 1) * perEpoch]));
    // Metrics: throttled, batched, steps increasing within the plan, epochs in order.
    const points = of('metrics', 'member-0').flatMap(
      (r) => r.payload['points'] as Array<{ step: number; epoch: number }>,
    );
    expect(points.length).toBeGreaterThan(3);
    expect(of('metrics', 'member-0').length).toBeLessThan(points.length);
    expect(points.map((p) => p.step)).toEqual([...points.map((p) => p.step)].sort((x, y) => x - y));
    expect(points.at(-1)?.step).toBe(a.totalBatches);
    expect(points.every((p) => p.epoch === Math.floor((p.step - 1) / perEpoch))).toBe(true);
    expect(of('member:done', 'member-0')[0]?.payload).toMatchObject({
      memberId: 'member-0',
      attempt: 1,
      samples: expect.any(Number),
    });

    // Heartbeats kept flowing while the member trained (the training loop yields to the event loop).
    const start = of('plan:next', 'member-0')[0]?.at as number;
    const end = of('member:done', 'member-0')[0]?.at as number;
    const beats = of('heartbeat')
      .map((r) => r.at)
      .filter((t) => t >= start - HEARTBEAT_MS && t <= end + HEARTBEAT_MS);
    const gaps = beats.slice(1).map((t, i) => t - (beats[i] as number));
    // As many beats as the training lasted heartbeat intervals, give or take a loaded machine's
    // scheduling: at least half of them (a blocked event loop would leave one or two).
    const intervals = Math.floor((end - start) / HEARTBEAT_MS);
    expect(intervals).toBeGreaterThanOrEqual(3);
    expect(beats.length).toBeGreaterThanOrEqual(Math.ceil(intervals / 2) + 1);
    expect(Math.max(...gaps)).toBeLessThan(8 * HEARTBEAT_MS);
    expect(of('heartbeat').some((r) => (r.payload['members'] as unknown[]).length === 1)).toBe(true);

    // Every tensor of the member is gone (the model is disposed just after member:done is sent).
    await expectEventually(() => expect(tf.memory().numTensors).toBe(tensorsBefore), 10_000);
  });

  it('resumes from a checkpoint at its plan offset, not from step 0', async () => {
    const first = coordinator.checkpoints.get('member-0/0') as CheckpointMessage;
    const a = assignment(0, 'member-0b', { attempt: 2, ...coordinator.resumption('member-0/0') });
    offer(a);
    await expectEventually(() => expect(of('member:done', 'member-0b')).toHaveLength(1), 60_000);
    expect(of('plan:next', 'member-0b')[0]?.payload).toMatchObject({ offset: first.planOffset, attempt: 2 });
    expect(of('predictions', 'member-0b').map((r) => r.payload['round'])).toEqual([1, 1, 2, 2]);
    const points = of('metrics', 'member-0b').flatMap((r) => r.payload['points'] as Array<{ step: number }>);
    expect(Math.min(...points.map((p) => p.step))).toBeGreaterThan(first.step);
    expect(of('checkpoint', 'member-0b').map((r) => r.payload['epoch'])).toEqual([1, 2]);
    // Same weights, same batches, a stateless optimizer: the resumed epoch 1 predicts as the original did.
    const original = probabilities(
      of('predictions', 'member-0').find((r) => r.payload['round'] === 1)?.payload ?? {},
    );
    const resumed = probabilities(
      of('predictions', 'member-0b').find((r) => r.payload['round'] === 1)?.payload ?? {},
    );
    let maxDiff = 0;
    for (let i = 0; i < original.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs((original[i] as number) - (resumed[i] as number)));
    expect(maxDiff).toBeLessThan(1e-5);
  });

  it('resumes an Adam member with dropout exactly: optimizer state and dropout stream come back', async () => {
    const tensorsBefore = tf.memory().numTensors;
    // Adam (t, m, v) and dropout masks seeded per (layer, step): both must continue where they were.
    const model: MemberModelSpec = {
      ...memberModelSpec(config, 0),
      optimizer: 'adam',
      dropout: 0.3,
      learningRate: 0.01,
    };
    offer(assignment(0, 'adam-0', { model }));
    await expectEventually(() => expect(of('member:done', 'adam-0')).toHaveLength(1), 60_000);
    const first = coordinator.checkpoints.get('adam-0/0') as CheckpointMessage;
    const decoded = decodeCheckpoint(first.weights);
    expect(decoded.format).toBe('container');
    expect(decoded.training?.step).toBe(first.step);
    expect(decoded.training?.optimizer).toMatchObject({ name: 'Adam', iterations: first.step });
    // mlp: 4 hidden layers + output, kernel and bias each, m and v each.
    expect(decoded.training?.optimizer?.slots).toHaveLength(20);

    const resumeFrom = (memberId: string, key: string) =>
      assignment(0, memberId, { model, attempt: 2, ...coordinator.resumption(key) });
    offer(resumeFrom('adam-0b', 'adam-0/0'));
    await expectEventually(() => expect(of('member:done', 'adam-0b')).toHaveLength(1), 60_000);
    const predictions = (memberId: string, round: number, split: string) =>
      probabilities(
        of('predictions', memberId).find((r) => r.payload['round'] === round && r.payload['split'] === split)
          ?.payload ?? {},
      );
    for (const round of [1, 2]) {
      for (const split of ['validation', 'test']) {
        const original = predictions('adam-0', round, split);
        expect(original.length).toBeGreaterThan(0);
        // Bit-identical on the cpu backend, not merely close.
        expect(predictions('adam-0b', round, split), `round ${round} ${split}`).toEqual(original);
      }
    }
    // The epoch-1 checkpoints (weights, step, Adam's moments) and the final ones (weights and step
    // only: nothing trains from them) are byte for byte the same.
    expect(coordinator.checkpoints.get('adam-0b/1')?.weights).toEqual(
      coordinator.checkpoints.get('adam-0/1')?.weights,
    );
    expect(coordinator.checkpoints.get('adam-0b/2')?.weights).toEqual(
      coordinator.checkpoints.get('adam-0/2')?.weights,
    );
    const final = decodeCheckpoint((coordinator.checkpoints.get('adam-0/2') as CheckpointMessage).weights);
    expect(final.training).toEqual({
      step: (coordinator.checkpoints.get('adam-0/2') as CheckpointMessage).step,
      optimizer: null,
    });
    expect(final.weights.length * 2.5).toBeLessThan(first.weights.length); // no m and v: a third of the size
    const points = of('metrics', 'adam-0b').flatMap((r) => r.payload['points'] as Array<{ step: number }>);
    expect(Math.min(...points.map((p) => p.step))).toBeGreaterThan(first.step);
    expect(points.at(-1)?.step).toBe(resumeFrom('x', 'adam-0/0').totalBatches);

    // A checkpoint of the older weights-only format still resumes, with a fresh optimizer: close to
    // the uninterrupted member, no longer identical.
    coordinator.checkpoints.set('legacy-0/0', { ...first, weights: new Uint8Array(decoded.weights) });
    offer(resumeFrom('adam-0c', 'legacy-0/0'));
    await expectEventually(() => expect(of('member:done', 'adam-0c')).toHaveLength(1), 60_000);
    expect(of('member:failed', 'adam-0c')).toHaveLength(0);
    expect(predictions('adam-0c', 1, 'test')).not.toEqual(predictions('adam-0', 1, 'test'));

    await expectEventually(() => expect(tf.memory().numTensors).toBe(tensorsBefore), 10_000);
  });

  it('reports a checkpoint it cannot load with its epoch, so the coordinator drops it', async () => {
    const first = coordinator.checkpoints.get('member-0/0') as CheckpointMessage;
    const flipped = new Uint8Array(first.weights);
    flipped[flipped.length - 3] = (flipped[flipped.length - 3] as number) ^ 1;
    coordinator.checkpoints.set('flipped-0/0', { ...first, weights: flipped });
    offer(assignment(0, 'member-0f', { attempt: 2, ...coordinator.resumption('flipped-0/0') }));
    await expectEventually(() => expect(of('member:failed', 'member-0f')).toHaveLength(1), 30_000);
    expect(of('member:failed', 'member-0f')[0]?.payload).toMatchObject({
      checkpointEpoch: first.epoch,
      error: expect.stringMatching(/fails its checksum/),
    });
  });

  it('stops a revoked member without sending more for it, then asks for more work', async () => {
    const a = assignment(1, 'member-1', {
      config: { ...config, epochs: 40 },
      totalBatches: (assignment(1, 'x').totalBatches / config.epochs) * 40,
    });
    offer(a);
    await expectEventually(() => expect(of('metrics', 'member-1').length).toBeGreaterThan(0), 30_000);
    const requestsBefore = of('member:request').length;
    coordinator.emit('member:revoke', {
      memberId: 'member-1',
      attempt: 1,
      reason: 'run cancelled',
    });
    await expectEventually(() => expect(of('member:request').length).toBeGreaterThan(requestsBefore), 30_000);
    const count = coordinator.received.filter((r) => r.payload['memberId'] === 'member-1').length;
    await new Promise((r) => setTimeout(r, 300));
    expect(coordinator.received.filter((r) => r.payload['memberId'] === 'member-1').length).toBe(count);
    expect(of('member:done', 'member-1')).toHaveLength(0);
    expect(of('member:failed', 'member-1')).toHaveLength(0);
  });

  it('stops a member whose lease a heartbeat answer revokes', async () => {
    const a = assignment(1, 'member-1c', {
      config: { ...config, epochs: 40 },
      totalBatches: (assignment(1, 'x').totalBatches / config.epochs) * 40,
    });
    offer(a);
    await expectEventually(() => expect(of('metrics', 'member-1c').length).toBeGreaterThan(0), 30_000);
    const requestsBefore = of('member:request').length;
    coordinator.revokeOnHeartbeat = [{ memberId: 'member-1c', attempt: 1 }];
    await expectEventually(() => expect(of('member:request').length).toBeGreaterThan(requestsBefore), 30_000);
    coordinator.revokeOnHeartbeat = [];
    expect(of('member:done', 'member-1c')).toHaveLength(0);
    expect(of('member:failed', 'member-1c')).toHaveLength(0);
  });

  it('reports a member it cannot train with member:failed', async () => {
    // A newer coordinator's model: the assignment's schema refuses the name this worker does not know.
    const model = { name: 'no-such-model' as string, seed: 1 } as MemberModelSpec;
    offer(assignment(0, 'member-bad', { model }));
    await expectEventually(() => expect(of('member:failed', 'member-bad')).toHaveLength(1), 30_000);
    expect(of('member:failed', 'member-bad')[0]?.payload['error']).toMatch(
      /cannot read its assignment: the answer to member:request does not match the protocol:\nassignment\.model\.name: unknown model "no-such-model"; this version knows mlp, /,
    );
  });

  it('on close, stops after the current step and disconnects', async () => {
    const a = assignment(1, 'member-1d', {
      config: { ...config, epochs: 40 },
      totalBatches: (assignment(1, 'x').totalBatches / config.epochs) * 40,
    });
    offer(a);
    await expectEventually(() => expect(of('metrics', 'member-1d').length).toBeGreaterThan(0), 30_000);
    await worker.close();
    await worker.finished;
    await expectEventually(() => expect(coordinator.io.of(WORKERS_NAMESPACE).sockets.size).toBe(0));
    expect(of('member:done', 'member-1d')).toHaveLength(0);
    expect(of('member:failed', 'member-1d')).toHaveLength(0);
  });
});
