import { expect } from 'vitest';
import { loadDataset, prepareRunData } from '@chorus/data';
import { createRepositories, type PrismaClient } from '@chorus/db';
import { argmaxLabels, evaluateEnsemble, perClassResult, runResultOf } from '@chorus/ensemble';
import { parseRunConfig, RunResultSchema, type RunResult } from '@chorus/protocol';
import type { RunView } from './cluster';

/**
 * Checks a completed run against what is stored: every member completed, every (member, split,
 * round) prediction present once, metric points that follow the members' plans, and a result
 * equal to what libs/ensemble computes from the stored predictions of the final round.
 */
export async function verifyCompletedRun(prisma: PrismaClient, run: RunView): Promise<RunResult> {
  expect(run.status, run.error ?? undefined).toBe('completed');
  const config = parseRunConfig(run.config);
  const members = await prisma.member.findMany({ where: { runId: run.id }, orderBy: { index: 'asc' } });
  expect(members.map((m) => m.index)).toEqual([...Array(config.members).keys()]);
  expect(members.map((m) => m.status)).toEqual(members.map(() => 'completed'));

  // Predictions: one per (member, split, round) for every round 0 … epochs-1, nothing else.
  const predictions = await prisma.prediction.findMany({
    where: { member: { runId: run.id } },
    select: { memberId: true, split: true, round: true, rows: true, numClasses: true },
  });
  const expectedKeys = members.flatMap((m) =>
    (['validation', 'test'] as const).flatMap((split) =>
      [...Array(config.epochs).keys()].map((round) => `${m.index}/${split}/${round}`),
    ),
  );
  const indexOf = new Map(members.map((m) => [m.id, m.index]));
  const keys = predictions.map((p) => `${indexOf.get(p.memberId)}/${p.split}/${p.round}`);
  expect(keys.length).toBe(new Set(keys).size);
  expect(keys.sort()).toEqual(expectedKeys.sort());

  // Metric points: one per (member, step) — the key — covering each member's whole plan, each
  // point's epoch the one its step belongs to (a resumed member numbers its steps on from its
  // checkpoint, not from 0).
  const duplicates = await prisma.metricPoint.groupBy({
    by: ['memberId', 'step'],
    where: { member: { runId: run.id } },
    _count: { _all: true },
    having: { step: { _count: { gt: 1 } } },
  });
  expect(duplicates).toEqual([]);
  for (const member of members) {
    const view = run.members.find((m) => m.index === member.index);
    const totalBatches = view?.totalBatches ?? NaN;
    expect(totalBatches % config.epochs).toBe(0);
    const perEpoch = totalBatches / config.epochs;
    const points = await prisma.metricPoint.findMany({
      where: { memberId: member.id },
      select: { step: true, epoch: true },
      orderBy: { step: 'asc' },
    });
    expect(points.length, `metric points of member ${member.index}`).toBeGreaterThan(0);
    expect(points.at(-1)?.step, `last metric step of member ${member.index}`).toBe(totalBatches);
    const misplaced = points.filter(
      (p) => p.step < 1 || p.step > totalBatches || p.epoch !== Math.floor((p.step - 1) / perEpoch),
    );
    expect(misplaced, `metric points of member ${member.index} outside their epoch`).toEqual([]);
    expect(new Set(points.map((p) => p.epoch)).size).toBe(config.epochs);
    expect(member.step).toBe(totalBatches);
  }

  // The result, recomputed from the stored predictions of the final round with the truth of the
  // run's validation and test splits derived again from the dataset and config.
  const result = RunResultSchema.parse(run.result);
  const dataset = await loadDataset(config.dataset, { seed: config.seed });
  const { validation, test } = prepareRunData(dataset, config);
  const repos = createRepositories(prisma);
  const finalRound = config.epochs - 1;
  const [valPreds, testPreds] = await Promise.all([
    repos.predictions.listRound(run.id, 'validation', finalRound),
    repos.predictions.listRound(run.id, 'test', finalRound),
  ]);
  expect(valPreds.map((p) => p.memberIndex)).toEqual(members.map((m) => m.index));
  expect(testPreds.map((p) => p.memberIndex)).toEqual(members.map((m) => m.index));
  const evaluation = evaluateEnsemble({
    numClasses: dataset.numClasses,
    validation: { members: valPreds.map((p) => p.probabilities), truth: validation.y },
    test: { members: testPreds.map((p) => p.probabilities), truth: test.y },
    seed: config.seed,
  });
  const expected = {
    ...runResultOf(
      evaluation,
      members.map((m) => m.samplesPerSecond ?? NaN),
    ),
    classes: perClassResult(evaluation, test.y, dataset.numClasses, dataset.classNames),
  };
  expectClose(result, expected, 1e-9);

  // An oracle independent of libs/ensemble for the headline numbers: argmax accuracies of each
  // member and of the plain average of the members' probabilities.
  const accuracy = (probs: Float32Array, truth: Int32Array) => {
    const labels = argmaxOf(probs, dataset.numClasses);
    return labels.filter((label, i) => label === truth[i]).length / truth.length;
  };
  for (const [i, p] of testPreds.entries()) {
    expect(result.members[i]?.testAccuracy).toBeCloseTo(accuracy(p.probabilities, test.y), 12);
    expect(result.members[i]?.valAccuracy).toBeCloseTo(
      accuracy(valPreds[i]?.probabilities ?? new Float32Array(), validation.y),
      12,
    );
  }
  const mean = new Float32Array(testPreds[0]?.probabilities.length ?? 0);
  for (let k = 0; k < mean.length; k++) {
    let sum = 0;
    for (const p of testPreds) sum += p.probabilities[k] as number;
    mean[k] = sum / testPreds.length;
  }
  expect(result.ensemble.soft.accuracy).toBeCloseTo(accuracy(mean, test.y), 12);
  // …and for each class, the share of its rows the average labels right.
  const meanLabels = argmaxOf(mean, dataset.numClasses);
  result.classes?.testCount.forEach((count, c) => {
    const rows = [...test.y.keys()].filter((i) => test.y[i] === c);
    expect(count).toBe(rows.length);
    const right = rows.filter((i) => meanLabels[i] === c).length;
    expect(result.classes?.softVoteAccuracy[c]).toBeCloseTo(rows.length > 0 ? right / rows.length : 0, 12);
    // The soft vote's confusion row of class c counts where its rows went; each member's accuracy on them.
    const went = new Array<number>(dataset.numClasses).fill(0);
    for (const i of rows) went[meanLabels[i] as number] = (went[meanLabels[i] as number] as number) + 1;
    expect(result.classes?.confusion?.soft?.[c]).toEqual(went);
    testPreds.forEach((p, m) => {
      const labels = argmaxOf(p.probabilities, dataset.numClasses);
      const own = rows.filter((i) => labels[i] === c).length;
      expect(result.classes?.memberAccuracy?.[m]?.[c]).toBeCloseTo(
        rows.length > 0 ? own / rows.length : 0,
        12,
      );
    });
  });
  // argmaxLabels is libs/ensemble's own; the oracle above must agree with it on the members.
  expect(argmaxLabels(testPreds[0]?.probabilities ?? new Float32Array(), dataset.numClasses)).toEqual(
    argmaxOf(testPreds[0]?.probabilities ?? new Float32Array(), dataset.numClasses),
  );
  return result;
}

