import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { withTestDatabase } from '../testing';
import {
  parseRunConfig,
  type PairwiseMatrices,
  type RunResult,
  type StoredDiversitySummary,
} from '@chorus/protocol';
import { LIVE_ROUND, createBytesWriter, createRepositories, type Repositories } from './index';

const db = withTestDatabase();
let repos: Repositories;
beforeAll(() => {
  repos = createRepositories(db.prisma);
});

/** The same M×M matrix for every pairwise measure. */
const matricesOf = (m: number[][]): PairwiseMatrices => ({
  disagreement: m,
  qStatistic: m,
  correlation: m,
  doubleFault: m,
  kappa: m,
});
const summaryOf = (entropy: number): StoredDiversitySummary => ({
  disagreement: 0.1,
  qStatistic: 0.2,
  correlation: 0.3,
  doubleFault: 0.05,
  kappa: 0.4,
  entropy,
  kwVariance: 0.02,
  interraterKappa: 0.5,
  memberIndices: [0, 1],
  memberAccuracies: [0.8, 0.7],
});
const scores = (accuracy: number) => ({
  accuracy,
  nll: 0.5,
  brier: 0.2,
  ece: 0.05,
  gainOverBest: 0,
  gainOverMean: 0,
});
const resultOf = (accuracy: number): RunResult => ({
  members: [{ index: 0, valAccuracy: accuracy, testAccuracy: accuracy, samplesPerSecond: 100 }],
  weights: [1],
  ensemble: {
    hard: scores(accuracy),
    soft: scores(accuracy),
    'weighted-soft': scores(accuracy),
    'weighted-hard': scores(accuracy),
    geometric: scores(accuracy),
  },
  diversity: {
    disagreement: 0.1,
    qStatistic: 0.2,
    correlation: 0.3,
    doubleFault: 0.05,
    kappa: 0.4,
    entropy: 0,
    kwVariance: 0.02,
    interraterKappa: 0.5,
  },
});

async function newRun(members = 2) {
  return repos.runs.create({
    name: 'test run',
    config: parseRunConfig({ dataset: 'digits', members }),
    seed: 7,
    datasetName: 'digits',
    datasetSha256: 'f'.repeat(64),
    numClasses: 3,
    members: Array.from({ length: members }, (_, i) => ({ overrides: { seed: 100 + i } })),
  });
}

describe('runs', () => {
  it('creates a run with its members, pending and indexed', async () => {
    const run = await newRun(3);
    expect(run.status).toBe('pending');
    expect(run.members.map((m) => [m.index, m.status, m.overrides])).toEqual([
      [0, 'pending', { seed: 100 }],
      [1, 'pending', { seed: 101 }],
      [2, 'pending', { seed: 102 }],
    ]);
    expect((await repos.runs.get(run.id))?.members).toHaveLength(3);
    expect((await repos.runs.list({ limit: 500 })).some((r) => r.id === run.id)).toBe(true);
  });

  it('creating the same run id twice stores it once', async () => {
    const id = `run-${randomUUID()}`;
    const input = {
      id,
      name: 'retried',
      config: parseRunConfig({ dataset: 'mnist', members: 2 }),
      seed: 1,
      datasetName: 'mnist',
      numClasses: 10,
      members: [{}, {}],
    };
    const [a, b] = await Promise.all([repos.runs.create(input), repos.runs.create(input)]);
    expect(a.id).toBe(id);
    expect(b.id).toBe(id);
    expect(await db.prisma.member.count({ where: { runId: id } })).toBe(2);
  });

  it('stamps startedAt and finishedAt and refuses to leave a terminal status', async () => {
    const run = await newRun();
    const running = await repos.runs.setStatus(run.id, 'running');
    expect(running?.startedAt).toBeInstanceOf(Date);
    const result = resultOf(0.93);
    const done = await repos.runs.setStatus(run.id, 'completed', { result });
    expect(done).toMatchObject({ status: 'completed', result });
    expect(done?.finishedAt).toBeInstanceOf(Date);
    expect(await repos.runs.setStatus(run.id, 'completed')).not.toBeNull(); // a retried finish is fine
    expect(await repos.runs.setStatus(run.id, 'running')).toBeNull();
    expect(await repos.runs.setStatus(run.id, 'failed', { error: 'late' })).toBeNull();
    expect((await repos.runs.get(run.id))?.status).toBe('completed');
    expect(await repos.runs.setStatus('no-such-run', 'running')).toBeNull();
  });

  it('reads a JSON column back strictly: a stored shape that does not match names the column and field', async () => {
    const run = await newRun(1);
    await db.prisma.run.update({
      where: { id: run.id },
      data: { config: { dataset: 'digits', members: 'two' } },
    });
    await expect(repos.runs.get(run.id)).rejects.toThrow(
      new RegExp(`stored Run.config of run ${run.id} does not match its shape: members: `),
    );
    await db.prisma.member.update({
      where: { id: run.members[0]!.id },
      data: { overrides: { dropout: 'high' } },
    });
    await expect(repos.members.get(run.members[0]!.id)).rejects.toThrow(
      /stored Member.overrides of member 0 of run .* does not match its shape: dropout: /,
    );
    await db.prisma.diversityEval.create({
      data: { runId: run.id, round: 0, split: 'test', pairwise: {}, summary: {}, memberCount: 1 },
    });
    await expect(repos.evals.listDiversityEvals(run.id)).rejects.toThrow(
      /stored DiversityEval.pairwise of run .*, round 0, test does not match its shape: disagreement: /,
    );
  });
});

