import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkpointMaxBytes, countMemberParams, DATASET_SHAPES, type Assignment } from '@chorus/protocol';
import {
  cancelRun,
  checkpointFor,
  claimAssignment,
  connectWorker,
  expectEventually,
  handshake,
  httpClient,
  launchRun,
  leaseOf,
  WORKER_TOKEN,
  oneMemberRun,
  socketsClosedAfterAll,
  withCoordinator,
  type WorkerSocket,
} from './testing/harness';

const fixture = withCoordinator();
const api = () => httpClient(fixture.coordinator, WORKER_TOKEN);

/** One mlp member, 3 epochs of 480 training rows in batches of 64: 8 mini-batches an epoch. */
const config = oneMemberRun(3);

const sockets = socketsClosedAfterAll();

async function leasedMember(): Promise<{
  runId: string;
  workerId: string;
  worker: WorkerSocket;
  a: Assignment;
}> {
  const runId = await launchRun(fixture.coordinator, config);
  const auth = handshake();
  const worker = await connectWorker(fixture.coordinator, auth);
  sockets.push(worker);
  return { runId, workerId: auth.workerId, worker, a: await claimAssignment(worker) };
}

const put = (a: Assignment, workerId: string, epoch: number, bytes: Uint8Array, attempt = a.attempt) =>
  api().putCheckpoint({
    params: { memberId: a.memberId, epoch },
    upload: {
      headers: {
        'x-chorus-worker-id': workerId,
        'x-chorus-attempt': attempt,
        'x-chorus-step': 4 * (epoch + 1),
        'x-chorus-plan-offset': 4 * (epoch + 1),
      },
      bytes,
    },
  });

const filesOf = (memberId: string): string[] => {
  const dir = join(fixture.dataDir, 'checkpoints', memberId);
  return existsSync(dir) ? readdirSync(dir).sort() : [];
};

