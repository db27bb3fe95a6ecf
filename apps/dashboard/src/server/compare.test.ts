import { beforeAll, describe, expect, it } from 'vitest';
import { createRepositories, LIVE_ROUND, type Repositories } from '@chorus/db/client';
import { withTestDatabase } from '@chorus/db/testing';
import { compareTable, configDiff } from '../lib/compare';
import { loadCompare, loadCompareChoices } from './compare';
import { evalRow, scores } from './test-fixtures';
import { parseRunConfig } from '@chorus/protocol';

const diversity = {
  disagreement: 0.12,
  qStatistic: 0.7,
  correlation: 0.4,
  doubleFault: 0.05,
  kappa: 0.6,
  entropy: 0.15,
  kwVariance: 0.03,
  interraterKappa: 0.55,
};

describe('loadCompare (real Postgres)', () => {
  const db = withTestDatabase();
  let repos: Repositories;
  beforeAll(() => {
    let t = Date.parse('2026-11-29T12:00:00Z');
    repos = createRepositories(db.prisma, { clock: () => new Date((t += 1000)) });
  });

  it('loads each run’s config, final table, rounds, member curves and diversity', async () => {
    const done = await repos.runs.create({
      name: 'done',
      config: parseRunConfig({ dataset: 'digits', members: 2, epochs: 1 }),
      seed: 1,
      datasetName: 'digits',
      numClasses: 10,
      members: [{ totalBatches: 2 }, { totalBatches: 2 }],
    });
    await repos.evals.saveEnsembleEvals([
      evalRow(done.id, 0, 'soft', 0.9),
      evalRow(done.id, 0, 'hard', 0.88),
    ]);
    await repos.runs.setStatus(done.id, 'running');
    await repos.runs.setStatus(done.id, 'completed', {
      result: {
        members: [
          { index: 0, valAccuracy: 0.85, testAccuracy: 0.86, samplesPerSecond: 10 },
          { index: 1, valAccuracy: 0.8, testAccuracy: 0.82, samplesPerSecond: 10 },
        ],
        weights: [0.5, 0.5],
        ensemble: {
          hard: scores(0.88),
          soft: scores(0.9, 0.25),
          'weighted-soft': scores(0.9),
          'weighted-hard': scores(0.87),
          geometric: scores(0.89),
        },
        diversity,
      },
    });

    const running = await repos.runs.create({
      name: 'running',
      config: parseRunConfig({ dataset: 'digits', members: 2, epochs: 1, sharding: 'disjoint' }),
      seed: 1,
      datasetName: 'digits',
      numClasses: 10,
      members: [{ totalBatches: 2 }, { totalBatches: 2 }],
    });
    await repos.evals.saveEnsembleEvals([
      evalRow(running.id, 0, 'soft', 0.93),
      evalRow(running.id, LIVE_ROUND, 'soft', 0.95),
    ]);
    const members = await repos.members.listByRun(running.id);
    await repos.members.setAccuracies([
      { memberId: members[0]!.id, testAccuracy: 0.7 },
      { memberId: members[1]!.id, testAccuracy: 0.8 },
    ]);
    await repos.metrics.insert([
      { memberId: members[0]!.id, step: 1, epoch: 0, loss: 2, accuracy: 0.2, samplesPerSecond: 5 },
      { memberId: members[0]!.id, step: 2, epoch: 0, loss: 1, accuracy: 0.4, samplesPerSecond: 5 },
      { memberId: members[1]!.id, step: 1, epoch: 0, loss: 1.5, accuracy: 0.3, samplesPerSecond: 5 },
    ]);

    const data = await loadCompare(repos, [running.id, 'no-such-run', done.id]);
    expect(data.missing).toEqual(['no-such-run']);
    expect(data.runs.map((r) => r.name)).toEqual(['running', 'done']);
    const [r, d] = data.runs;

    expect(d?.table?.source).toBe('result');
    expect(d?.diversity).toEqual(diversity);
    expect(d?.curves).toBeNull();
    expect(d?.rounds).toEqual([
      { round: 0, strategy: 'hard', accuracy: 0.88 },
      { round: 0, strategy: 'soft', accuracy: 0.9 },
    ]);

    expect(r?.table).toMatchObject({ source: 'round', round: 0 });
    expect(r?.rounds).toEqual([{ round: 0, strategy: 'soft', accuracy: 0.93 }]);
    expect(r?.curves?.best?.index).toBe(1);
    expect(r?.curves?.epochs).toBe(1);
    expect(r?.curves?.mean.accuracy.length).toBeGreaterThan(0);

    // The page's derived views: configs differ only in sharding; soft is compared across both runs.
    expect(configDiff([r!.config, d!.config]).differing).toEqual([
      { key: 'sharding', values: ['disjoint', 'round-robin'] },
    ]);
    const soft = compareTable([
      { id: r!.id, table: r!.table },
      { id: d!.id, table: d!.table },
    ]).find((g) => g.strategy === 'soft');
    expect(soft?.rows.map((row) => [row.cells.accuracy.value, row.cells.accuracy.best])).toEqual([
      [0.93, true],
      [0.9, false],
    ]);
    expect(soft?.rows.map((row) => row.cells.nll.best)).toEqual([false, true]);

    const choices = await loadCompareChoices(repos);
    expect(choices.slice(0, 2).map((c) => c.name)).toEqual(['running', 'done']);
  });
});
