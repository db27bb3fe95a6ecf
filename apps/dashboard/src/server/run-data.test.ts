import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createRepositories, LIVE_ROUND, type EnsembleEvalInput } from '@chorus/db/client';
import { withTestDatabase } from '@chorus/db/testing';
import { diversity } from '@chorus/ensemble';
import { jsonAnswer } from '../app/api/runs/[id]/params';
import { loadRunPage, loadRunState, type RunState } from './run-data';
import {
  DashboardHttpError,
  fetchDashboardRoute,
  parseRunConfig,
  type DashboardAnswer,
  type DashboardRouteName,
} from '@chorus/protocol';

const db = withTestDatabase();

describe('run page data (real Postgres)', () => {
  it('reads a run, its curves, rounds, diversity and final table from the database', async () => {
    const repos = createRepositories(db.prisma);
    expect(await loadRunState(repos, 'missing')).toBeNull();
    const run = await repos.runs.create({
      name: 'page test',
      config: parseRunConfig({
        dataset: 'synthetic',
        model: 'mlp',
        members: 3,
        epochs: 2,
        sharding: 'round-robin',
      }),
      seed: 7,
      datasetName: 'synthetic',
      numClasses: 2,
      members: [{ totalBatches: 10 }, { totalBatches: 10 }, { totalBatches: 10 }],
    });
    const [m0, m1] = run.members;
    await repos.metrics.insert([
      ...Array.from({ length: 30 }, (_, i) => ({
        memberId: m0!.id,
        step: i + 1,
        epoch: 0,
        loss: 1 / (i + 1),
        accuracy: i / 30,
        samplesPerSecond: 10,
      })),
      { memberId: m1!.id, step: 1, epoch: 0, loss: 0.9, accuracy: 0.2, samplesPerSecond: 12 },
    ]);

    // Round 0 and the live view: soft 0.75, hard 1; best member 0.75, mean 2/3 (the same labels as lib/run-diversity.test.ts).
    const truth = Int32Array.from([0, 0, 0, 0]);
    const labels = [
      Int32Array.from([0, 0, 0, 1]),
      Int32Array.from([0, 1, 0, 1]),
      Int32Array.from([1, 0, 0, 0]),
    ];
    const report = diversity(labels, truth);
    for (const round of [LIVE_ROUND, 0]) {
      const rows: EnsembleEvalInput[] = (['soft', 'hard'] as const).map((strategy) => {
        const accuracy = strategy === 'soft' ? 0.75 : 1;
        return {
          runId: run.id,
          round,
          split: 'test',
          strategy,
          accuracy,
          nll: 0.5,
          brier: 0.2,
          ece: strategy === 'soft' ? 0.1 : 0.05,
          gainOverBest: accuracy - 0.75,
          gainOverMean: accuracy - 2 / 3,
          memberCount: 3,
        };
      });
      await repos.evals.saveEnsembleEvals(rows);
      const { pairwise, mean, ...rest } = report;
      await repos.evals.saveDiversityEval({
        runId: run.id,
        round,
        split: 'test',
        memberCount: 3,
        pairwise: JSON.parse(JSON.stringify(pairwise)),
        summary: { ...mean, ...rest },
      });
    }

    // Round 0 on the validation split: each member's accuracy (in memberIndices order) and the soft vote's.
    const { pairwise: valPairwise, mean: valMean, ...valRest } = report;
    await repos.evals.saveDiversityEval({
      runId: run.id,
      round: 0,
      split: 'validation',
      memberCount: 3,
      pairwise: JSON.parse(JSON.stringify(valPairwise)),
      summary: { ...valMean, ...valRest, memberIndices: [0, 1, 2], memberAccuracies: [0.5, 0.625, 0.75] },
    });
    await repos.evals.saveEnsembleEvals([
      {
        runId: run.id,
        round: 0,
        split: 'validation',
        strategy: 'soft',
        accuracy: 0.875,
        nll: 0.4,
        brier: 0.2,
        ece: 0.1,
        gainOverBest: 0.125,
        gainOverMean: 0.25,
        memberCount: 3,
      },
    ]);

    const worker = await repos.workers.register({
      id: 'worker-uuid-1',
      name: 'local-0',
      host: 'h',
      backend: 'webgpu',
      device: 'GPU 1: NVIDIA H200 (vulkan; vendor nvidia; architecture hopper)',
      slots: 1,
    });
    const claimed = await repos.members.claimNext({ workerId: worker.id, leaseMs: 60_000, runIds: [run.id] });
    expect(claimed?.index).toBe(0);

    const page = await loadRunPage(repos, run.id, 10);
    expect(page).not.toBeNull();
    const {
      run: view,
      curves,
      rounds,
      diversity: panel,
      finalTable,
      workerNames,
      workerDevices,
      validation,
    } = page!;
    // Validation accuracy after epoch 1 (round 0), beside the training curves.
    expect(validation).toEqual({
      members: [
        { index: 0, points: [[1, 0.5]] },
        { index: 1, points: [[1, 0.625]] },
        { index: 2, points: [[1, 0.75]] },
      ],
      ensemble: [[1, 0.875]],
    });
    // The member's worker by name (the Workers page's), for the members table.
    expect(workerNames).toEqual({ 'worker-uuid-1': 'local-0' });
    expect(workerDevices).toEqual({
      'worker-uuid-1': 'GPU 1: NVIDIA H200 (vulkan; vendor nvidia; architecture hopper)',
    });
    expect(view).toMatchObject({
      id: run.id,
      name: 'page test',
      status: 'running',
      model: 'mlp',
      members: expect.any(Array),
    });
    // Dates as Dates: the server render and the decoded answers (below) give the page the same values.
    expect(view.createdAt).toBeInstanceOf(Date);
    expect(view.members.map((m) => [m.index, m.totalBatches])).toEqual([
      [0, 10],
      [1, 10],
      [2, 10],
    ]);
    // 30 points of member 0 downsampled to 10 (first and last kept); member 1's single point; member 2 has none.
    expect(curves.map((c) => [c.index, c.loss.length])).toEqual([
      [0, 10],
      [1, 1],
    ]);
    expect(curves[0]?.loss[0]).toEqual([1, 1]);
    expect(curves[0]?.loss.at(-1)).toEqual([30, 1 / 30]);
    expect(rounds.map((r) => [r.round, r.strategies])).toEqual([[0, { hard: 1, soft: 0.75 }]]);
    expect(panel).toMatchObject({ source: 'round', round: 0, memberCount: 3 });
    expect(panel?.pairwise?.disagreement).toEqual(report.pairwise.disagreement);
    expect(finalTable?.source).toBe('round');
    expect(finalTable?.rows.map((r) => [r.key, r.values.ece])).toEqual([
      ['hard', 0.05],
      ['soft', 0.1],
      ['0', undefined],
      ['1', undefined],
      ['2', undefined],
    ]);

    // As the route handlers answer it (app/api/runs/[id] and /state, over real HTTP) and the run
    // page decodes it: the same values, dates included.
    const state = await loadRunState(repos, run.id);
    const [pageAnswer, stateAnswer] = await serveAnswers(
      [
        ['getRunPage', page!],
        ['getRunState', state!],
      ],
      async (baseUrl) => [
        await fetchDashboardRoute('getRunPage', { params: { id: run.id } }, { baseUrl }),
        await fetchDashboardRoute('getRunState', { params: { id: run.id } }, { baseUrl }),
      ],
    );
    expect(pageAnswer).toEqual(page);
    expect(stateAnswer).toEqual(state);

    // A state the server could not stand behind is answered 500 naming the route and the field
    // (never sent half right); the page shows that message as its refresh error.
    const broken = {
      ...state!,
      run: {
        ...state!.run,
        members: state!.run.members.map((m, i) => (i === 1 ? { ...m, status: 'lost' } : m)),
      },
    } as unknown as RunState;
    const refusal = await serveAnswers([['getRunState', broken]], (baseUrl) =>
      fetchDashboardRoute('getRunState', { params: { id: run.id } }, { baseUrl }).catch((e: unknown) => e),
    );
    expect(refusal).toBeInstanceOf(DashboardHttpError);
    expect(refusal).toMatchObject({ status: 500, code: 'internal' });
    expect((refusal as Error).message).toMatch(
      /^GET \/api\/runs\/[\w-]+\/state: GET \/api\/runs\/:id\/state: the answer does not match its schema: run\.members\.1\.status: /,
    );
  });
});

/** Serves each answer in turn through the route handlers' `jsonAnswer`, for the duration of `use`. */
async function serveAnswers<N extends DashboardRouteName, T>(
  answers: Array<[N, DashboardAnswer<N>]>,
  use: (baseUrl: string) => Promise<T>,
): Promise<T> {
  const queue = [...answers];
  const server = createServer((_request, response) => {
    const next = queue.shift();
    if (!next) return void response.writeHead(500).end();
    const answer = jsonAnswer(next[0], next[1]);
    void answer.text().then((body) => {
      response.writeHead(answer.status, Object.fromEntries(answer.headers)).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await use(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
