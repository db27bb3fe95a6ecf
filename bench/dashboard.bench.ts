/**
 * `npm run bench:dashboard`: how fast the dashboard shows what workers send.
 *  1. Latency from a worker's `metrics` emission to the step appearing on the run page in
 *     chromium (p50, p95; target p95 < 1 s): simulated workers (socket.io clients with the worker
 *     token, no training) send metrics at a fixed rate; the page reports each DOM change of a
 *     member's step cell through a MutationObserver. Both clocks are this machine's wall clock.
 *  2. The run page's load time with 16 members and 50 evaluation rounds stored (the same run:
 *     the simulated workers also send 50 rounds of predictions, evaluated by the coordinator).
 * The coordinator runs in this process on the embedded database (DATABASE_URL wins); the
 * dashboard is its production build (`next start`), built first if needed.
 *
 * Flags: --members 16 --rounds 50 --seconds 20 --metrics-hz 4 --loads 5
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { io, type Socket } from 'socket.io-client';
import { startCoordinator } from '@chorus/coordinator';
import { startDashboard } from '@chorus/dashboard';
import { loadDataset, prepareRunData, softmaxRows } from '@chorus/data';
import {
  createHttpClient,
  parseRunConfig,
  PROTOCOL_VERSION,
  CHORUS_VERSION,
  requestEvent,
  WORKERS_NAMESPACE,
  WorkerToCoordinatorCatalog,
  type AckValueOf,
  type Assignment,
  type CoordinatorToWorkerEvents,
  type EventsWithAck,
  type MessageOf,
  type WorkerToCoordinatorEvents,
} from '@chorus/protocol';
import { launchBrowser } from '../test/support/browser';
import { loadLine, median, quantile } from './support/stats';

type WorkerSocket = Socket<CoordinatorToWorkerEvents, WorkerToCoordinatorEvents>;

const { values: flags } = parseArgs({
  options: {
    members: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '20' },
    'metrics-hz': { type: 'string', default: '4' },
    loads: { type: 'string', default: '5' },
  },
});
const MEMBERS = Number(flags.members);
const ROUNDS = Number(flags.rounds);
const SECONDS = Number(flags.seconds);
const METRICS_HZ = Number(flags['metrics-hz']);
const LOADS = Number(flags.loads);
const databaseUrl = process.env.DATABASE_URL;

const ms = (v: number) => `${v.toFixed(0)} ms`;

/** Sends an answered worker message through the protocol's catalog; a refusal throws. */
async function call<K extends EventsWithAck<typeof WorkerToCoordinatorCatalog>>(
  socket: WorkerSocket,
  event: K,
  payload: MessageOf<typeof WorkerToCoordinatorCatalog, K>,
): Promise<AckValueOf<typeof WorkerToCoordinatorCatalog, K>> {
  const answer = await requestEvent(socket, WorkerToCoordinatorCatalog, event, payload);
  if (!answer.ok) throw new Error(`${event}: ${answer.code}: ${answer.message}`);
  return answer;
}

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), 'chorus-bench-dashboard-'));
  const coordinator = await startCoordinator({
    port: 0,
    dataDir,
    databaseUrl,
    logger: pino({ level: 'warn' }),
    metricsFlushMs: 250,
  });
  const dashboard = await startDashboard({
    databaseUrl: coordinator.databaseUrl,
    coordinatorUrl: coordinator.url,
    port: 0,
    log: (line) => console.log(`dashboard: ${line}`),
  });
  const browser = await launchBrowser();
  console.log(
    `coordinator ${coordinator.url} (${coordinator.databaseKind} database), dashboard ${dashboard.url}; load ${loadLine()}`,
  );

  try {
    // A run of MEMBERS members on the synthetic dataset; ROUNDS epochs = evaluation rounds.
    const config = parseRunConfig({
      dataset: 'synthetic',
      model: 'mlp',
      members: MEMBERS,
      epochs: ROUNDS,
      seed: 5,
    });
    const { id: runId } = await createHttpClient({
      baseUrl: coordinator.url,
      token: coordinator.adminToken,
    }).createRun({
      body: { ...config, name: `bench: ${MEMBERS} members, ${ROUNDS} rounds` },
    });
    const dataset = await loadDataset('synthetic', { seed: config.seed });
    const splits = prepareRunData(dataset, config);
    const rows = { validation: splits.validation.count, test: splits.test.count };

    // Simulated workers: one member each.
    const workers: Array<{ socket: WorkerSocket; assignment: Assignment }> = [];
    for (let i = 0; i < MEMBERS; i++) {
      const socket: WorkerSocket = io(`${coordinator.url}${WORKERS_NAMESPACE}`, {
        auth: {
          token: coordinator.workerToken,
          protocolVersion: PROTOCOL_VERSION,
          chorusVersion: CHORUS_VERSION,
          workerId: randomUUID(),
          name: `sim-${i}`,
          host: 'bench-loopback',
          backend: 'cpu',
          device: 'simulated (no training)',
          slots: 1,
          activeMembers: [],
        },
        transports: ['websocket'],
        forceNew: true,
      });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      const { assignment } = await call(socket, 'member:request', {});
      if (!assignment) throw new Error(`simulated worker ${i} got no member`);
      workers.push({ socket, assignment });
    }

    // The page reports every change of a member's step cell with the wall-clock time it saw it.
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const seen = new Map<string, number>();
    await page.exposeFunction('chorusSeen', (key: string, at: number) => {
      if (!seen.has(key)) seen.set(key, at);
    });
    await page.goto(`${dashboard.url}/runs/${runId}`);
    await page.getByTestId('connection-state').filter({ hasText: /live/i }).waitFor({ timeout: 60_000 });
    // Runs in the page (a string: this program is type-checked without the DOM library).
    await page.evaluate(`(() => {
      const observer = new MutationObserver(() => {
        for (let i = 0; i < ${MEMBERS}; i++) {
          const text = document.querySelector('[data-testid="member-step-' + i + '"]')?.textContent ?? '';
          const step = text.replace(/\\D/g, '');
          if (step) window.chorusSeen(i + ':' + step, Date.now());
        }
      });
      observer.observe(document.body, { subtree: true, childList: true, characterData: true });
      // Main-thread tasks over 50 ms while the page streams: what would make the charts stutter.
      window.chorusLongTasks = [];
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) window.chorusLongTasks.push(entry.duration);
      }).observe({ type: 'longtask' });
    })()`);

    // Metrics at METRICS_HZ per worker for SECONDS; predictions for ROUNDS rounds spread over the window.
    const emitted = new Map<string, number>();
    const start = performance.now();
    const end = start + SECONDS * 1000;
    const roundEvery = (SECONDS * 1000) / ROUNDS;
    const metricLoops = workers.map(async ({ socket, assignment }, w) => {
      const lease = { memberId: assignment.memberId, attempt: assignment.attempt };
      for (let k = 1; ; k++) {
        const at = start + (w / workers.length + k - 1) * (1000 / METRICS_HZ);
        if (at >= end) return;
        await sleep(Math.max(0, at - performance.now()));
        const step = k * 10;
        emitted.set(`${assignment.memberIndex}:${step}`, Date.now());
        socket.emit(
          'metrics',
          {
            ...lease,
            points: [
              {
                step,
                epoch: Math.floor((k / (METRICS_HZ * SECONDS)) * ROUNDS),
                loss: 1 / k,
                accuracy: 1 - 1 / (k + 1),
                samplesPerSecond: 1000,
              },
            ],
          },
          () => {},
        );
      }
    });
    const predictionLoops = workers.map(async ({ socket, assignment }) => {
      const lease = { memberId: assignment.memberId, attempt: assignment.attempt };
      for (let round = 0; round < ROUNDS; round++) {
        await sleep(Math.max(0, start + round * roundEvery - performance.now()));
        for (const split of ['validation', 'test'] as const) {
          const seed = 1 + round * 1000 + assignment.memberIndex * 7 + (split === 'test' ? 500 : 0);
          const probabilities = new Uint8Array(softmaxRows(rows[split], dataset.numClasses, seed).buffer);
          await call(socket, 'predictions', {
            ...lease,
            round,
            split,
            rows: rows[split],
            numClasses: dataset.numClasses,
            probabilities,
          });
        }
      }
    });
    await Promise.all([...metricLoops, ...predictionLoops]);
    await sleep(2_000);

    const latencies: number[] = [];
    for (const [key, at] of emitted) {
      const shown = seen.get(key);
      if (shown !== undefined) latencies.push(shown - at);
    }
    console.log('\n1. worker metric → browser (run page, member step cells)');
    console.log(
      `   ${MEMBERS} simulated workers × ${METRICS_HZ} metrics/s for ${SECONDS} s, ${ROUNDS} prediction rounds each meanwhile`,
    );
    console.log(
      `   emitted ${emitted.size}, shown ${latencies.length} (the page coalesces updates that arrive together)`,
    );
    console.log(
      `   p50 ${ms(median(latencies))}, p95 ${ms(quantile(latencies, 0.95))}, max ${ms(Math.max(...latencies))}  (target p95 < 1000 ms)`,
    );
    const longTasks = (await page.evaluate('window.chorusLongTasks')) as number[];
    const busy = longTasks.reduce((a, b) => a + b, 0);
    console.log(
      `   main thread: ${longTasks.length} tasks over 50 ms, ${ms(busy)} in all (${((busy / (SECONDS * 1000)) * 100).toFixed(1)}% of the window), longest ${ms(Math.max(0, ...longTasks))}`,
    );
    await page.close();

    for (const { socket, assignment } of workers) {
      await call(socket, 'member:done', {
        memberId: assignment.memberId,
        attempt: assignment.attempt,
        samples: 0,
        seconds: SECONDS,
      });
    }
    const deadline = Date.now() + 120_000;
    for (;;) {
      const run = await createHttpClient({ baseUrl: coordinator.url }).getRun({ params: { id: runId } });
      if (run.status === 'completed' && run.latestRound?.round === ROUNDS - 1) break;
      if (Date.now() > deadline)
        throw new Error(
          `run not completed with ${ROUNDS} rounds: ${run.status}, latest ${run.latestRound?.round}`,
        );
      await sleep(250);
    }

    // 2. Page load with everything stored.
    const loads: Array<{ dom: number; ready: number }> = [];
    for (let i = 0; i < LOADS + 1; i++) {
      const p = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const t0 = performance.now();
      await p.goto(`${dashboard.url}/runs/${runId}`, { waitUntil: 'domcontentloaded' });
      const dom = performance.now() - t0;
      await p
        .locator('table[data-testid="final-table"] tr[data-strategy="soft"]')
        .waitFor({ timeout: 60_000 });
      for (const chart of [
        'chart-member-loss',
        'chart-strategy-accuracy',
        'chart-disagreement',
        'chart-accuracy-diversity',
      ]) {
        await p.locator(`[data-testid="${chart}"] canvas`).first().waitFor({ timeout: 60_000 });
      }
      const ready = performance.now() - t0;
      if (i > 0) loads.push({ dom, ready }); // the first load warms the server's caches
      await p.close();
    }
    console.log(
      `\n2. run page load, ${MEMBERS} members × ${ROUNDS} rounds stored (${LOADS} loads after one warm-up)`,
    );
    console.log(
      `   HTML (DOMContentLoaded): p50 ${ms(median(loads.map((l) => l.dom)))}, max ${ms(Math.max(...loads.map((l) => l.dom)))}`,
    );
    console.log(
      `   charts and final table drawn: p50 ${ms(median(loads.map((l) => l.ready)))}, max ${ms(Math.max(...loads.map((l) => l.ready)))}`,
    );
    console.log(`   load average after: ${loadLine()}`);
    for (const { socket } of workers) socket.close();
  } finally {
    await browser.close();
    await dashboard.close();
    await coordinator.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
