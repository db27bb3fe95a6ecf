import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveRunData } from '@chorus/coordinator';
import { bundleSha256, encodeDatasetBundle, loadRunDataset, type Split } from '@chorus/data';
import {
  ACTIVATIONS,
  MODEL_NAMES,
  OPTIMIZERS,
  packPlanChunk,
  parseRunConfig,
  SHARDING_STRATEGIES,
  type RunConfig,
} from '@chorus/protocol';
import { DatasetCache, RunDataProvider, unpackChunk } from '@chorus/worker';
import { deriveLocalRun } from './local-train';

/**
 * The guarantee a distributed run rests on: `chorus train`, the coordinator and a worker derive the
 * same splits, shard plan and member specs from a run config. Each is reached through the code its
 * process runs: the CLI's deriveLocalRun, the coordinator's deriveRunData (labels only) and the
 * plan chunks it packs, the worker's RunDataProvider (a bundle built from the dataset, hashed,
 * decoded) and its unpackChunk.
 */

let cacheDir: string;
beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'chorus-derive-'));
});
afterAll(() => rm(cacheDir, { recursive: true, force: true }));

/** Run configs on the synthetic dataset (2,000 train, 500 test rows) with every setting varied. */
const configArb = fc
  .record({
    members: fc.integer({ min: 1, max: 6 }),
    sharding: fc.constantFrom(...SHARDING_STRATEGIES),
    epochs: fc.integer({ min: 1, max: 3 }),
    batchSize: fc.integer({ min: 1, max: 600 }),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    trainLimit: fc.option(fc.integer({ min: 1, max: 2500 }), { nil: undefined }),
    validationFraction: fc.double({ min: 0.01, max: 0.5, noNaN: true }),
    model: fc.constantFrom(...MODEL_NAMES),
    optimizer: fc.option(fc.constantFrom(...OPTIMIZERS), { nil: undefined }),
    learningRate: fc.option(fc.double({ min: 1e-4, max: 1, noNaN: true }), { nil: undefined }),
    override: fc.option(
      fc.record({
        member: fc.nat(),
        seed: fc.option(fc.nat(), { nil: undefined }),
        activation: fc.option(fc.constantFrom(...ACTIVATIONS), { nil: undefined }),
        dropout: fc.option(fc.double({ min: 0, max: 0.9, noNaN: true }), { nil: undefined }),
        width: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
      }),
      { nil: undefined },
    ),
  })
  .map(({ override, ...rest }): RunConfig => {
    const defined = <T extends object>(o: T) =>
      Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
    return parseRunConfig({
      dataset: 'synthetic',
      ...defined(rest),
      memberOverrides: override ? [defined({ ...override, member: override.member % rest.members })] : [],
    });
  });

const rows = (s: Split) => ({ x: [...s.x], y: [...s.y], count: s.count });

/** What one process derived, or the message it refused the config with. */
async function outcome<T>(derive: () => Promise<T> | T): Promise<{ ok: T } | { error: string }> {
  try {
    return { ok: await derive() };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

describe('deriveRun in every process', () => {
  it('gives `chorus train`, the coordinator and a worker the same splits, plan and members', async () => {
    await fc.assert(
      fc.asyncProperty(configArb, async (config) => {
        const cli = await outcome(() => deriveLocalRun(config));
        // The coordinator: the dataset it stores as a bundle, derived from its labels.
        const dataset = await loadRunDataset(config);
        const bundle = encodeDatasetBundle(dataset);
        const coordinator = await outcome(() => deriveRunData(config, dataset));
        // A worker: the bundle by its hash (built from its own copy of the dataset), then its splits.
        const worker = await outcome(() =>
          new RunDataProvider(
            new DatasetCache({
              cacheDir,
              coordinatorUrl: 'http://127.0.0.1:9',
              token: 'unused',
              logger: pino({ level: 'silent' }),
            }),
          ).get({
            config,
            dataset: {
              name: 'synthetic',
              sha256: bundleSha256(bundle),
              url: '/unused',
              bytes: bundle.length,
            },
          }),
        );

        if (!('ok' in cli)) {
          // A config that cannot work: the coordinator refuses it (at POST /api/runs) for the same
          // reason; the worker, which derives the splits only, for the same reason when they fail.
          expect(coordinator).toEqual(cli);
          if ('ok' in worker) expect(cli.error).toMatch(/^planShards: /);
          else expect(worker).toEqual(cli);
          return;
        }
        if (!('ok' in coordinator) || !('ok' in worker)) {
          throw new Error(
            `the CLI derived the run; the coordinator or worker refused it: ${JSON.stringify([coordinator, worker])}`,
          );
        }
        const local = cli.ok.run;
        const central = coordinator.ok;

        // Splits: the worker's rows are the CLI's; the coordinator's truth labels and counts too.
        expect(rows(worker.ok.train)).toEqual(rows(local.train));
        expect(rows(worker.ok.validation)).toEqual(rows(local.validation));
        expect(rows(worker.ok.test)).toEqual(rows(local.test));
        expect(central.trainCount).toBe(local.train.count);
        expect([...central.validationTruth]).toEqual([...local.validation.y]);
        expect([...central.testTruth]).toEqual([...local.test.y]);
        expect(central.numClasses).toBe(cli.ok.dataset.numClasses);

        // Members: the specs (seeds included) the coordinator assigns are those the CLI builds.
        expect(central.members).toEqual(local.members);

        // Plan: every batch the coordinator serves, as the worker unpacks it, is the CLI's.
        for (let m = 0; m < config.members; m++) {
          const mine = local.plan.member(m);
          const served = central.plan.member(m);
          expect(served.totalBatches).toBe(mine.totalBatches);
          const expected = mine.batches(0, mine.totalBatches).map((b) => [...b]);
          const chunk = packPlanChunk(0, served.batches(0, served.totalBatches));
          expect(unpackChunk(chunk, 0, served.totalBatches).map((b) => [...b])).toEqual(expected);
        }
      }),
      { numRuns: 30 },
    );
  });
});
