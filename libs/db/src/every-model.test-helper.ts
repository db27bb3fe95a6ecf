import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { Prisma, PrismaClient } from './client';

/**
 * Creates one row of every model of schema.prisma through the generated client and reads it back
 * field by field. Returns the model names it covered, so a test can check they are all of them.
 */
export async function exerciseEveryModel(prisma: PrismaClient): Promise<Prisma.ModelName[]> {
  const covered: Prisma.ModelName[] = [];
  const at = new Date('2026-01-02T03:04:05.678Z');

  const worker = await prisma.worker.create({
    data: {
      id: `w-${randomUUID()}`,
      name: 'gpu0',
      host: 'box-1',
      backend: 'wasm',
      device: 'cpu',
      slots: 2,
      secretHash: 'cd'.repeat(32),
      lastSeenAt: at,
    },
  });
  expect(await prisma.worker.findUniqueOrThrow({ where: { id: worker.id } })).toMatchObject({
    name: 'gpu0',
    host: 'box-1',
    backend: 'wasm',
    device: 'cpu',
    slots: 2,
    secretHash: 'cd'.repeat(32),
    status: 'online',
    lastSeenAt: at,
  });
  covered.push('Worker');

  const config = { dataset: 'digits', members: 1, nested: { lr: 0.001, tags: ['a', 'b'] } };
  const run = await prisma.run.create({
    data: {
      name: 'every model',
      config,
      seed: 2 ** 31 - 1,
      datasetName: 'digits',
      datasetSha256: 'ab'.repeat(32),
      numClasses: 10,
      result: { table: [1, 2.5, null] },
      startedAt: at,
    },
  });
  expect(await prisma.run.findUniqueOrThrow({ where: { id: run.id } })).toMatchObject({
    name: 'every model',
    config,
    status: 'pending',
    seed: 2 ** 31 - 1,
    datasetSha256: 'ab'.repeat(32),
    numClasses: 10,
    error: null,
    result: { table: [1, 2.5, null] },
    startedAt: at,
    finishedAt: null,
  });
  covered.push('Run');

  const member = await prisma.member.create({
    data: {
      runId: run.id,
      index: 0,
      overrides: { dropout: 0.5 },
      status: 'leased',
      workerId: worker.id,
      leaseExpiresAt: at,
      attempt: 1,
      handoverAskedAt: at,
      handovers: 1,
      checkpointFailures: 2,
      valAccuracy: 0.875,
    },
  });
  expect(
    await prisma.member.findUniqueOrThrow({
      where: { runId_index: { runId: run.id, index: 0 } },
      include: { worker: true },
    }),
  ).toMatchObject({
    overrides: { dropout: 0.5 },
    status: 'leased',
    leaseExpiresAt: at,
    attempt: 1,
    handoverAskedAt: at,
    handovers: 1,
    checkpointFailures: 2,
    step: 0,
    planOffset: 0,
    valAccuracy: 0.875,
    testAccuracy: null,
    worker: { id: worker.id },
  });
  covered.push('Member');

  await prisma.metricPoint.create({
    data: { memberId: member.id, step: 10, epoch: 1, loss: 0.25, accuracy: 0.9, samplesPerSecond: 1234.5 },
  });
  expect(
    await prisma.metricPoint.findUniqueOrThrow({
      where: { memberId_step: { memberId: member.id, step: 10 } },
    }),
  ).toMatchObject({ epoch: 1, loss: 0.25, accuracy: 0.9, samplesPerSecond: 1234.5 });
  covered.push('MetricPoint');

  const probabilities = new Uint8Array([0, 0, 128, 63, 0, 0, 0, 0]); // [1, 0] as float32 LE
  await prisma.prediction.create({
    data: { memberId: member.id, split: 'validation', round: 0, probabilities, rows: 1, numClasses: 2 },
  });
  const prediction = await prisma.prediction.findUniqueOrThrow({
    where: { memberId_split_round: { memberId: member.id, split: 'validation', round: 0 } },
  });
  expect(Array.from(prediction.probabilities)).toEqual(Array.from(probabilities));
  expect(prediction).toMatchObject({ rows: 1, numClasses: 2 });
  covered.push('Prediction');

  await prisma.ensembleEval.create({
    data: {
      runId: run.id,
      round: -1,
      split: 'test',
      strategy: 'weighted-soft',
      accuracy: 0.9,
      nll: 0.3,
      brier: 0.15,
      ece: 0.02,
      gainOverBest: 0.01,
      gainOverMean: -0.005,
      memberCount: 1,
    },
  });
  expect(
    await prisma.ensembleEval.findUniqueOrThrow({
      where: {
        runId_round_split_strategy: { runId: run.id, round: -1, split: 'test', strategy: 'weighted-soft' },
      },
    }),
  ).toMatchObject({
    accuracy: 0.9,
    nll: 0.3,
    brier: 0.15,
    ece: 0.02,
    gainOverBest: 0.01,
    gainOverMean: -0.005,
  });
  covered.push('EnsembleEval');

  const pairwise = {
    disagreement: [
      [0, 0.1],
      [0.1, 0],
    ],
  };
  await prisma.diversityEval.create({
    data: {
      runId: run.id,
      round: 0,
      split: 'validation',
      pairwise,
      summary: { entropy: 0.2 },
      memberCount: 2,
    },
  });
  expect(
    await prisma.diversityEval.findUniqueOrThrow({
      where: { runId_round_split: { runId: run.id, round: 0, split: 'validation' } },
    }),
  ).toMatchObject({ pairwise, summary: { entropy: 0.2 }, memberCount: 2 });
  covered.push('DiversityEval');

  const weights = new Uint8Array(4096).map((_, i) => (i * 7) & 0xff);
  await prisma.checkpoint.create({
    data: {
      memberId: member.id,
      epoch: 1,
      step: 10,
      planOffset: 640,
      weights,
      weightSpecs: [{ name: 'd/kernel', shape: [32, 32] }],
    },
  });
  const checkpoint = await prisma.checkpoint.findUniqueOrThrow({
    where: { memberId_epoch: { memberId: member.id, epoch: 1 } },
  });
  expect(Buffer.from(checkpoint.weights!).equals(Buffer.from(weights))).toBe(true);
  expect(checkpoint).toMatchObject({
    step: 10,
    planOffset: 640,
    weightSpecs: [{ name: 'd/kernel', shape: [32, 32] }],
  });
  covered.push('Checkpoint');

  // Deleting the run cascades to everything under it; the worker stays.
  await prisma.run.delete({ where: { id: run.id } });
  expect(await prisma.member.count({ where: { runId: run.id } })).toBe(0);
  expect(await prisma.checkpoint.count({ where: { memberId: member.id } })).toBe(0);
  expect(await prisma.worker.count({ where: { id: worker.id } })).toBe(1);
  return covered;
}
