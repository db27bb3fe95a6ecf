/**
 * The checkpoint bench: one checkpoint of a real-size member through the coordinator's HTTP path,
 * `PUT /api/checkpoints/:memberId/:epoch` then `GET` of the same, timed, with the coordinator's
 * resident memory sampled every 50 ms (its baseline, its peak during each transfer, after).
 *
 * The member is fashion-dnn at `--width` (default 2,900: 25.4 M parameters on the synthetic
 * dataset's 8×8 inputs); the checkpoint is a container the coordinator accepts (the member's
 * parameter count) with, by default, two optimizer sections of the same size (Adam's m and v:
 * 305 MB), or the weights alone with `--weights-only` (102 MB). No training: the bench plays the
 * worker with a socket.io client that claims the member, so the figures are the transfer's alone.
 *
 *   npm run bench:checkpoint [-- --width 2900] [-- --repeats 3] [-- --weights-only]
 *
 * The coordinator is a child process (`chorus coordinator`) on DATABASE_URL when set, else its
 * embedded PGlite, in a temporary data dir. Prints figures; asserts nothing.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import {
  CHORUS_VERSION,
  countMemberParams,
  crc32,
  createHttpClient,
  DATASET_SHAPES,
  encodeCheckpointBytes,
  PROTOCOL_VERSION,
  requestEvent,
  WORKERS_NAMESPACE,
  WorkerToCoordinatorCatalog,
  type CoordinatorToWorkerEvents,
  type WorkerToCoordinatorEvents,
} from '@chorus/protocol';
import { coordinatorApi, LogTap, startCoordinatorProcess } from './support/processes';

type WorkerSocket = Socket<CoordinatorToWorkerEvents, WorkerToCoordinatorEvents>;

const args = process.argv.slice(2);
const num = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  const value = Number(i >= 0 ? args[i + 1] : fallback);
  if (!Number.isFinite(value)) throw new Error(`--${name} must be a number`);
  return value;
};
const width = num('width', 2_900);
const repeats = num('repeats', 3);
const weightsOnly = args.includes('--weights-only');

const MB = 1e6;
const rssOf = (pid: number, field: 'VmRSS' | 'VmHWM'): number => {
  const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
    readFileSync(`/proc/${pid}/status`, 'utf8'),
  )?.[1];
  return kb === undefined ? NaN : Number(kb) * 1024;
};

/** The weights-only container of libs/protocol with two more sections of zeros (Adam's m and v). */
function withOptimizerSlots(weightsContainer: Uint8Array, params: number): Uint8Array {
  const view = new DataView(weightsContainer.buffer, weightsContainer.byteOffset);
  const headerLength = view.getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(weightsContainer.subarray(12, 12 + headerLength))) as {
    sections: Array<{ name: string; offset: number; length: number; crc32: number }>;
  };
  const weights = weightsContainer.subarray(Math.ceil((12 + headerLength) / 8) * 8);
  const slot = new Uint8Array(4 * params);
  const slotCrc = crc32(slot);
  const align = (n: number) => Math.ceil(n / 8) * 8;
  const m = align(weights.length);
  const v = align(m + slot.length);
  header.sections.push(
    { name: 'optimizer/all/m', offset: m, length: slot.length, crc32: slotCrc },
    { name: 'optimizer/all/v', offset: v, length: slot.length, crc32: slotCrc },
  );
  const json = new TextEncoder().encode(
    JSON.stringify({ step: 0, optimizer: null, sections: header.sections }),
  );
  const start = align(12 + json.length);
  const out = new Uint8Array(start + v + slot.length);
  const outView = new DataView(out.buffer);
  out.set(new TextEncoder().encode('CHCK'), 0);
  outView.setUint32(4, 1, true);
  outView.setUint32(8, json.length, true);
  out.set(json, 12);
  out.set(weights, start);
  return out; // the slots are zeros already
}