describe('workers', () => {
  it('registers idempotently on the worker id and tracks liveness', async () => {
    const id = `worker-${randomUUID()}`;
    const registration = { id, name: 'gpu0', host: 'box', backend: 'tensorflow', device: 'GPU 0', slots: 1 };
    await repos.workers.register(registration);
    await repos.workers.register({ ...registration, backend: 'wasm', slots: 2 });
    expect(await db.prisma.worker.count({ where: { id } })).toBe(1);
    expect(await repos.workers.get(id)).toMatchObject({ backend: 'wasm', slots: 2, status: 'online' });
    expect(await repos.workers.touch(id)).toBe(true);
    const silent = await repos.workers.markSilentOffline(new Date(Date.now() + 60_000));
    expect(silent.map((w) => w.id)).toContain(id);
    expect((await repos.workers.get(id))?.status).toBe('offline');
    expect(await repos.workers.touch('unknown-worker')).toBe(false);
  });

  it('a heartbeat marks the worker online and renews the listed leases it holds, in one statement', async () => {
    const id = `hb-${randomUUID()}`;
    await repos.workers.register({ id, name: 'hb', host: 'h', backend: 'cpu', device: 'cpu', slots: 2 });
    await repos.workers.markOffline(id);
    const run = await newRun(2);
    const mine = await repos.members.claimNext({ workerId: id, leaseMs: 1_000, runIds: [run.id] });
    const before = mine!.leaseExpiresAt!.getTime();
    const renewed = await repos.workers.heartbeat(
      id,
      [
        { memberId: mine!.id, attempt: 1 },
        { memberId: mine!.id.replace(/.$/, 'x'), attempt: 1 }, // no such member
        { memberId: run.members[1]!.id, attempt: 0 }, // not leased
      ],
      60_000,
    );
    expect(renewed.map((m) => [m.id, m.attempt, m.status])).toEqual([[mine!.id, 1, 'leased']]);
    expect((await repos.members.get(mine!.id))!.leaseExpiresAt!.getTime()).toBeGreaterThan(before);
    expect((await repos.workers.get(id))?.status).toBe('online');
    expect(await repos.workers.heartbeat(id, [], 60_000)).toEqual([]);
  });
});