/** A raw PUT: headers as given, `body` written (all of it, or cut off after `cutAfter` bytes). */
function rawPut(
  path: string,
  headers: Record<string, string | number>,
  body: Uint8Array,
  cutAfter?: number,
): Promise<{ status: number; text: string } | 'cut'> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${fixture.coordinator.url}${path}`,
      { method: 'PUT', headers: { authorization: `Bearer ${WORKER_TOKEN}`, ...headers } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', (error) => (cutAfter !== undefined ? resolve('cut') : reject(error)));
    if (cutAfter !== undefined) {
      req.write(body.subarray(0, cutAfter), () => setTimeout(() => req.destroy(), 50));
    } else {
      req.end(body);
    }
  });
}

describe('PUT /api/checkpoints/:memberId/:epoch', () => {
  it('stores a verified upload as a file the download streams back, keeping the newest two', async () => {
    const { runId, workerId, a } = await leasedMember();
    const bytes = checkpointFor(a, (i) => i % 13);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    expect(await put(a, workerId, 0, bytes)).toEqual({ epoch: 0, bytes: bytes.length, sha256 });
    expect(filesOf(a.memberId)).toEqual([`0-${sha256}.chck`]);
    const row = await fixture.prisma.checkpoint.findUniqueOrThrow({
      where: { memberId_epoch: { memberId: a.memberId, epoch: 0 } },
    });
    expect(row).toMatchObject({
      weights: null,
      file: `${a.memberId}/0-${sha256}.chck`,
      sha256,
      size: bytes.length,
    });

    const download = await api().getCheckpoint({ params: { memberId: a.memberId, epoch: 0 } });
    expect(download.headers).toEqual({ 'x-chorus-epoch': 0, 'x-chorus-step': 4, 'x-chorus-plan-offset': 4 });
    expect(Buffer.from(download.bytes).equals(Buffer.from(bytes))).toBe(true);

    // Epochs 1 and 2: epoch 0's row is pruned and its file deleted.
    const later = [1, 2].map((e) => checkpointFor(a, (i) => (i + e) % 7));
    for (const [i, b] of later.entries()) await put(a, workerId, i + 1, b);
    const hashes = later.map((b) => createHash('sha256').update(b).digest('hex'));
    expect(filesOf(a.memberId)).toEqual([`1-${hashes[0]}.chck`, `2-${hashes[1]}.chck`]);
    await cancelRun(fixture.coordinator, runId);
  });

  it('refuses a stale attempt or another worker (403) and bad bytes (400), storing nothing', async () => {
    const { runId, workerId, a } = await leasedMember();
    const good = checkpointFor(a);
    await expect(put(a, workerId, 0, good, a.attempt + 1)).rejects.toMatchObject({
      code: 'forbidden',
      status: 403,
    });
    await expect(put(a, '00000000-0000-4000-8000-000000000000', 0, good)).rejects.toMatchObject({
      code: 'forbidden',
    });
    const flipped = good.slice();
    flipped[good.length - 3] = (flipped[good.length - 3] as number) ^ 1;
    await expect(put(a, workerId, 0, flipped)).rejects.toMatchObject({
      code: 'invalid-input',
      reason: expect.stringMatching(/section weights fails its checksum/),
    });
    await expect(put(a, workerId, 0, good.subarray(0, good.length - 4))).rejects.toMatchObject({
      code: 'invalid-input',
      reason: expect.stringMatching(/truncated/),
    });
    // An epoch beyond the run's three.
    await expect(put(a, workerId, 3, good)).rejects.toMatchObject({ code: 'invalid-input' });
    expect(await fixture.prisma.checkpoint.count({ where: { memberId: a.memberId } })).toBe(0);
    expect(filesOf(a.memberId)).toEqual([]);
    await cancelRun(fixture.coordinator, runId);
  });

  it('answers 413 to a content-length beyond the member’s bound before reading the body', async () => {
    const { runId, workerId, a } = await leasedMember();
    const params = countMemberParams({
      model: a.model.name,
      ...DATASET_SHAPES.synthetic,
      width: a.model.width,
    });
    const tooMany = checkpointMaxBytes(params) + 1;
    const answer = await rawPut(
      `/api/checkpoints/${a.memberId}/0`,
      {
        'content-type': 'application/octet-stream',
        'content-length': tooMany,
        'x-chorus-worker-id': workerId,
        'x-chorus-attempt': a.attempt,
        'x-chorus-step': 4,
        'x-chorus-plan-offset': 4,
      },
      new Uint8Array(0),
      0,
    );
    expect(answer).not.toBe('cut');
    expect(answer).toMatchObject({ status: 413 });
    expect((answer as { text: string }).text).toMatch(/"code":"too-large".*beyond this member's bound/);
    await cancelRun(fixture.coordinator, runId);
  });

  it('leaves nothing behind when the upload is cut off halfway', async () => {
    const { runId, workerId, worker, a } = await leasedMember();
    const bytes = checkpointFor(a, (i) => i);
    const answer = await rawPut(
      `/api/checkpoints/${a.memberId}/0`,
      {
        'content-type': 'application/octet-stream',
        'content-length': bytes.length,
        'x-chorus-worker-id': workerId,
        'x-chorus-attempt': a.attempt,
        'x-chorus-step': 4,
        'x-chorus-plan-offset': 4,
      },
      bytes,
      Math.floor(bytes.length / 2),
    );
    expect(answer).toBe('cut');
    // The part file goes once the coordinator sees the stream end early.
    await expectEventually(() => filesOf(a.memberId).length === 0, 5_000);
    expect(await fixture.prisma.checkpoint.count({ where: { memberId: a.memberId } })).toBe(0);
    // The socket path replaces an uploaded file by bytes in the database, and the file goes.
    await put(a, workerId, 0, bytes);
    expect(filesOf(a.memberId)).toHaveLength(1);
    expect(
      await worker.emitWithAck('checkpoint', {
        ...leaseOf(a),
        epoch: 0,
        step: 4,
        planOffset: 4,
        weights: bytes,
      }),
    ).toEqual({ ok: true });
    expect(filesOf(a.memberId)).toEqual([]);
    await cancelRun(fixture.coordinator, runId);
  });
});