function argmaxOf(probs: Float32Array, numClasses: number): Int32Array {
  const rows = probs.length / numClasses;
  const labels = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < numClasses; c++) {
      if ((probs[r * numClasses + c] as number) > (probs[r * numClasses + best] as number)) best = c;
    }
    labels[r] = best;
  }
  return labels;
}

/** Deep equality with numbers compared within `tolerance` (absolute). */
export function expectClose(actual: unknown, expected: unknown, tolerance: number, path = 'result'): void {
  if (typeof expected === 'number') {
    expect(typeof actual, `${path} is a number`).toBe('number');
    const a = actual as number;
    if (Number.isNaN(expected)) expect(a, path).toBeNaN();
    else expect(Math.abs(a - expected), `${path}: ${a} vs ${expected}`).toBeLessThanOrEqual(tolerance);
    return;
  }
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual), `${path} is an array`).toBe(true);
    expect((actual as unknown[]).length, `${path}.length`).toBe(expected.length);
    expected.forEach((e, i) => expectClose((actual as unknown[])[i], e, tolerance, `${path}[${i}]`));
    return;
  }
  if (expected !== null && typeof expected === 'object') {
    expect(actual !== null && typeof actual === 'object', `${path} is an object`).toBe(true);
    const a = actual as Record<string, unknown>;
    const e = expected as Record<string, unknown>;
    expect(Object.keys(a).sort(), `${path} keys`).toEqual(Object.keys(e).sort());
    for (const key of Object.keys(e)) expectClose(a[key], e[key], tolerance, `${path}.${key}`);
    return;
  }
  expect(actual, path).toEqual(expected);
}