describe('idempotent writes', () => {
  it('stores a metric point once however often it is sent', async () => {
    const run = await newRun(1);
    const memberId = run.members[0]!.id;
    const point = { memberId, step: 5, epoch: 0, loss: 1.5, accuracy: 0.4, samplesPerSecond: 900 };
    expect(await repos.metrics.insert([point, { ...point, step: 6 }])).toBe(2);
    expect(await repos.metrics.insert([point, { ...point, step: 6, loss: 99 }, { ...point, step: 7 }])).toBe(
      1,
    );
    const stored = await repos.metrics.listForMember(memberId);
    expect(stored.map((p) => [p.step, p.loss])).toEqual([
      [5, 1.5],
      [6, 1.5],
      [7, 1.5],
    ]);
    expect((await repos.metrics.listForMember(memberId, { afterStep: 5 })).map((p) => p.step)).toEqual([
      6, 7,
    ]);
    expect((await repos.metrics.listForRun(run.id)).map((p) => [p.memberIndex, p.step])).toEqual([
      [0, 5],
      [0, 6],
      [0, 7],
    ]);
  });

  it("thins a run's metric points in the query, evenly by step, keeping first and last", async () => {
    const run = await newRun(3);
    const [a, b] = run.members;
    const point = (memberId: string, step: number) => ({
      memberId,
      step,
      epoch: 0,
      loss: 1 / step,
      accuracy: step / 1000,
      samplesPerSecond: 10,
    });
    await repos.metrics.insert([
      ...Array.from({ length: 1000 }, (_, i) => point(a!.id, i + 1)),
      point(b!.id, 4),
      point(b!.id, 9),
    ]);
    const thin = await repos.metrics.listForRun(run.id, { maxPerMember: 10 });
    // Steps 1…1000 in 9 bins of 999/9 = 111 steps: the first of each (1 + 111k), then the last, 1000.
    expect(thin.filter((p) => p.memberIndex === 0).map((p) => p.step)).toEqual([
      1, 112, 223, 334, 445, 556, 667, 778, 889, 1000,
    ]);
    // Fewer points than the cap: all of them; the third member has none.
    expect(thin.filter((p) => p.memberIndex === 1).map((p) => [p.step, p.loss])).toEqual([
      [4, 0.25],
      [9, 1 / 9],
    ]);
    expect(thin.find((p) => p.step === 112)).toMatchObject({ memberId: a!.id, epoch: 0, accuracy: 0.112 });
    expect((await repos.metrics.listForRun(run.id)).length).toBe(1002);
  });

  it('stores a prediction once per member, split and round; a resend replaces it', async () => {
    const run = await newRun(1);
    const memberId = run.members[0]!.id;
    const key = { memberId, split: 'validation' as const, round: 0 };
    await repos.predictions.save({ ...key, numClasses: 2, probabilities: new Float32Array([0.25, 0.75]) });
    await Promise.all([
      repos.predictions.save({ ...key, numClasses: 2, probabilities: new Float32Array([0.5, 0.5, 1, 0]) }),
      repos.predictions.save({ ...key, numClasses: 2, probabilities: new Float32Array([0.5, 0.5, 1, 0]) }),
    ]);
    expect(await db.prisma.prediction.count({ where: { memberId } })).toBe(1);
    const stored = await repos.predictions.get(key);
    expect(stored).toMatchObject({ rows: 2, numClasses: 2, memberIndex: 0 });
    expect(Array.from(stored!.probabilities)).toEqual([0.5, 0.5, 1, 0]);
  });

  it('stores one evaluation (ensemble and diversity rows) in one statement, replacing a recomputation', async () => {
    const run = await newRun(2);
    const rows = (accuracy: number, entropy: number) => ({
      ensemble: (['validation', 'test'] as const).flatMap((split) =>
        ['hard', 'soft'].map((strategy) => ({
          runId: run.id,
          round: 0,
          split,
          strategy,
          accuracy,
          nll: 0.5,
          brier: 0.2,
          ece: 0.05,
          gainOverBest: -0.01,
          gainOverMean: 0.03,
          memberCount: 2,
        })),
      ),
      diversity: (['validation', 'test'] as const).map((split) => ({
        runId: run.id,
        round: 0,
        split,
        pairwise: matricesOf([
          [0, 0.1],
          [0.1, 0],
        ]),
        summary: summaryOf(entropy),
        memberCount: 2,
      })),
    });
    await repos.evals.saveEvaluation(rows(0.8, 0.1));
    await repos.evals.saveEvaluation(rows(0.9, 0.2));
    const ensemble = await repos.evals.listEnsembleEvals(run.id, { round: 0 });
    expect(ensemble.map((e) => [e.split, e.strategy, e.accuracy, e.gainOverBest])).toEqual([
      ['validation', 'hard', 0.9, -0.01],
      ['validation', 'soft', 0.9, -0.01],
      ['test', 'hard', 0.9, -0.01],
      ['test', 'soft', 0.9, -0.01],
    ]);
    const diversity = await repos.evals.listDiversityEvals(run.id);
    const matrices = matricesOf([
      [0, 0.1],
      [0.1, 0],
    ]);
    expect(diversity.map((d) => [d.split, d.summary, d.pairwise])).toEqual([
      ['validation', summaryOf(0.2), matrices],
      ['test', summaryOf(0.2), matrices],
    ]);
    expect(diversity.every((d) => d.updatedAt.getTime() >= d.createdAt.getTime())).toBe(true);
  });

  it('stores ensemble and diversity evals once per key; a recomputation replaces them', async () => {
    const run = await newRun(2);
    const score = {
      runId: run.id,
      round: LIVE_ROUND,
      split: 'test' as const,
      accuracy: 0.8,
      nll: 0.5,
      brier: 0.2,
      ece: 0.05,
    };
    const evals = ['hard', 'soft', 'weighted-soft'].map((strategy) => ({
      ...score,
      strategy,
      gainOverBest: 0.01,
      gainOverMean: 0.03,
      memberCount: 2,
    }));
    await repos.evals.saveEnsembleEvals(evals);
    await repos.evals.saveEnsembleEvals(evals.map((e) => ({ ...e, accuracy: 0.85 })));
    const stored = await repos.evals.listEnsembleEvals(run.id, { round: LIVE_ROUND });
    expect(stored.map((e) => [e.strategy, e.accuracy])).toEqual([
      ['hard', 0.85],
      ['soft', 0.85],
      ['weighted-soft', 0.85],
    ]);

    const diversity = { runId: run.id, round: 0, split: 'validation' as const, memberCount: 2 };
    await repos.evals.saveDiversityEval({
      ...diversity,
      pairwise: matricesOf([
        [1, 0.2],
        [0.2, 1],
      ]),
      summary: summaryOf(0.1),
    });
    await repos.evals.saveDiversityEval({
      ...diversity,
      pairwise: matricesOf([
        [1, 0.3],
        [0.3, 1],
      ]),
      summary: summaryOf(0.2),
    });
    const div = await repos.evals.listDiversityEvals(run.id);
    expect(div).toHaveLength(1);
    expect(div[0]).toMatchObject({
      pairwise: matricesOf([
        [1, 0.3],
        [0.3, 1],
      ]),
      summary: summaryOf(0.2),
    });
  });

  it('keeps one checkpoint per member and epoch and returns the latest', async () => {
    const run = await newRun(1);
    const memberId = run.members[0]!.id;
    const weights = (n: number) => new Uint8Array(1000).fill(n);
    await repos.checkpoints.save({ memberId, epoch: 0, step: 10, planOffset: 640, weights: weights(1) });
    await repos.checkpoints.save({ memberId, epoch: 1, step: 20, planOffset: 1280, weights: weights(2) });
    await repos.checkpoints.save({
      memberId,
      epoch: 1,
      step: 20,
      planOffset: 1280,
      weights: weights(3),
      weightSpecs: [{ name: 'w', shape: [3] }],
    });
    expect(await db.prisma.checkpoint.count({ where: { memberId } })).toBe(2);
    const latest = await repos.checkpoints.latest(memberId);
    expect(latest).toMatchObject({
      epoch: 1,
      step: 20,
      planOffset: 1280,
      weightSpecs: [{ name: 'w', shape: [3] }],
    });
    expect(latest!.weights!.every((b) => b === 3)).toBe(true);
    expect(await repos.checkpoints.prune(memberId, 1)).toBe(1);
    expect(await db.prisma.checkpoint.count({ where: { memberId } })).toBe(1);
  });

  it('stores a checkpoint as a file or as bytes, never both, and lists the files', async () => {
    const run = await newRun(1);
    const memberId = run.members[0]!.id;
    const sha256 = 'ab'.repeat(32);
    await repos.checkpoints.save({
      memberId,
      epoch: 0,
      step: 1,
      planOffset: 64,
      weights: new Uint8Array([7]),
    });
    await repos.checkpoints.saveFile({
      memberId,
      epoch: 0,
      step: 2,
      planOffset: 128,
      file: 'm/0-a.chck',
      sha256,
      size: 9,
    });
    await repos.checkpoints.saveFile({
      memberId,
      epoch: 1,
      step: 3,
      planOffset: 192,
      file: 'm/1-b.chck',
      sha256,
      size: 9,
    });
    expect(await repos.checkpoints.latest(memberId)).toMatchObject({
      epoch: 1,
      weights: null,
      file: 'm/1-b.chck',
      sha256,
      size: 9,
    });
    expect((await repos.checkpoints.files(memberId)).sort()).toEqual(['m/0-a.chck', 'm/1-b.chck']);
    // The socket path replaces a file by bytes: the row forgets the file.
    await repos.checkpoints.save({
      memberId,
      epoch: 0,
      step: 2,
      planOffset: 128,
      weights: new Uint8Array([8]),
    });
    expect(await repos.checkpoints.files(memberId)).toEqual(['m/1-b.chck']);
    // Neither bytes nor a file: refused by the table's CHECK constraint.
    await expect(
      db.prisma.$executeRawUnsafe(
        `UPDATE "Checkpoint" SET "weights" = NULL WHERE "memberId" = $1 AND "epoch" = 0`,
        memberId,
      ),
    ).rejects.toThrow(/Checkpoint_bytes_or_file/);
  });

  it('replaces a checkpoint in place: createdAt and weightSpecs stay unless given, a view is stored as its bytes', async () => {
    const run = await newRun(1);
    const memberId = run.members[0]!.id;
    await repos.checkpoints.save({
      memberId,
      epoch: 0,
      step: 1,
      planOffset: 64,
      weights: new Uint8Array([1, 2, 3]),
      weightSpecs: [{ name: 'w', shape: [3] }],
    });
    const first = await repos.checkpoints.latest(memberId);
    const backing = new Uint8Array([9, 4, 5, 6, 9]);
    await repos.checkpoints.save({
      memberId,
      epoch: 0,
      step: 2,
      planOffset: 128,
      weights: backing.subarray(1, 4),
    });
    const second = await repos.checkpoints.latest(memberId);
    expect(second).toMatchObject({
      epoch: 0,
      step: 2,
      planOffset: 128,
      weightSpecs: [{ name: 'w', shape: [3] }],
    });
    expect([...second!.weights!]).toEqual([4, 5, 6]);
    expect(second!.createdAt).toEqual(first!.createdAt);
    expect(second!.updatedAt.getTime()).toBeGreaterThanOrEqual(first!.updatedAt.getTime());
    await expect(
      repos.checkpoints.save({
        memberId: 'no-such-member',
        epoch: 0,
        step: 0,
        planOffset: 0,
        weights: backing,
      }),
    ).rejects.toThrow();
  });
});

