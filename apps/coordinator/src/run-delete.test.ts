import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Assignment } from '@chorus/protocol';
import {
  ADMIN_TOKEN,
  cancelRun,
  checkpointFor,
  claimAssignment,
  connectWorker,
  handshake,
  httpClient,
  launchRun,
  WORKER_TOKEN,
  oneMemberRun,
  socketsClosedAfterAll,
  withCoordinator,
} from './testing/harness';

/**
 * Deleting a run (`DELETE /api/runs/:id`) deletes its members' checkpoint files with its rows, and
 * a coordinator that starts finds and deletes the checkpoint directories of members that no longer
 * exist (a run deleted in the database itself, or anything else left under `checkpoints/`).
 */

const fixture = withCoordinator();
const admin = () => httpClient(fixture.coordinator, ADMIN_TOKEN);

/** One mlp member, 2 epochs of 8 mini-batches. */
const config = oneMemberRun(2);

const sockets = socketsClosedAfterAll();

const checkpointDir = (memberId: string): string => join(fixture.dataDir, 'checkpoints', memberId);

/** A run whose member has a checkpoint uploaded over HTTP (a file under the data dir). */
async function runWithCheckpointFile(): Promise<{ runId: string; a: Assignment }> {
  const runId = await launchRun(fixture.coordinator, config);
  const auth = handshake();
  const worker = await connectWorker(fixture.coordinator, auth);
  sockets.push(worker);
  const a = await claimAssignment(worker);
  await httpClient(fixture.coordinator, WORKER_TOKEN).putCheckpoint({
    params: { memberId: a.memberId, epoch: 0 },
    upload: {
      headers: {
        'x-chorus-worker-id': auth.workerId,
        'x-chorus-attempt': a.attempt,
        'x-chorus-step': 8,
        'x-chorus-plan-offset': 8,
      },
      bytes: checkpointFor(a, (i) => i % 7),
    },
  });
  expect(readdirSync(checkpointDir(a.memberId))).toHaveLength(1);
  return { runId, a };
}

describe('deleting a run', () => {
  it('refuses a running run, then deletes the ended run with its checkpoint files', async () => {
    const { runId, a } = await runWithCheckpointFile();
    // Without the admin token: refused, nothing deleted.
    await expect(
      httpClient(fixture.coordinator, WORKER_TOKEN).deleteRun({ params: { id: runId } }),
    ).rejects.toMatchObject({ code: 'forbidden' });
    await expect(admin().deleteRun({ params: { id: runId } })).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('cancel it before deleting it'),
    });
    expect(existsSync(checkpointDir(a.memberId))).toBe(true);

    await cancelRun(fixture.coordinator, runId);
    expect(await admin().deleteRun({ params: { id: runId } })).toEqual({
      id: runId,
      deleted: true,
      checkpointDirs: 1,
    });
    expect(existsSync(checkpointDir(a.memberId))).toBe(false);
    expect(await fixture.prisma.run.findUnique({ where: { id: runId } })).toBeNull();
    expect(await fixture.prisma.checkpoint.count({ where: { memberId: a.memberId } })).toBe(0);
    await expect(admin().getRun({ params: { id: runId } })).rejects.toMatchObject({ code: 'not-found' });
    await expect(admin().deleteRun({ params: { id: runId } })).rejects.toMatchObject({ code: 'not-found' });
  });

  it('at start, deletes the checkpoints of members that no longer exist and keeps the others', async () => {
    const gone = await runWithCheckpointFile();
    const kept = await runWithCheckpointFile();
    await cancelRun(fixture.coordinator, gone.runId);
    // Deleted in the database itself: the coordinator is not told.
    await fixture.prisma.run.delete({ where: { id: gone.runId } });
    // And something that is no member's directory at all.
    mkdirSync(join(fixture.dataDir, 'checkpoints', 'not-a-member'), { recursive: true });
    writeFileSync(join(fixture.dataDir, 'checkpoints', 'not-a-member', '0-x.chck'), 'stale');
    expect(existsSync(checkpointDir(gone.a.memberId))).toBe(true);

    await fixture.restart();
    expect(readdirSync(join(fixture.dataDir, 'checkpoints'))).toEqual([kept.a.memberId]);
    expect(readdirSync(checkpointDir(kept.a.memberId))).toHaveLength(1);
  });
});
