import { describe, expect, it } from 'vitest';
import { loadDataset, prepareRunData } from '@chorus/data';
import { evaluateEnsemble, STRATEGY_NAMES } from '@chorus/ensemble';
import { ErrorBodySchema, parseRunConfig, SPLITS, type Assignment, type WhatIfQuery } from '@chorus/protocol';
import {
  ADMIN_TOKEN,
  bytesOf,
  connectWorker,
  expectEventually,
  softmaxRows,
  httpClient,
  withCoordinator,
} from './testing/harness';

const fixture = withCoordinator();

const input = {
  dataset: 'synthetic',
  members: 3,
  epochs: 2,
  batchSize: 64,
  trainLimit: 400,
  seed: 5,
} as const;
const admin = () => httpClient(fixture.coordinator, ADMIN_TOKEN);
/** A refusal of the coordinator: its status and its own message. */
const refusal = (status: number, reason: RegExp) =>
  expect.objectContaining({ status, reason: expect.stringMatching(reason) });
type Query = { members: string; strategy: WhatIfQuery['strategy']; round?: number };

describe('GET /api/runs/:id/what-if', () => {
  it("scores a sub-ensemble from the stored predictions with the run's true labels", async () => {
    const cfg = parseRunConfig(input);
    const dataset = await loadDataset('synthetic', { seed: cfg.seed });
    const { validation, test } = prepareRunData(dataset, cfg);
    const truth = { validation: validation.y, test: test.y };
    const { id: runId } = await admin().createRun({ body: input });
    const whatIf = (query: Query) => admin().getWhatIf({ params: { id: runId }, query });

    // Before any prediction: nothing to vote with.
    await expect(whatIf({ members: '0,1', strategy: 'soft' })).rejects.toEqual(
      refusal(409, /members 0, 1 have no predictions yet/),
    );

    const worker = await connectWorker(fixture.coordinator);
    const assignments: Assignment[] = [];
    for (let i = 0; i < cfg.members; i++) {
      const r = await worker.emitWithAck('member:request', {});
      if (!r.ok || !r.assignment) throw new Error('no assignment');
      assignments.push(r.assignment);
    }
    const probs = (member: number, round: number, split: (typeof SPLITS)[number]) =>
      softmaxRows(truth[split].length, dataset.numClasses, member * 100 + round * 10 + SPLITS.indexOf(split));
    const send = async (a: Assignment, round: number) => {
      for (const split of SPLITS) {
        const probabilities = probs(a.memberIndex, round, split);
        const ack = await worker.emitWithAck('predictions', {
          memberId: a.memberId,
          attempt: a.attempt,
          round,
          split,
          rows: truth[split].length,
          numClasses: dataset.numClasses,
          probabilities: bytesOf(probabilities),
        });
        expect(ack).toEqual({ ok: true });
      }
    };
    for (const a of assignments) await send(a, 0);
    // Member 0 is one round ahead: by default the shared round of the chosen members is used.
    const first = assignments.find((a) => a.memberIndex === 0)!;
    await send(first, 1);

    // All members, round 0: exactly the stored evaluation of that round.
    await expectEventually(async () =>
      expect(await fixture.repos.evals.listEnsembleEvals(runId, { round: 0, split: 'test' })).toHaveLength(
        STRATEGY_NAMES.length,
      ),
    );
    const all = await whatIf({ members: '2,0,1,0', strategy: 'weighted-soft' });
    expect(all.round).toBe(0);
    expect(all.members.map((m) => m.index)).toEqual([0, 1, 2]);
    const stored = (await fixture.repos.evals.listEnsembleEvals(runId, { round: 0, split: 'test' })).find(
      (r) => r.strategy === 'weighted-soft',
    )!;
    expect(all.test).toEqual({
      accuracy: stored.accuracy,
      nll: stored.nll,
      brier: stored.brier,
      ece: stored.ece,
      gainOverBest: stored.gainOverBest,
      gainOverMean: stored.gainOverMean,
    });

    // A sub-ensemble: members 0 and 2 of round 0, as libs/ensemble scores them.
    const pair = await whatIf({ members: '0,2', strategy: 'hard' });
    const expected = evaluateEnsemble({
      numClasses: dataset.numClasses,
      validation: {
        members: [probs(0, 0, 'validation'), probs(2, 0, 'validation')],
        truth: truth.validation,
      },
      test: { members: [probs(0, 0, 'test'), probs(2, 0, 'test')], truth: truth.test },
      strategies: ['hard'],
      seed: input.seed,
    });
    expect(pair).toMatchObject({ strategy: 'hard', round: 0, test: expected.strategies.hard });
    expect(pair.members.map((m) => m.weight)).toEqual(expected.weights);
    // A learned combiner is fitted on the chosen members' validation predictions the same way.
    const stacked = await whatIf({ members: '0,2', strategy: 'stacking' });
    const fitted = evaluateEnsemble({
      numClasses: dataset.numClasses,
      validation: {
        members: [probs(0, 0, 'validation'), probs(2, 0, 'validation')],
        truth: truth.validation,
      },
      test: { members: [probs(0, 0, 'test'), probs(2, 0, 'test')], truth: truth.test },
      strategies: ['stacking'],
      seed: input.seed, // the run's seed deals the cross-validation folds
    });
    expect(stacked).toMatchObject({ strategy: 'stacking', round: 0, test: fitted.strategies.stacking });

    // Member 0 alone is at round 1; one member's soft vote is its own accuracy, gains 0.
    const alone = await whatIf({ members: '0', strategy: 'soft' });
    expect(alone.round).toBe(1);
    expect(alone.test.accuracy).toBe(alone.members[0]!.testAccuracy);
    expect(alone.test.gainOverBest).toBe(0);
    // An explicit round member 1 has not reached.
    await expect(whatIf({ members: '0,1', strategy: 'soft', round: 1 })).rejects.toEqual(
      refusal(409, /member 1 has not sent round 1 yet/),
    );
    worker.close();
  });

  it('refuses bad input with a reason', async () => {
    const { id } = await admin().createRun({ body: input });
    const get = (query: Query) => admin().getWhatIf({ params: { id }, query });
    await expect(get({ members: '0,3', strategy: 'soft' })).rejects.toEqual(
      refusal(400, /members 0–2; there is no member 3/),
    );
    await expect(get({ members: '', strategy: 'soft' })).rejects.toEqual(refusal(400, /./));
    await expect(get({ members: '0;1', strategy: 'soft' })).rejects.toEqual(refusal(400, /comma-separated/));
    // Queries the typed client cannot express, sent by hand.
    const byHand = async (query: string) => {
      const response = await fetch(`${fixture.coordinator.url}/api/runs/${id}/what-if?${query}`);
      return { status: response.status, body: ErrorBodySchema.parse(await response.json()) };
    };
    expect((await byHand('members=0&strategy=median')).body.message).toMatch(
      /strategy must be one of hard, soft/,
    );
    expect((await byHand('strategy=soft')).status).toBe(400);
    await expect(
      admin().getWhatIf({ params: { id: 'missing' }, query: { members: '0', strategy: 'soft' } }),
    ).rejects.toEqual(refusal(404, /./));
  });
});