describe('predictions', () => {
  it('round-trip as Float32Array bit for bit', async () => {
    const run = await newRun(1);
    const memberId = run.members[0]!.id;
    const bits = new Uint32Array(10 * 4096);
    let state = 0x9e3779b9;
    for (let i = 0; i < bits.length; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      bits[i] = state >>> 0;
    }
    // Edge cases up front: -0, the smallest subnormal, the largest float, NaN with a payload, ±Infinity.
    bits.set([0x80000000, 0x00000001, 0x7f7fffff, 0x7fc12345, 0x7f800000, 0xff800000]);
    const probabilities = new Float32Array(bits.buffer);
    await repos.predictions.save({ memberId, split: 'test', round: 3, numClasses: 10, probabilities });
    const stored = await repos.predictions.get({ memberId, split: 'test', round: 3 });
    expect(stored?.rows).toBe(4096);
    expect(
      Buffer.from(new Uint32Array(stored!.probabilities.buffer).buffer).equals(Buffer.from(bits.buffer)),
    ).toBe(true);
  });

  it('lists a round, and each member’s latest round, by member index', async () => {
    const run = await newRun(3);
    const [m0, m1, m2] = run.members;
    const p = (v: number) => new Float32Array([v, 1 - v]);
    await repos.predictions.save({
      memberId: m2!.id,
      split: 'validation',
      round: 0,
      numClasses: 2,
      probabilities: p(0.2),
    });
    await repos.predictions.save({
      memberId: m0!.id,
      split: 'validation',
      round: 0,
      numClasses: 2,
      probabilities: p(0.0),
    });
    await repos.predictions.save({
      memberId: m0!.id,
      split: 'validation',
      round: 1,
      numClasses: 2,
      probabilities: p(0.5),
    });
    await repos.predictions.save({
      memberId: m1!.id,
      split: 'test',
      round: 4,
      numClasses: 2,
      probabilities: p(0.75),
    });
    const round0 = await repos.predictions.listRound(run.id, 'validation', 0);
    expect(round0.map((r) => [r.memberIndex, r.probabilities[0]])).toEqual([
      [0, 0],
      [2, expect.closeTo(0.2, 6)],
    ]);
    const latest = await repos.predictions.listLatest(run.id, 'validation');
    expect(latest.map((r) => [r.memberIndex, r.round])).toEqual([
      [0, 1],
      [2, 0],
    ]);
    expect(await repos.predictions.listLatest(run.id, 'test')).toHaveLength(1);
  });

  it('rejects probabilities that are not whole rows', async () => {
    const run = await newRun(1);
    await expect(
      repos.predictions.save({
        memberId: run.members[0]!.id,
        split: 'test',
        round: 0,
        numClasses: 3,
        probabilities: new Float32Array(4),
      }),
    ).rejects.toThrow(/not rows of 3 classes/);
  });
});

