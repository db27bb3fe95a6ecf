import { io } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { bundleSha256, encodeDatasetBundle, loadDataset, planShards, prepareRunData } from '@chorus/data';
import { LIVE_ROUND } from '@chorus/db';
import {
  splitDiversity,
  evaluateEnsemble,
  perClassResult,
  runResultOf,
  STRATEGY_NAMES,
  type StrategyName,
} from '@chorus/ensemble';
import {
  DASHBOARD_NAMESPACE,
  memberModelSpec,
  parseRunConfig,
  SPLITS,
  type Assignment,
  type RunNotification,
  type RunConfigInput,
} from '@chorus/protocol';
import {
  checkpointFor,
  ADMIN_TOKEN,
  bytesOf,
  connectWorker,
  expectEventually,
  httpClient,
  softmaxRows,
  WORKER_TOKEN,
  withCoordinator,
} from './testing/harness';

const fixture = withCoordinator();

const input: RunConfigInput = {
  name: 'tiny synthetic',
  dataset: 'synthetic',
  members: 3,
  epochs: 2,
  batchSize: 64,
  trainLimit: 600,
  validationFraction: 0.2,
  seed: 11,
  memberOverrides: [{ member: 1, dropout: 0.3 }],
};

const toInt32 = (bytes: Uint8Array): Int32Array => new Int32Array(new Uint8Array(bytes).buffer);
const concat = (batches: Int32Array[]): Int32Array => Int32Array.from(batches.flatMap((b) => [...b]));
const json = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

