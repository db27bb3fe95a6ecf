import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRepositories, type Repositories } from '@chorus/db/client';
import { withTestDatabase } from '@chorus/db/testing';
import { loadWorkers } from './workers';
import { parseRunConfig } from '@chorus/protocol';

describe('loadWorkers (real Postgres)', () => {
  const db = withTestDatabase();
  let repos: Repositories;
  beforeAll(() => {
    repos = createRepositories(db.prisma);
  });

  const register = (name: string, slots: number) =>
    repos.workers.register({
      id: randomUUID(),
      name,
      host: 'gpu-box',
      backend: 'wasm',
      device: 'CPU',
      slots,
    });

  it('lists online workers first, with the members they hold and their summed samples per second', async () => {
    const busy = await register('b-busy', 2);
    const idle = await register('c-idle', 1);
    const gone = await register('a-gone', 1);
    await repos.workers.markOffline(gone.id);
    const run = await repos.runs.create({
      name: 'digits trio',
      config: parseRunConfig({ members: 3 }),
      seed: 1,
      datasetName: 'digits',
      numClasses: 10,
      members: [{ totalBatches: 100 }, { totalBatches: 100 }, { totalBatches: 100 }],
    });
    const first = await repos.members.claimNext({ workerId: busy.id, leaseMs: 60_000, runIds: [run.id] });
    const second = await repos.members.claimNext({ workerId: busy.id, leaseMs: 60_000, runIds: [run.id] });
    if (!first || !second) throw new Error('nothing claimed');
    await repos.members.recordProgress({
      memberId: first.id,
      workerId: busy.id,
      step: 25,
      epoch: 0,
      planOffset: 25,
      samples: 1600,
      samplesPerSecond: 1200,
    });
    await repos.members.recordProgress({
      memberId: second.id,
      workerId: busy.id,
      step: 10,
      epoch: 0,
      planOffset: 10,
      samples: 640,
      samplesPerSecond: 800.5,
    });

    const list = (await loadWorkers(repos)).filter((w) => [busy.id, idle.id, gone.id].includes(w.id));
    expect(list.map((w) => [w.name, w.status])).toEqual([
      ['b-busy', 'online'],
      ['c-idle', 'online'],
      ['a-gone', 'offline'],
    ]);
    const [b, c] = list;
    expect(b?.samplesPerSecond).toBe(2000.5);
    expect(b?.members).toEqual([
      expect.objectContaining({
        runId: run.id,
        runName: 'digits trio',
        index: 0,
        status: 'running',
        progress: 0.25,
        samplesPerSecond: 1200,
      }),
      expect.objectContaining({
        runId: run.id,
        runName: 'digits trio',
        index: 1,
        status: 'running',
        progress: 0.1,
        samplesPerSecond: 800.5,
      }),
    ]);
    expect(c?.members).toEqual([]);
    expect(c?.samplesPerSecond).toBeNull();
  });
});
