import { beforeAll, describe, expect, it } from 'vitest';
import { createRepositories, type Repositories, type StoredPrediction } from '@chorus/db';
import { withTestDatabase } from '@chorus/db/testing';
import { createPredictionCache } from './prediction-cache';
import { latestPredictionPairs } from './prediction-pairs';
import { parseRunConfig } from '@chorus/protocol';

const db = withTestDatabase();
let repos: Repositories;
beforeAll(() => {
  repos = createRepositories(db.prisma);
});

async function newRun(members: number) {
  return repos.runs.create({
    name: 'prediction cache',
    config: parseRunConfig({ dataset: 'synthetic', members }),
    seed: 1,
    datasetName: 'synthetic',
    numClasses: 2,
    members: Array.from({ length: members }, () => ({})),
  });
}

/** Stores a prediction as the gather service does: the database, then the cache. */
async function store(
  cache: ReturnType<typeof createPredictionCache>,
  runId: string,
  member: { id: string; index: number },
  split: 'validation' | 'test',
  round: number,
  p: number,
): Promise<void> {
  const probabilities = Float32Array.from([p, 1 - p, 1 - p, p]);
  await repos.predictions.save({ memberId: member.id, split, round, probabilities, numClasses: 2 });
  cache.saved(runId, {
    memberId: member.id,
    memberIndex: member.index,
    split,
    round,
    rows: 2,
    numClasses: 2,
    probabilities,
    updatedAt: new Date(),
  });
}

const view = (list: StoredPrediction[]) => list.map((p) => [p.memberIndex, p.round, p.probabilities[0]]);

describe('the prediction cache', () => {
  it('answers as the database does, through saves, with or without what it cached', async () => {
    const run = await newRun(2);
    const [a, b] = run.members as [(typeof run.members)[0], (typeof run.members)[0]];
    const cache = createPredictionCache(repos);
    // Stored before the cache knew the run (a coordinator restart): read from the database.
    await repos.predictions.save({
      memberId: a.id,
      split: 'test',
      round: 0,
      probabilities: Float32Array.from([0.25, 0.75, 0.75, 0.25]),
      numClasses: 2,
    });
    const same = async () => {
      const fresh = createPredictionCache(repos); // as after a restart
      for (const split of ['validation', 'test'] as const) {
        const truth = view(await repos.predictions.listLatest(run.id, split));
        expect(view(await cache.listLatest(run.id, split))).toEqual(truth);
        expect(view(await fresh.listLatest(run.id, split))).toEqual(truth);
        for (const round of [0, 1, 2]) {
          const roundTruth = view(await repos.predictions.listRound(run.id, split, round));
          expect(view(await cache.listRound(run.id, split, round))).toEqual(roundTruth);
          for (const member of [a, b]) {
            const one = await repos.predictions.get({ memberId: member.id, split, round });
            const cached = await cache.get(run.id, { memberId: member.id, split, round });
            expect(cached && view([cached])).toEqual(one && view([one]));
          }
        }
      }
    };
    await same(); // caches the answers
    await store(cache, run.id, a, 'test', 1, 0.5);
    await store(cache, run.id, b, 'validation', 0, 0.125);
    await store(cache, run.id, a, 'test', 0, 0.375); // a lower round re-sent: the latest stays round 1
    await same();
    await store(cache, run.id, b, 'test', 2, 0.625);
    await store(cache, run.id, b, 'test', 2, 0.875); // re-sent: replaced
    await same();
    expect(cache.version(run.id)).toBe(5);
    cache.forget(run.id);
    await same();
  });

  it('does not keep an answer read while a save of the run happened', async () => {
    const run = await newRun(1);
    const member = run.members[0]!;
    const cache = createPredictionCache(repos);
    const reading = cache.listLatest(run.id, 'test'); // started before the save below
    await store(cache, run.id, member, 'test', 0, 0.5);
    await reading;
    // Whatever the racing read saw, the next answer includes the save.
    expect(view(await cache.listLatest(run.id, 'test'))).toEqual([[0, 0, 0.5]]);
  });

  it('keeps at most maxRuns runs and maxRounds rounds, reading the rest from the database', async () => {
    const runs = await Promise.all([newRun(1), newRun(1)]);
    const cache = createPredictionCache(repos, { maxRuns: 1, maxRounds: 1 });
    for (const run of runs) {
      await store(cache, run.id, run.members[0]!, 'test', 0, 0.5);
      await store(cache, run.id, run.members[0]!, 'test', 1, 0.25);
    }
    for (const run of runs) {
      for (const round of [0, 1]) {
        expect(view(await cache.listRound(run.id, 'test', round))).toEqual([
          [0, round, round === 0 ? 0.5 : 0.25],
        ]);
      }
      expect(view(await cache.listLatest(run.id, 'test'))).toEqual([[0, 1, 0.25]]);
    }
  });
});

describe('latestPredictionPairs', () => {
  it("pairs each member's latest round stored for both splits, alike from the database and the cache", async () => {
    const run = await newRun(4);
    const [a, b, c, d] = run.members as [
      (typeof run.members)[0],
      (typeof run.members)[0],
      (typeof run.members)[0],
      (typeof run.members)[0],
    ];
    const cache = createPredictionCache(repos);
    // d: both splits of round 1. b: validation at round 2, test at round 1 (round 1's validation kept).
    // a: test at round 1 but validation at round 0 only, whose test is stored too. c: validation only.
    await store(cache, run.id, d, 'validation', 1, 0.5);
    await store(cache, run.id, d, 'test', 1, 0.5);
    await store(cache, run.id, b, 'validation', 1, 0.25);
    await store(cache, run.id, b, 'validation', 2, 0.75);
    await store(cache, run.id, b, 'test', 1, 0.125);
    await store(cache, run.id, a, 'validation', 0, 0.375);
    await store(cache, run.id, a, 'test', 0, 0.625);
    await store(cache, run.id, a, 'test', 1, 0.875);
    await store(cache, run.id, c, 'validation', 0, 0.5);
    const pairs = (list: Awaited<ReturnType<typeof latestPredictionPairs>>) =>
      list.map((p) => [
        p.memberIndex,
        p.round,
        p.validation.round,
        p.test.round,
        p.validation.probabilities[0],
        p.test.probabilities[0],
      ]);
    const expected = [
      [0, 0, 0, 0, 0.375, 0.625],
      [1, 1, 1, 1, 0.25, 0.125],
      [3, 1, 1, 1, 0.5, 0.5],
    ];
    const fromDatabase = await latestPredictionPairs({
      listLatest: (split) => repos.predictions.listLatest(run.id, split),
      get: (key) => repos.predictions.get(key),
    });
    expect(pairs(fromDatabase)).toEqual(expected);
    const fromCache = await latestPredictionPairs({
      listLatest: (split) => cache.listLatest(run.id, split),
      get: (key) => cache.get(run.id, key),
    });
    expect(pairs(fromCache)).toEqual(expected);
  });
});