describe('a run trained by a scripted worker', () => {
  it('hands out every member, serves their plans, stores everything once and computes the result', async () => {
    const cfg = parseRunConfig(input);
    const dataset = await loadDataset('synthetic', { seed: cfg.seed });
    const { train, validation, test } = prepareRunData(dataset, cfg);
    const plan = planShards({
      strategy: cfg.sharding,
      numSamples: train.count,
      members: cfg.members,
      batchSize: cfg.batchSize,
      epochs: cfg.epochs,
      seed: cfg.seed,
    });
    const rowsOf = { validation: validation.count, test: test.count };

    // The client checks the status of a success: 201 Created.
    const { id: runId } = await httpClient(fixture.coordinator, ADMIN_TOKEN).createRun({ body: input });

    const dashboard = io(`${fixture.coordinator.url}${DASHBOARD_NAMESPACE}`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    const notifications: RunNotification[] = [];
    dashboard.on('run:changed', (n) => notifications.push(n));
    await new Promise((resolve) => dashboard.once('connect', () => resolve(undefined)));
    expect(await dashboard.emitWithAck('run:join', { runId })).toEqual({ ok: true });

    const worker = await connectWorker(fixture.coordinator);
    const assignments: Assignment[] = [];
    for (let i = 0; i < cfg.members; i++) {
      const answer = await worker.emitWithAck('member:request', {});
      if (!answer.ok || !answer.assignment) throw new Error(`no assignment: ${JSON.stringify(answer)}`);
      assignments.push(answer.assignment);
    }
    expect(await worker.emitWithAck('member:request', {})).toEqual({ ok: true, assignment: null });
    assignments.sort((a, b) => a.memberIndex - b.memberIndex);
    expect(assignments.map((a) => a.memberIndex)).toEqual([0, 1, 2]);

    const bundleSha = bundleSha256(encodeDatasetBundle(dataset));
    for (const a of assignments) {
      expect(a).toMatchObject({
        runId,
        attempt: 1,
        planOffset: 0,
        epoch: 0,
        checkpoint: null,
        config: json(cfg),
      });
      expect(a.model).toEqual(memberModelSpec(cfg, a.memberIndex));
      expect(a.totalBatches).toBe(plan.member(a.memberIndex).totalBatches);
      expect(a.dataset).toMatchObject({
        name: 'synthetic',
        sha256: bundleSha,
        url: `/api/datasets/${bundleSha}`,
      });
    }
    expect(assignments[1]?.model.dropout).toBe(0.3);
    const bundle = await httpClient(fixture.coordinator, WORKER_TOKEN).getDataset({
      params: { sha256: bundleSha },
    });
    expect(bundle.headers.etag).toBe(`"${bundleSha}"`);
    expect(bundle.bytes.byteLength).toBe(assignments[0]!.dataset.bytes);
    expect(bundleSha256(bundle.bytes)).toBe(bundleSha);

    for (const a of assignments) {
      const lease = { memberId: a.memberId, attempt: a.attempt };
      const memberPlan = plan.member(a.memberIndex);
      const whole = await worker.emitWithAck('plan:next', { ...lease, offset: 0, count: a.totalBatches });
      if (!whole.ok) throw new Error(whole.message);
      const expected = memberPlan.batches(0, a.totalBatches);
      expect(whole.chunk.sizes).toEqual(expected.map((b) => b.length));
      expect(toInt32(whole.chunk.indices)).toEqual(concat(expected));
      // Resuming at an offset serves the very same batches.
      const resumed = await worker.emitWithAck('plan:next', { ...lease, offset: 3, count: 2 });
      if (!resumed.ok) throw new Error(resumed.message);
      expect(resumed.chunk.offset).toBe(3);
      expect(toInt32(resumed.chunk.indices)).toEqual(concat(memberPlan.batches(3, 2)));
      expect(toInt32(resumed.chunk.indices)).toEqual(
        toInt32(whole.chunk.indices).slice(
          whole.chunk.sizes.slice(0, 3).reduce((s, n) => s + n, 0),
          whole.chunk.sizes.slice(0, 5).reduce((s, n) => s + n, 0),
        ),
      );

      for (let epoch = 0; epoch < cfg.epochs; epoch++) {
        const first = memberPlan.firstBatchOfEpoch(epoch);
        const per = memberPlan.batchesInEpoch(epoch);
        const points = Array.from({ length: per }, (_, j) => ({
          step: first + j + 1,
          epoch,
          loss: 1 / (first + j + 1),
          accuracy: 0.5,
          samplesPerSecond: 100 + j,
        }));
        for (let repeat = 0; repeat < 2; repeat++) {
          expect(await worker.emitWithAck('metrics', { ...lease, points })).toEqual({ ok: true });
          const weights = checkpointFor(a, (i) => [epoch, a.memberIndex, 42][i % 3] as number);
          expect(
            await worker.emitWithAck('checkpoint', {
              ...lease,
              epoch,
              step: first + per,
              planOffset: first + per,
              weights,
            }),
          ).toEqual({ ok: true });
        }
        for (const split of SPLITS) {
          const probabilities = softmaxRows(
            rowsOf[split],
            dataset.numClasses,
            a.memberIndex * 100 + epoch * 10 + SPLITS.indexOf(split),
          );
          const message = {
            ...lease,
            round: epoch,
            split,
            rows: rowsOf[split],
            numClasses: dataset.numClasses,
            probabilities: bytesOf(probabilities),
          };
          expect(await worker.emitWithAck('predictions', message)).toEqual({ ok: true });
          if (split === 'validation')
            expect(await worker.emitWithAck('predictions', message)).toEqual({ ok: true });
        }
      }
      const done = { ...lease, samples: 1000 + a.memberIndex, seconds: 2 };
      expect(await worker.emitWithAck('member:done', done)).toEqual({ ok: true });
      expect(await worker.emitWithAck('member:done', done)).toEqual({ ok: true });
    }

    await expectEventually(async () =>
      expect((await fixture.repos.runs.get(runId))?.status).toBe('completed'),
    );

    // Every member completed at its plan's end, in its last epoch (0-based), with its full plan length.
    const finished = (await fixture.repos.runs.get(runId))?.members ?? [];
    expect(finished.map((m) => [m.status, m.epoch, m.step === m.totalBatches])).toEqual(
      finished.map(() => ['completed', cfg.epochs - 1, true]),
    );

    // Every row once, whatever was sent twice.
    const prisma = fixture.prisma;
    const inRun = { member: { runId } };
    expect(await prisma.prediction.count({ where: inRun })).toBe(cfg.members * SPLITS.length * cfg.epochs);
    const totalSteps = assignments.reduce((n, a) => n + a.totalBatches, 0);
    expect(await prisma.metricPoint.count({ where: inRun })).toBe(totalSteps);
    expect(await prisma.checkpoint.count({ where: inRun })).toBe(cfg.members * cfg.epochs);
    const rounds = [LIVE_ROUND, ...Array.from({ length: cfg.epochs }, (_, r) => r)];
    expect(await prisma.ensembleEval.count({ where: { runId } })).toBe(
      rounds.length * SPLITS.length * STRATEGY_NAMES.length,
    );
    expect(await prisma.diversityEval.count({ where: { runId } })).toBe(rounds.length * SPLITS.length);
    // GET /api/runs/:id/evaluations answers the stored rows as their views (decoded: Dates, typed JSON).
    const evaluations = await httpClient(fixture.coordinator).getRunEvaluations({ params: { id: runId } });
    expect(evaluations).toEqual({
      ensemble: await fixture.repos.evals.listEnsembleEvals(runId),
      diversity: await fixture.repos.evals.listDiversityEvals(runId),
    });

    // The stored evaluations are what libs/ensemble computes from the stored predictions.
    const evaluationOf = async (round: number) => {
      const v = await fixture.repos.predictions.listRound(runId, 'validation', round);
      const t = await fixture.repos.predictions.listRound(runId, 'test', round);
      expect(v.map((p) => p.memberIndex)).toEqual([0, 1, 2]);
      const members = v.map((p) => p.probabilities);
      return {
        evaluation: evaluateEnsemble({
          numClasses: dataset.numClasses,
          validation: { members, truth: validation.y },
          test: { members: t.map((p) => p.probabilities), truth: test.y },
          seed: cfg.seed,
        }),
        validationDiversity: splitDiversity(members, validation.y, dataset.numClasses),
      };
    };
    const lastRound = cfg.epochs - 1;
    for (const [storedRound, round] of [
      [0, 0],
      [1, 1],
      [LIVE_ROUND, lastRound],
    ] as const) {
      const { evaluation, validationDiversity } = await evaluationOf(round);
      const rows = await fixture.repos.evals.listEnsembleEvals(runId, { round: storedRound });
      expect(rows.map((r) => `${r.split}:${r.strategy}`).sort()).toEqual(
        SPLITS.flatMap((split) => STRATEGY_NAMES.map((s) => `${split}:${s}`)).sort(),
      );
      for (const row of rows) {
        const scores = (row.split === 'test' ? evaluation.strategies : evaluation.validation)[
          row.strategy as StrategyName
        ];
        expect(scores).toBeDefined();
        expect({ ...row }).toMatchObject({ ...scores, memberCount: cfg.members });
      }
      for (const row of await fixture.repos.evals.listDiversityEvals(runId, { round: storedRound })) {
        const { pairwise, mean, ...rest } = row.split === 'test' ? evaluation.diversity : validationDiversity;
        // Plus each member's accuracy on that split, in member order.
        const memberAccuracies = evaluation.members.map((m) =>
          row.split === 'test' ? m.testAccuracy : m.valAccuracy,
        );
        const memberIndices = Array.from({ length: cfg.members }, (_, i) => i);
        expect(row.summary).toEqual(json({ ...mean, ...rest, memberIndices, memberAccuracies }));
        expect(row.pairwise).toEqual(json(pairwise));
      }
    }
    const { evaluation } = await evaluationOf(lastRound);
    const expectedResult = json({
      ...runResultOf(
        evaluation,
        assignments.map((a) => (1000 + a.memberIndex) / 2),
      ),
      // Per class (each strategy's and member's accuracy, the confusion matrices), named by the dataset's classes.
      classes: perClassResult(evaluation, test.y, dataset.numClasses, dataset.classNames),
    });
    expect((await fixture.repos.runs.get(runId))?.result).toEqual(expectedResult);

    const detail = await httpClient(fixture.coordinator).getRun({ params: { id: runId } });
    expect(detail).toMatchObject({
      id: runId,
      status: 'completed',
      result: expectedResult,
      latestRound: { round: lastRound },
    });
    const members = detail.members;
    expect(members.map((m) => [m.status, m.progress, m.valAccuracy])).toEqual(
      evaluation.members.map((m) => ['completed', 1, m.valAccuracy]),
    );
    expect(members.map((m) => m.samplesPerSecond)).toEqual([500, 500.5, 501]);

    // Notifications travel separately from the database writes: wait for the last one.
    await expectEventually(() =>
      expect(notifications.at(-1)).toMatchObject({ kind: 'status', data: { status: 'completed' } }),
    );
    const kinds = new Set(notifications.map((n) => n.kind));
    expect([...kinds].sort()).toEqual(['evaluation', 'member', 'metrics', 'status']);
    worker.close();
    dashboard.close();
  });
});
