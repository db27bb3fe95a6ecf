import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadDataset, prepareRunData } from '@chorus/data';
import { parseRunConfig, WORKER_IDENTITY_REFUSED, type Assignment } from '@chorus/protocol';
import {
  bytesOf,
  cancelRun,
  claimAssignment,
  connectWorker,
  expectEventually,
  handshake,
  httpClient,
  launchRun,
  leaseOf,
  secretOf,
  softmaxRows,
  withCoordinator,
} from './testing/harness';
import { attemptHijack } from './testing/hostile-worker';

const fixture = withCoordinator({ leaseMs: 60_000 });

const tiny = {
  dataset: 'synthetic',
  members: 1,
  epochs: 1,
  batchSize: 64,
  trainLimit: 400,
  validationFraction: 0.25,
  seed: 7,
} as const;

async function rowsOfRun() {
  const cfg = parseRunConfig(tiny);
  const dataset = await loadDataset('synthetic', { seed: cfg.seed });
  const { validation, test } = prepareRunData(dataset, cfg);
  return { rows: { validation: validation.count, test: test.count }, numClasses: dataset.numClasses };
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('worker identity', () => {
  it('refuses the hijack of the issue; the honest worker completes its member with its own predictions', async () => {
    const runId = await launchRun(fixture.coordinator, tiny);
    const { rows, numClasses } = await rowsOfRun();
    const honestAuth = handshake({ slots: 1 });
    const honest = await connectWorker(fixture.coordinator, honestAuth);
    const assignment: Assignment = await claimAssignment(honest);
    const lease = leaseOf(assignment);
    const secret = secretOf(honestAuth.workerId);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // The id is published; the secret and its hash are not (nor a field that could carry them).
    const listed = await httpClient(fixture.coordinator).listWorkers();
    const text = JSON.stringify(listed);
    expect(listed.workers.map((w) => w.id)).toContain(honestAuth.workerId);
    expect(text).not.toContain(secret as string);
    expect(text).not.toContain(sha256(secret as string));
    expect(text).not.toMatch(/secret/i);
    // Stored hashed, never as it is.
    const row = await fixture.prisma.worker.findUniqueOrThrow({ where: { id: honestAuth.workerId } });
    expect(row.secretHash).toBe(sha256(secret as string));

    const outcome = await attemptHijack(fixture.coordinator, honestAuth.workerId, {
      assignment,
      rows,
      numClasses,
    });
    // As the victim: refused at the handshake, without and with a guessed secret.
    expect(outcome.asVictim).toEqual([
      expect.objectContaining({ code: 'forbidden', reason: WORKER_IDENTITY_REFUSED }),
      expect.objectContaining({ code: 'forbidden', reason: WORKER_IDENTITY_REFUSED }),
    ]);
    expect((outcome.asVictim[0] as { message: string }).message).toMatch(
      /registered with another session secret/,
    );
    // As itself: the lease is not its own, to renew, complete or fail.
    expect(outcome.asItself).toEqual({
      heartbeatRevoked: [lease],
      predictions: 'forbidden',
      done: 'forbidden',
      failed: 'forbidden',
    });
    // The honest worker still holds its lease and was not renamed by the refused handshakes.
    expect(await honest.emitWithAck('heartbeat', { members: [lease] })).toEqual({ ok: true, revoked: [] });
    expect(await fixture.repos.workers.get(honestAuth.workerId)).toMatchObject({ status: 'online' });

    const real = {
      validation: softmaxRows(rows.validation, numClasses, 11),
      test: softmaxRows(rows.test, numClasses, 12),
    };
    for (const split of ['validation', 'test'] as const) {
      const message = { ...lease, round: 0, split, rows: rows[split], numClasses };
      expect(
        await honest.emitWithAck('predictions', { ...message, probabilities: bytesOf(real[split]) }),
      ).toEqual({ ok: true });
    }
    expect(await honest.emitWithAck('member:done', { ...lease, samples: 300, seconds: 1 })).toEqual({
      ok: true,
    });
    await expectEventually(async () =>
      expect((await fixture.repos.runs.get(runId))?.status).toBe('completed'),
    );
    const member = (await fixture.repos.runs.get(runId))?.members[0];
    expect(member).toMatchObject({ status: 'completed', workerId: honestAuth.workerId });
    for (const split of ['validation', 'test'] as const) {
      const stored = await fixture.repos.predictions.get({ memberId: lease.memberId, split, round: 0 });
      expect(stored?.probabilities).toEqual(real[split]);
    }
    honest.close();
  });

  it('keeps a reconnecting worker its id and leases, across a coordinator restart too', async () => {
    const runId = await launchRun(fixture.coordinator, tiny);
    const auth = handshake({ slots: 1 });
    const first = await connectWorker(fixture.coordinator, auth);
    const lease = leaseOf(await claimAssignment(first));
    first.close();

    const again = await connectWorker(fixture.coordinator, { ...auth, activeMembers: [lease.memberId] });
    expect(await again.emitWithAck('heartbeat', { members: [lease] })).toEqual({ ok: true, revoked: [] });
    again.close();

    // The hash is in Postgres: a new coordinator process knows the secret, and still refuses the id without it.
    const restarted = await fixture.restart();
    const afterRestart = await connectWorker(restarted, { ...auth, activeMembers: [lease.memberId] });
    expect(await afterRestart.emitWithAck('heartbeat', { members: [lease] })).toEqual({
      ok: true,
      revoked: [],
    });
    await expect(
      connectWorker(restarted, { ...auth, activeMembers: [lease.memberId] }, { presentSecret: false }),
    ).rejects.toMatchObject({ data: { code: 'forbidden', reason: WORKER_IDENTITY_REFUSED } });
    expect(await fixture.repos.members.get(lease.memberId)).toMatchObject({
      workerId: auth.workerId,
      status: 'leased',
    });
    afterRestart.close();
    await cancelRun(restarted, runId);
  });

  it('refuses an id registered before worker secrets: it has no owner to prove', async () => {
    const id = randomUUID();
    await fixture.repos.workers.register({
      id,
      name: 'old',
      host: 'h',
      backend: 'cpu',
      device: 'cpu',
      slots: 1,
    });
    await expect(
      connectWorker(fixture.coordinator, handshake({ workerId: id }), { presentSecret: false }),
    ).rejects.toMatchObject({ data: { code: 'forbidden', reason: WORKER_IDENTITY_REFUSED } });
  });
});