describe('bytes written through a pg pool of their own (createBytesWriter)', () => {
  it('stores the same checkpoint and prediction rows as the Prisma path, timestamps in UTC', async () => {
    const bytes = createBytesWriter(db.connectionString);
    try {
      const viaPool = createRepositories(db.prisma, { bytes });
      const run = await newRun(1);
      const memberId = run.members[0]!.id;
      const before = Date.now();
      const backing = new Uint8Array([7, 1, 2, 3, 7]);
      await viaPool.checkpoints.save({
        memberId,
        epoch: 2,
        step: 5,
        planOffset: 320,
        weights: backing.subarray(1, 4),
        weightSpecs: [{ name: 'w', shape: [3] }],
      });
      await viaPool.checkpoints.save({ memberId, epoch: 2, step: 6, planOffset: 384, weights: backing });
      const checkpoint = await repos.checkpoints.latest(memberId);
      expect(checkpoint).toMatchObject({
        epoch: 2,
        step: 6,
        planOffset: 384,
        weightSpecs: [{ name: 'w', shape: [3] }],
      });
      expect([...checkpoint!.weights!]).toEqual([7, 1, 2, 3, 7]);
      expect(Math.abs(checkpoint!.updatedAt.getTime() - before)).toBeLessThan(60_000);

      const probabilities = new Float32Array([0.25, 0.75, -0, 1]);
      await viaPool.predictions.save({
        memberId,
        split: 'validation',
        round: 0,
        numClasses: 2,
        probabilities,
      });
      const stored = await repos.predictions.get({ memberId, split: 'validation', round: 0 });
      expect(stored).toMatchObject({ rows: 2, numClasses: 2, memberIndex: 0 });
      expect(Object.is(stored!.probabilities[2], -0)).toBe(true);
      expect([...stored!.probabilities]).toEqual([...probabilities]);
      expect(Math.abs(stored!.updatedAt.getTime() - before)).toBeLessThan(60_000);
    } finally {
      await bytes.close();
    }
  });
});
