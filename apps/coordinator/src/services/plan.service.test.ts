import { describe, expect, it } from 'vitest';
import { loadDataset, planShards, prepareRunData } from '@chorus/data';
import { parseRunConfig } from '@chorus/protocol';
import { deriveRunData } from './plan.service';

describe('deriveRunData', () => {
  it('derives the splits and the plan of `chorus train` (prepareRunData on the features), from labels alone', async () => {
    for (const extra of [{}, { trainLimit: 300 }, { validationFraction: 0.25, sharding: 'bootstrap' }]) {
      const config = parseRunConfig({ dataset: 'synthetic', members: 3, seed: 11, epochs: 2, ...extra });
      const dataset = await loadDataset('synthetic', { seed: config.seed });
      const full = prepareRunData(dataset, config);
      const derived = deriveRunData(config, dataset);
      expect(derived.trainCount).toBe(full.train.count);
      expect([...derived.validationTruth]).toEqual([...full.validation.y]);
      expect([...derived.testTruth]).toEqual([...full.test.y]);
      const plan = planShards({
        strategy: config.sharding,
        numSamples: full.train.count,
        members: config.members,
        batchSize: config.batchSize,
        epochs: config.epochs,
        seed: config.seed,
      });
      for (let m = 0; m < config.members; m++) {
        expect(derived.plan.member(m).totalBatches).toBe(plan.member(m).totalBatches);
      }
    }
  });
});