async function main(): Promise<void> {
  const params = countMemberParams({ model: 'fashion-dnn', ...DATASET_SHAPES.synthetic, width });
  const dataDir = mkdtempSync(join(tmpdir(), 'chorus-checkpoint-bench-'));
  const logs = new LogTap();
  const coordinator = await startCoordinatorProcess(dataDir, logs);
  try {
    const admin = coordinatorApi(coordinator);
    await admin.createRun({
      body: {
        name: 'checkpoint bench',
        dataset: 'synthetic',
        model: 'fashion-dnn',
        members: 1,
        memberOverrides: [{ member: 0, width }],
        epochs: 1,
        batchSize: 8,
        trainLimit: 40,
      },
    });
    const workerId = randomUUID();
    const socket: WorkerSocket = io(`${coordinator.url}${WORKERS_NAMESPACE}`, {
      auth: {
        token: coordinator.workerToken,
        protocolVersion: PROTOCOL_VERSION,
        chorusVersion: CHORUS_VERSION,
        workerId,
        name: 'checkpoint-bench',
        host: 'bench',
        backend: 'cpu',
        device: 'none (no training)',
        slots: 1,
        activeMembers: [],
      },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    const answer = await requestEvent(
      socket,
      WorkerToCoordinatorCatalog,
      'member:request',
      {},
      { timeoutMs: 30_000 },
    );
    const a = answer.ok ? answer.assignment : null;
    if (!a) throw new Error(`no assignment: ${JSON.stringify(answer)}`);
    // Keep the lease while the bench runs.
    const beat = setInterval(
      () =>
        void requestEvent(socket, WorkerToCoordinatorCatalog, 'heartbeat', {
          members: [{ memberId: a.memberId, attempt: a.attempt }],
        }),
      3_000,
    );

    const weights = encodeCheckpointBytes([[params]]);
    const bytes = weightsOnly ? weights : withOptimizerSlots(weights, params);
    const worker = createHttpClient({ baseUrl: coordinator.url, token: coordinator.workerToken });
    console.log(
      `checkpoint bench: fashion-dnn width ${width} = ${params.toLocaleString('en')} parameters; ` +
        `a ${(bytes.length / MB).toFixed(1)} MB checkpoint (${weightsOnly ? 'weights only' : 'weights + Adam m, v'}); ` +
        `coordinator on ${coordinator.database}`,
    );
    console.log(`coordinator RSS at start: ${(rssOf(coordinator.pid, 'VmRSS') / MB).toFixed(0)} MB`);
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(coordinator.pid, 'VmRSS'))), 50);
    for (let r = 0; r < repeats; r++) {
      peak = 0;
      const before = rssOf(coordinator.pid, 'VmRSS');
      let t = performance.now();
      await worker.putCheckpoint({
        params: { memberId: a.memberId, epoch: 0 },
        upload: {
          headers: {
            'x-chorus-worker-id': workerId,
            'x-chorus-attempt': a.attempt,
            'x-chorus-step': 1,
            'x-chorus-plan-offset': 1,
          },
          bytes,
        },
      });
      const up = (performance.now() - t) / 1000;
      const upPeak = peak;
      peak = 0;
      t = performance.now();
      const back = await worker.getCheckpoint({ params: { memberId: a.memberId, epoch: 0 } });
      const down = (performance.now() - t) / 1000;
      if (back.bytes.length !== bytes.length) throw new Error('the download differs in length');
      console.log(
        `  #${r + 1}: upload ${up.toFixed(2)} s (${(bytes.length / MB / up).toFixed(0)} MB/s), coordinator RSS ` +
          `${(before / MB).toFixed(0)} → peak ${(upPeak / MB).toFixed(0)} MB; download ${down.toFixed(2)} s ` +
          `(${(bytes.length / MB / down).toFixed(0)} MB/s), peak ${(peak / MB).toFixed(0)} MB`,
      );
    }
    clearInterval(sampler);
    clearInterval(beat);
    socket.close();
    console.log(
      `coordinator RSS after: ${(rssOf(coordinator.pid, 'VmRSS') / MB).toFixed(0)} MB; its peak (VmHWM) ` +
        `${(rssOf(coordinator.pid, 'VmHWM') / MB).toFixed(0)} MB`,
    );
  } finally {
    await coordinator.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
