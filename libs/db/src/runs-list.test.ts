import { beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfig, type RunConfigInput } from '@chorus/protocol';
import { createRepositories, LIVE_ROUND, type EnsembleEvalInput, type Repositories } from './client-only';
import { bestStrategyOf, loadRunsList, pickBest, type EvalRow } from './runs-list';
import { withTestDatabase } from './testing';

/** A strategy's scores with the given accuracy; the other columns fixed. */
const scores = (accuracy: number) => ({
  accuracy,
  nll: 0.3,
  brier: 0.1,
  ece: 0.02,
  gainOverBest: 0.01,
  gainOverMean: 0.02,
});
/** One EnsembleEval row of a 2-member run's test split. */
const evalRow = (runId: string, round: number, strategy: string, accuracy: number): EnsembleEvalInput => ({
  runId,
  round,
  split: 'test',
  strategy,
  ...scores(accuracy),
  memberCount: 2,
});

const result = {
  members: [{ index: 0, valAccuracy: 0.9, testAccuracy: 0.88, samplesPerSecond: 100 }],
  weights: [1],
  ensemble: {
    hard: scores(0.91),
    soft: scores(0.93),
    'weighted-soft': scores(0.93),
    'weighted-hard': scores(0.9),
    geometric: scores(0.92),
  },
  diversity: {
    disagreement: 0.1,
    qStatistic: 0.8,
    correlation: 0.5,
    doubleFault: 0.05,
    kappa: 0.6,
    entropy: 0.1,
    kwVariance: 0.02,
    interraterKappa: 0.6,
  },
};

describe('pickBest / bestStrategyOf', () => {
  it('picks the most accurate strategy; a tie goes to the earlier strategy', () => {
    expect(pickBest([])).toBeNull();
    expect(
      pickBest([
        { strategy: 'geometric', accuracy: 0.8 },
        { strategy: 'weighted-soft', accuracy: 0.8 },
        { strategy: 'hard', accuracy: 0.7 },
        { strategy: 'soft', accuracy: Number.NaN },
      ]),
    ).toEqual({ strategy: 'weighted-soft', accuracy: 0.8 });
  });

  it('prefers the stored result, then the latest complete round, then the live view (test split only)', () => {
    const rows: EvalRow[] = [
      { round: 0, split: 'test', strategy: 'soft', accuracy: 0.5 },
      { round: 1, split: 'test', strategy: 'hard', accuracy: 0.61 },
      { round: 1, split: 'test', strategy: 'soft', accuracy: 0.6 },
      { round: 1, split: 'validation', strategy: 'soft', accuracy: 0.99 },
      { round: LIVE_ROUND, split: 'test', strategy: 'geometric', accuracy: 0.7 },
    ];
    expect(bestStrategyOf(result, rows)).toEqual({
      strategy: 'soft',
      accuracy: 0.93,
      source: 'result',
      round: null,
    });
    expect(bestStrategyOf(null, rows)).toEqual({
      strategy: 'hard',
      accuracy: 0.61,
      source: 'round',
      round: 1,
    });
    // (A stored result that does not parse never gets here: libs/db refuses it when it reads the run.)
    expect(bestStrategyOf(null, rows.slice(4))).toEqual({
      strategy: 'geometric',
      accuracy: 0.7,
      source: 'live',
      round: null,
    });
    expect(bestStrategyOf(null, [])).toBeNull();
  });
});

describe('loadRunsList (real Postgres)', () => {
  const db = withTestDatabase();
  let repos: Repositories;
  beforeAll(() => {
    // A clock one second apart per call, so "newest first" does not depend on timing.
    let t = Date.parse('2026-11-29T12:00:00Z');
    repos = createRepositories(db.prisma, { clock: () => new Date((t += 1000)) });
  });

  const newRun = (name: string, config: RunConfigInput) =>
    repos.runs.create({
      name,
      config: parseRunConfig(config),
      seed: 1,
      datasetName: 'digits',
      numClasses: 10,
      members: [{}, {}],
    });

  it('lists runs newest first with their best strategy and where it came from', async () => {
    const done = await newRun('done', { model: 'mlp', members: 2, epochs: 2, sharding: 'disjoint' });
    await repos.runs.setStatus(done.id, 'running');
    await repos.runs.setStatus(done.id, 'completed', { result });
    const running = await newRun('running', { model: 'lenet5', members: 2 });
    await repos.evals.saveEnsembleEvals([
      evalRow(running.id, 0, 'soft', 0.7),
      evalRow(running.id, 0, 'geometric', 0.72),
      evalRow(running.id, LIVE_ROUND, 'hard', 0.8),
    ]);
    await newRun('fresh', {});

    const list = await loadRunsList(repos);
    const byName = Object.fromEntries(list.map((r) => [r.name, r]));
    expect(list.map((r) => r.name).slice(0, 3)).toEqual(['fresh', 'running', 'done']);
    expect(byName.done).toMatchObject({
      status: 'completed',
      model: 'mlp',
      members: 2,
      sharding: 'disjoint',
      best: { strategy: 'soft', accuracy: 0.93, source: 'result' },
    });
    expect(byName.running?.best).toEqual({
      strategy: 'geometric',
      accuracy: 0.72,
      source: 'round',
      round: 0,
    });
    expect(byName.fresh?.best).toBeNull();
    // A stored config is a validated one: every default is filled in (the default model is mlp).
    expect(byName.fresh?.model).toBe('mlp');
  });
});
