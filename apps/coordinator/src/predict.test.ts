import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset, prepareRunData } from '@chorus/data';
import {
  buildModel,
  disposeModel,
  predictEnsembleRows,
  predictProbabilities,
  readEnsembleExport,
  saveCheckpoint,
  selectBackend,
} from '@chorus/models';
import { parseRunConfig, SPLITS, type Assignment } from '@chorus/protocol';
import {
  ADMIN_TOKEN,
  bytesOf,
  claimAssignment,
  connectWorker,
  expectEventually,
  httpClient,
  leaseOf,
  withCoordinator,
} from './testing/harness';

const fixture = withCoordinator();

// Two untrained mlp members on the synthetic dataset (8×8, 4 classes, raw values in [0, 1]): a
// scripted worker sends their real checkpoints and predictions, as `chorus worker` would.
const input = {
  dataset: 'synthetic',
  model: 'mlp',
  members: 2,
  epochs: 1,
  batchSize: 64,
  trainLimit: 256,
  seed: 9,
} as const;
const admin = () => httpClient(fixture.coordinator, ADMIN_TOKEN);
const refusal = (status: number, reason: RegExp) =>
  expect.objectContaining({ status, reason: expect.stringMatching(reason) });

describe('POST /api/runs/:id/predict', () => {
  it("answers for a completed run's members, as chorus serve answers for its export; refuses bad input", async () => {
    await selectBackend('auto');
    const cfg = parseRunConfig(input);
    const dataset = await loadDataset('synthetic', { seed: cfg.seed });
    const { validation, test } = prepareRunData(dataset, cfg);
    const x = { validation: validation.x, test: test.x };
    const { id: runId } = await admin().createRun({ body: input });
    const rows = Array.from({ length: 3 }, (_, r) => Array.from(test.x.subarray(r * 64, (r + 1) * 64)));
    const predict = (body: { rows: number[][] }) => admin().predictRun({ params: { id: runId }, body });

    // Not completed yet: 409.
    await expect(predict({ rows })).rejects.toEqual(
      refusal(409, /is pending: only a completed run's ensemble predicts/),
    );

    const worker = await connectWorker(fixture.coordinator);
    const assignments: Assignment[] = [];
    for (let i = 0; i < cfg.members; i++) assignments.push(await claimAssignment(worker));
    const memberProbs: Float32Array[] = [];
    for (const a of assignments.sort((p, q) => p.memberIndex - q.memberIndex)) {
      const lease = leaseOf(a);
      const model = buildModel({
        ...a.model,
        inputShape: dataset.inputShape,
        numClasses: dataset.numClasses,
      });
      const steps = a.totalBatches;
      const points = Array.from({ length: steps }, (_, j) => ({
        step: j + 1,
        epoch: 0,
        loss: 1,
        accuracy: 0.25,
        samplesPerSecond: 100,
      }));
      expect(await worker.emitWithAck('metrics', { ...lease, points })).toEqual({ ok: true });
      const weights = (await saveCheckpoint(model)) as Uint8Array<ArrayBuffer>;
      expect(
        await worker.emitWithAck('checkpoint', {
          ...lease,
          epoch: 0,
          step: steps,
          planOffset: steps,
          weights,
        }),
      ).toEqual({ ok: true });
      for (const split of SPLITS) {
        const probabilities = await predictProbabilities(model, x[split], dataset.inputShape);
        const message = {
          ...lease,
          round: 0,
          split,
          rows: probabilities.length / dataset.numClasses,
          numClasses: dataset.numClasses,
          probabilities: bytesOf(Float32Array.from(probabilities)),
        };
        expect(await worker.emitWithAck('predictions', message)).toEqual({ ok: true });
      }
      memberProbs.push(await predictProbabilities(model, Float32Array.from(rows.flat()), dataset.inputShape));
      disposeModel(model);
      expect(await worker.emitWithAck('member:done', { ...lease, samples: 256, seconds: 1 })).toEqual({
        ok: true,
      });
    }
    worker.disconnect();
    await expectEventually(async () =>
      expect((await fixture.repos.runs.get(runId))?.status).toBe('completed'),
    );

    const answer = await predict({ rows });
    expect(answer.strategy).toBe('soft');
    expect(answer.classNames).toEqual(['top-left', 'top-right', 'bottom-left', 'bottom-right']);
    // The members' own probabilities, through the stored checkpoints.
    answer.predictions.forEach((row, r) =>
      row.members.forEach((m, i) =>
        m.probabilities.forEach((p, c) => expect(p).toBeCloseTo(memberProbs[i]![r * 4 + c]!, 6)),
      ),
    );
    // Every strategy, the learned combiners too (refitted from the stored validation predictions).
    expect(answer.predictions[0]!.strategies.map((s) => s.strategy)).toEqual([
      'hard',
      'soft',
      'weighted-soft',
      'weighted-hard',
      'geometric',
      'stacking',
      'optimal-weights',
      'selection',
    ]);
    // The export it wrote is what `chorus serve --ensemble` reads: the same answer rows.
    const exported = await readEnsembleExport(join(fixture.dataDir, 'exports', runId));
    expect(exported.manifest.result).toEqual((await fixture.repos.runs.get(runId))?.result);
    expect(await predictEnsembleRows(exported, Float32Array.from(rows.flat()), 3)).toEqual(
      answer.predictions,
    );
    exported.dispose();
    // Loaded once: a second answer is the same.
    expect(await predict({ rows })).toEqual(answer);

    await expect(predict({ rows: [[1, 2, 3]] })).rejects.toEqual(
      refusal(400, /rows\.0: has 3 values; this ensemble takes 64/),
    );
    await expect(predict({ rows: Array.from({ length: 257 }, () => rows[0]!) })).rejects.toEqual(
      refusal(413, /257 rows in one request; at most 256/),
    );
    await expect(
      httpClient(fixture.coordinator, 'not-the-admin-token-0123456789').predictRun({
        params: { id: runId },
        body: { rows },
      }),
    ).rejects.toEqual(refusal(401, /needs a token: .* the admin \(CHORUS_ADMIN_TOKEN\) token/));
    await expect(admin().predictRun({ params: { id: 'no-such-run' }, body: { rows } })).rejects.toEqual(
      refusal(404, /run no-such-run does not exist/),
    );
  });

  it('refuses an empty body (400)', async () => {
    const response = await fetch(`${fixture.coordinator.url}/api/runs/any/predict`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      code: 'invalid-input',
      message: expect.stringContaining('no body'),
    });
  });
});
