import { describe, expect, it } from 'vitest';
import {
  cancelRun,
  connectWorker,
  createFakeClock,
  expectEventually,
  handshake,
  launchRun,
  withCoordinator,
} from './testing/harness';

const HOUR = 3_600_000;
const clock = createFakeClock();
const fixture = withCoordinator({
  clock: clock.now,
  workerRetentionMs: 24 * HOUR,
  workerPruneIntervalMs: 30,
});

const rowOf = (id: string) => fixture.prisma.worker.findUnique({ where: { id } });

/** Connects a scripted worker with this handshake and disconnects it: the row is left offline. */
async function visit(auth: ReturnType<typeof handshake>): Promise<void> {
  const socket = await connectWorker(fixture.coordinator, auth);
  socket.close();
  await expectEventually(async () => expect((await rowOf(auth.workerId))?.status).toBe('offline'));
}

describe('Worker rows', () => {
  it('are reused when a worker reconnects with its id: one row per worker, not per connection', async () => {
    const before = await fixture.prisma.worker.count();
    const auth = handshake({ name: 'reconnecting' });
    for (let i = 0; i < 3; i++) await visit(auth);
    expect(await fixture.prisma.worker.count()).toBe(before + 1);
  });

  it('are forgotten once offline past the retention, unless a member refers to them or they are online', async () => {
    const gone = handshake({ name: 'gone' });
    const trainedOne = handshake({ name: 'trained-a-member' });
    await visit(gone);
    await visit(trainedOne);
    // A member this worker completed keeps its worker (the run page says who trained it).
    const runId = await launchRun(fixture.coordinator, {
      dataset: 'synthetic',
      members: 1,
      epochs: 1,
      trainLimit: 200,
    });
    await cancelRun(fixture.coordinator, runId);
    await fixture.prisma.member.updateMany({
      where: { runId },
      data: { workerId: trainedOne.workerId, status: 'completed' },
    });
    const online = handshake({ name: 'online' });
    const socket = await connectWorker(fixture.coordinator, online);

    clock.advance(23 * HOUR);
    const recent = handshake({ name: 'recent' });
    await visit(recent);
    // Nothing is past the retention yet: a few sweeps later every row is still there.
    await new Promise((r) => setTimeout(r, 200));
    expect(await rowOf(gone.workerId)).not.toBeNull();

    clock.advance(2 * HOUR);
    await expectEventually(async () => expect(await rowOf(gone.workerId)).toBeNull());
    expect(await rowOf(trainedOne.workerId)).not.toBeNull();
    expect(await rowOf(recent.workerId)).not.toBeNull();
    // Connected, so never forgotten, however long ago its row was last touched (25 h here).
    expect((await rowOf(online.workerId))?.status).toBe('online');

    // A forgotten worker that comes back is registered again.
    await visit(gone);
    expect(await rowOf(gone.workerId)).not.toBeNull();
    socket.close();
  });
});
