/**
 * The cluster bench: what the coordinator costs and what extra workers buy.
 *
 *  1. One ensemble (default: all of mnist — 54,000 training rows —, 4 × fashion-dnn, round-robin,
 *     1 epoch, batch 64, seed 1) trained (a) by `chorus train --json` in a child process, (b) by a coordinator
 *     with one `chorus worker` process, (c) with two. Overhead = b / a, speed-up = b / c, and whether
 *     the three give the same accuracies (the runs are deterministic, so they must). The default
 *     model is fashion-dnn (1.2 M parameters, ≈ 6 s of training in-process on wasm) rather than the
 *     seed `mlp` (47 k parameters): a seed-MLP member trains in ≈ 0.1 s of CPU, less than the
 *     coordinator spends per member on its predictions, evaluations and bookkeeping, so with it
 *     the bench measures bookkeeping rather than distributed training (`--model mlp` still runs it).
 *     The whole training set for the same reason: with `--train-limit 12000` a member trains ≈ 1.4 s,
 *     and the fixed costs per member (model build, predictions on 11,200 rows, the checkpoint, the
 *     workers' start-up when cold) weigh more than in a real run.
 *     Besides wall times it prints each process's CPU seconds and, from them, a speed-up estimate
 *     for an otherwise idle machine (wall times on a shared machine wait for other people's jobs).
 *     And, in every repeat, this machine's own ceiling for the 2-worker split: two `chorus train`
 *     processes, each with half the members and the same mini-batches per member, at once against
 *     one alone (no coordinator, nothing shared); and each CPU's wasm matMul speed, pinned with
 *     `taskset` (`--skip-ceiling` leaves both out).
 *  2. A load test: K simulated workers (socket.io clients, no training) against one coordinator,
 *     each with one member of a K-member run, sending metrics, predictions and heartbeats at fixed
 *     rates for a fixed time: acknowledged messages/s, acknowledgement latency, drops, error acks,
 *     and the coordinator's CPU seconds per acknowledged message (the figure that wall-clock
 *     latencies on a shared machine hide: it counts the evaluations, database writes and socket
 *     work the messages cause, over connect → evaluations done).
 *  3. The hostile neighbour: the load test with 32 honest clients beside one flooding `plan:next` at
 *     500 messages/s: honest p95 latency (and per kind), leases lost, the coordinator's CPU per
 *     acknowledged honest message (the flood's included), its RSS before and after.
 *
 *   npm run bench:cluster [-- --repeats 3] [-- --workers 1,2] [-- --clients 8,32,64] [-- --seconds 10]
 *     [-- --dataset mnist --model fashion-dnn --members 4 --sharding round-robin --epochs 1 --batch-size 64
 *         --train-limit N --seed 1 --backend auto]
 *     [-- --metrics-hz 2 --points 10 --round-every 5 --heartbeat-every 5] [-- --skip-train | --skip-load]
 *     [-- --database embedded,postgres | embedded | postgres | env] [-- --timeline] [-- --coordinator-cpu-prof DIR]
 *     [-- --skip-ceiling] [-- --skip-hostile] [-- --hostile-clients 32 --flood-rate 500]
 *
 * The coordinator is one child process (`chorus coordinator --port 0`, loopback) on its embedded
 * PGlite in a temporary directory (`embedded`; PGlite runs inside the coordinator process), on
 * DATABASE_URL (`env`: the bench's runs stay in that database), or on a throwaway PostgreSQL
 * server from the installed binaries (`postgres`, fsync off). `--database` takes a comma-separated
 * list (default `embedded,postgres`, or `env` when DATABASE_URL is set): part 1 runs on the first,
 * the load test on each, and every section names its database. Start-up is not timed.
 * Prints figures; asserts nothing.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { RunConfigInput, RunResult } from '@chorus/protocol';
import { startFlood } from './support/flood';
import { latencySummary, runLoadTest, type LoadReport } from './support/load';
import {
  cpuSecondsOf,
  launchAndWait,
  LogTap,
  probeCpuSpeeds,
  reapedChildrenCpuSeconds,
  runTrainChild,
  RunWatcher,
  spawnWorkers,
  startCoordinatorProcess,
  stopChild,
  type CoordinatorProcess,
  type TrainChildResult,
} from './support/processes';
import { compareAccuracies, fmt, loadLine, median } from './support/stats';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const num = (name: string, fallback: number): number => {
  const value = Number(arg(name, String(fallback)));
  if (!Number.isFinite(value)) throw new Error(`--${name} must be a number`);
  return value;
};
const list = (name: string, fallback: string): number[] => arg(name, fallback).split(',').map(Number);
const flag = (name: string): boolean => args.includes(`--${name}`);

const cfg: RunConfigInput = {
  dataset: arg('dataset', 'mnist') as RunConfigInput['dataset'],
  model: arg('model', 'fashion-dnn') as RunConfigInput['model'],
  members: num('members', 4),
  sharding: arg('sharding', 'round-robin') as RunConfigInput['sharding'],
  epochs: num('epochs', 1),
  batchSize: num('batch-size', 64),
  // Default: the whole training set (no limit).
  ...(args.includes('--train-limit') ? { trainLimit: num('train-limit', 0) } : {}),
  seed: num('seed', 1),
  ...(args.includes('--dataset-path') ? { datasetPath: arg('dataset-path', '') } : {}),
};
const backend = arg('backend', 'auto');
const repeats = num('repeats', 3);
const workerCounts = list('workers', '1,2');
const clientCounts = list('clients', '8,32,64');
const load = {
  seconds: num('seconds', 10),
  metricsHz: num('metrics-hz', 2),
  pointsPerMessage: num('points', 10),
  roundEverySeconds: num('round-every', 5),
  heartbeatEverySeconds: num('heartbeat-every', 5),
  drainTimeoutMs: 15_000,
  evaluationTimeoutMs: 30_000,
};

const RUN_TIMEOUT_MS = 5 * 60_000;
const now = (): number => performance.now();
const log = (line = ''): void => console.log(line);

interface ClusterTiming {
  cold: number;
  warm: number;
  /** CPU seconds of the workers and the coordinator during each run (workers' start-up in cold). */
  coldCpu: number;
  warmCpu: number;
  /** The coordinator's share of those CPU seconds (with N workers on 2 cores it competes with training). */
  coordColdCpu: number;
  coordWarmCpu: number;
  /** Each worker's CPU seconds during the warm run. */
  warmWorkerCpu: number[];
  /** POST /api/runs of the warm run (nothing else running). */
  warmPost: number;
  firstLease: number;
  result: RunResult;
  warmResult: RunResult;
  /** Members handed over to a faster worker, cold and warm. */
  handovers: [number, number];
}

/** Spawns N workers and launches the run at the same moment; then the same run again, warm. */
async function clusterRun(
  coordinator: CoordinatorProcess,
  watcher: RunWatcher,
  workers: number,
  cacheDir: string,
  logs: LogTap,
): Promise<ClusterTiming> {
  const children: ChildProcess[] = [];
  try {
    const cpu = () =>
      cpuSecondsOf(coordinator.pid) + children.reduce((sum, c) => sum + cpuSecondsOf(c.pid ?? -1), 0);
    const cpu0 = cpuSecondsOf(coordinator.pid);
    const coord0 = cpu0;
    const t0 = now();
    children.push(
      ...spawnWorkers(coordinator, workers, { cacheDir, backend, namePrefix: `bench-${workers}w` }, logs),
    );
    const cold = await launchAndWait(
      coordinator,
      watcher,
      { ...cfg, name: `cluster bench, ${workers} worker(s)` },
      RUN_TIMEOUT_MS,
    );
    const cpu1 = cpu();
    const coord1 = cpuSecondsOf(coordinator.pid);
    const perWorker1 = children.map((c) => cpuSecondsOf(c.pid ?? -1));
    const t2 = now();
    const warmFrom = process.hrtime.bigint();
    const warm = await launchAndWait(
      coordinator,
      watcher,
      { ...cfg, name: `cluster bench, ${workers} worker(s), warm` },
      RUN_TIMEOUT_MS,
    );
    const cpu2 = cpu();
    const coord2 = cpuSecondsOf(coordinator.pid);
    const warmWorkerCpu = children.map((c, i) => cpuSecondsOf(c.pid ?? -1) - (perWorker1[i] ?? 0));
    recordProfileWindow(`${workers}w`, warmFrom, process.hrtime.bigint());
    if (flag('timeline')) {
      for (const [label, run, from] of [
        ['cold', cold, t0],
        ['warm', warm, t2],
      ] as const) {
        log(`  timeline, ${workers} worker(s), ${label} (s from launch):`);
        for (const e of run.events) log(`    ${fmt((e.at - from) / 1000).padStart(6)}  ${e.text}`);
      }
    }
    return {
      cold: (cold.doneAt - t0) / 1000,
      warm: (warm.doneAt - t2) / 1000,
      warmPost: warm.postSeconds,
      coldCpu: cpu1 - cpu0,
      warmCpu: cpu2 - cpu1,
      coordColdCpu: coord1 - coord0,
      coordWarmCpu: coord2 - coord1,
      warmWorkerCpu,
      firstLease: cold.firstLeaseAt !== undefined ? (cold.firstLeaseAt - t0) / 1000 : Number.NaN,
      result: cold.result,
      warmResult: warm.result,
      handovers: [cold.handovers, warm.handovers],
    };
  } finally {
    await Promise.all(children.map((c) => stopChild(c)));
  }
}

/**
 * Half the ensemble with the same mini-batches per member: half the members and, where members
 * share the rows (round-robin, disjoint), half the rows. Two of these side by side are the work of
 * the 2-worker run split as the coordinator splits it, with nothing shared between them.
 */
async function halfConfig(): Promise<RunConfigInput | null> {
  if (cfg.members === undefined || cfg.members % 2 !== 0) return null;
  const members = cfg.members / 2;
  if (cfg.sharding === 'full' || cfg.sharding === 'bootstrap') return { ...cfg, members };
  let total = cfg.trainLimit;
  if (total === undefined) {
    const { loadDataset } = await import('@chorus/data');
    const dataset = await loadDataset(cfg.dataset ?? 'mnist', {
      ...(cfg.datasetPath ? { path: cfg.datasetPath } : {}),
      seed: cfg.seed ?? 1,
    });
    total = dataset.train.count;
  }
  return { ...cfg, members, trainLimit: Math.floor(total / 2) };
}

interface Ceiling {
  /** Seconds from "backend and dataset ready" to the result: one process alone, then the slower of two at once. */
  solo: number;
  pair: number;
  /** CPU seconds of the one process, and of the two together (start-up included). */
  soloCpu: number;
  pairCpu: number;
}

/**
 * What this machine gives two processes that share nothing: `chorus train` on half the ensemble
 * alone, then two of them at once. 2 × solo / pair is the most any split of the work across two
 * processes can gain here, whatever coordinates them.
 */
async function measureCeiling(half: RunConfigInput): Promise<Ceiling> {
  const work = (r: TrainChildResult) => r.wallSeconds - r.readySeconds;
  const solo = await runTrainChild(half, backend);
  const cpu0 = reapedChildrenCpuSeconds();
  const pair = await Promise.all([runTrainChild(half, backend), runTrainChild(half, backend)]);
  return {
    solo: work(solo),
    pair: Math.max(...pair.map(work)),
    soloCpu: solo.cpuSeconds,
    pairCpu: reapedChildrenCpuSeconds() - cpu0,
  };
}

async function trainingComparison(
  coordinator: CoordinatorProcess,
  watcher: RunWatcher,
  tmp: string,
  logs: LogTap,
) {
  log(
    `\n== 1. one ensemble, trained in-process vs by the coordinator ==\n` +
      `${cfg.dataset}, ${cfg.members} × ${cfg.model}, ${cfg.sharding}, ${cfg.epochs} epoch(s), batch ${cfg.batchSize}, ` +
      `${cfg.trainLimit === undefined ? 'all training rows' : `trainLimit ${cfg.trainLimit}`}, seed ${cfg.seed}, backend ${backend}; ${repeats} repeat(s), interleaved a, b, c`,
  );
  const logMark = logs.lines.length;
  const a: Awaited<ReturnType<typeof runTrainChild>>[] = [];
  const byN = new Map<number, ClusterTiming[]>(workerCounts.map((n) => [n, []]));
  const loads: string[] = [];
  const half = workerCounts.includes(2) && !flag('skip-ceiling') ? await halfConfig() : null;
  const ceilings: Ceiling[] = [];
  const cpuSpeeds: number[][] = [];
  const cores = availableParallelism();
  for (let rep = 0; rep < repeats; rep++) {
    const speeds = await probeCpuSpeeds(cores);
    if (speeds) cpuSpeeds.push(speeds);
    a.push(await runTrainChild(cfg, backend));
    if (half) ceilings.push(await measureCeiling(half));
    for (const n of workerCounts) {
      byN.get(n)?.push(await clusterRun(coordinator, watcher, n, join(tmp, `cache-${rep}-${n}`), logs));
    }
    loads.push(loadLine());
  }
  const reference = a[0]?.result;

  log(`backend of chorus train: ${a[0]?.backend ?? '?'}`);
  log(
    'timed, cold: (a) spawn of `node bin/chorus.mjs train --json` → its JSON result line;\n' +
      '  (b)/(c) spawn of N `node bin/chorus.mjs worker` processes and POST /api/runs at the same moment → the\n' +
      "  run's `completed` notification on /dashboard. Both count node + tsx start-up, tfjs backend set-up and\n" +
      '  dataset loading (the workers start with an empty cache and download the bundle); the coordinator is\n' +
      '  already up (its start-up is not counted), and the POST (bundle written, plan made) is counted.\n' +
      'timed, warm: (a) the `seconds` the train command reports (trainEnsembleLocally: backend, dataset, training,\n' +
      '  evaluation; no process start-up); (b)/(c) POST → completed with the N workers already connected and idle\n' +
      '  (the same run again right after the cold one: bundle cached, tfjs warmed up).\n' +
      'first work: (a) the "chorus train:" line (backend ready, dataset loaded); (b)/(c) the first member leased.',
  );
  const series = (values: number[]) =>
    `${fmt(median(values)).padStart(6)} [${values.map((v) => fmt(v)).join(' ')}]`;
  const row = (label: string, cells: number[][]) =>
    log(`${label.padEnd(18)}${cells.map((c) => series(c).padEnd(27)).join('')}`);
  log(
    `\nmedian [each repeat], seconds\n${''.padEnd(18)}` +
      [
        'cold wall',
        'warm wall',
        'first work',
        'CPU, cold',
        'CPU, warm',
        'coord. CPU, cold',
        'coord. CPU, warm',
      ]
        .map((h) => h.padStart(6).padEnd(27))
        .join(''),
  );
  const aCold = a.map((r) => r.wallSeconds);
  const aWarm = a.map((r) => r.selfSeconds);
  const aCpu = a.map((r) => r.cpuSeconds);
  row('(a) chorus train', [
    aCold,
    aWarm,
    a.map((r) => r.readySeconds),
    aCpu,
    a.map(() => Number.NaN),
    a.map(() => Number.NaN),
    a.map(() => Number.NaN),
  ]);
  const labels = ['(b)', '(c)', '(d)', '(e)'];
  workerCounts.forEach((n, i) => {
    const t = byN.get(n) ?? [];
    row(`${labels[i] ?? '( )'} ${n} worker${n === 1 ? '' : 's'}`, [
      t.map((x) => x.cold),
      t.map((x) => x.warm),
      t.map((x) => x.firstLease),
      t.map((x) => x.coldCpu),
      t.map((x) => x.warmCpu),
      t.map((x) => x.coordColdCpu),
      t.map((x) => x.coordWarmCpu),
    ]);
  });
  const posts = [...byN.values()].flat().map((t) => t.warmPost);
  log(
    `POST /api/runs (the coordinator loads the dataset, encodes and hashes the bundle, plans the shards), warm runs: ` +
      `median ${fmt(median(posts))} s [${posts.map((v) => fmt(v)).join(' ')}]`,
  );
  log(
    'CPU: user + system seconds of the train process, or of the workers and the coordinator during the run\n' +
      "  (cold includes the workers' start-up); wall time on a shared machine waits for other jobs, CPU time does not.",
  );

  const med = (n: number, key: 'cold' | 'warm') => median((byN.get(n) ?? []).map((x) => x[key]));
  if (byN.has(1)) {
    log(
      `\noverhead at N = 1 (b / a): cold ${fmt(med(1, 'cold') / median(aCold))}×, warm ${fmt(med(1, 'warm') / median(aWarm))}× ` +
        `(target ≤ 1.10×); CPU, cold: ${fmt(median((byN.get(1) ?? []).map((x) => x.coldCpu)) / median(aCpu))}×`,
    );
  }
  if (byN.has(1) && byN.has(2)) {
    const perRepeat = (key: 'cold' | 'warm') =>
      (byN.get(2) ?? []).map((t, i) => ((byN.get(1) ?? [])[i]?.[key] ?? Number.NaN) / t[key]);
    log(
      `speed-up 1 → 2 workers (b / c, medians): cold ${fmt(med(1, 'cold') / med(2, 'cold'))}×, warm ${fmt(med(1, 'warm') / med(2, 'warm'))}× ` +
        `(target ≥ 1.8× on 2 cores; this machine: ${availableParallelism()} CPUs); each repeat's b / c: ` +
        `cold [${perRepeat('cold')
          .map((r) => fmt(r))
          .join(' ')}], warm [${perRepeat('warm')
          .map((r) => fmt(r))
          .join(' ')}]`,
    );
    log(
      `  members handed over to the faster worker (straggler handover) per 2-worker run, cold/warm: ` +
        (byN.get(2) ?? []).map((t) => `${t.handovers[0]}/${t.handovers[1]}`).join(' '),
    );
    // Wall time on a machine that other jobs share says little; CPU seconds are what each process
    // needed. Estimate for an otherwise idle machine with `cores` cores: a run lasts at least as long
    // as its busiest worker's CPU, and at least all CPU (workers + coordinator) spread over the cores.
    const estimate = (t: ClusterTiming) =>
      Math.max(
        Math.max(...t.warmWorkerCpu),
        (t.warmWorkerCpu.reduce((a, b) => a + b, 0) + t.coordWarmCpu) / cores,
      );
    const e1 = median((byN.get(1) ?? []).map(estimate));
    const e2 = median((byN.get(2) ?? []).map(estimate));
    const share = (n: number) =>
      median(
        (byN.get(n) ?? []).map(
          (t) => t.coordWarmCpu / (t.coordWarmCpu + t.warmWorkerCpu.reduce((a, b) => a + b, 0)),
        ),
      );
    log(
      `  from CPU seconds (warm): workers ${(byN.get(2) ?? []).map((t) => `[${t.warmWorkerCpu.map((v) => fmt(v)).join(' ')}]`).join(' ')} ` +
        `with 2, ${(byN.get(1) ?? []).map((t) => fmt(t.warmWorkerCpu[0] ?? Number.NaN)).join(' ')} with 1; ` +
        `coordinator share of all CPU ${fmt(100 * share(1), 0)}% (1 worker), ${fmt(100 * share(2), 0)}% (2 workers); ` +
        `speed-up estimated for an idle ${cores}-core machine: ${fmt(e1 / e2)}× (an estimate, not a measurement)`,
    );
  }
  if (half && ceilings.length > 0) {
    const ratios = ceilings.map((c) => (2 * c.solo) / c.pair);
    const cluster = (byN.get(2) ?? []).map((t, i) => {
      const one = (byN.get(1) ?? [])[i];
      return one ? one.warm / t.warm : Number.NaN;
    });
    log(
      `\nthis machine's ceiling for the 2-worker split: \`chorus train\` with ${half.members} member(s)` +
        `${half.trainLimit !== cfg.trainLimit ? ` and trainLimit ${half.trainLimit}` : ''} (the same mini-batches per member), ` +
        `alone, then two at once (nothing shared; backend and dataset ready → result):\n` +
        `  alone ${fmt(median(ceilings.map((c) => c.solo)))} s [${ceilings.map((c) => fmt(c.solo)).join(' ')}], ` +
        `two at once ${fmt(median(ceilings.map((c) => c.pair)))} s [${ceilings.map((c) => fmt(c.pair)).join(' ')}]; ` +
        `CPU s alone ${ceilings.map((c) => fmt(c.soloCpu)).join(' ')}, the two together ${ceilings.map((c) => fmt(c.pairCpu)).join(' ')}\n` +
        `  ceiling 2 × alone / two at once: ${fmt(median(ratios))}× [${ratios.map((r) => fmt(r)).join(' ')}]; ` +
        `the cluster's warm speed-up in the same repeats: ${fmt(median(cluster))}× [${cluster.map((r) => fmt(r)).join(' ')}] = ` +
        `${fmt((100 * median(cluster)) / median(ratios), 0)}% of the ceiling`,
    );
  }
  if (cpuSpeeds.length > 0) {
    log(
      `wasm matMul speed of each CPU (GFLOP/s, bench/support/simd-probe.ts pinned with taskset) before each repeat: ` +
        cpuSpeeds.map((s) => `[${s.map((v) => fmt(v, 1)).join(' ')}]`).join(' ') +
        ` — CPUs of a virtual machine that run SIMD code at different speeds cap any 2-process speed-up below 2×`,
    );
  }

  // Determinism: every result (in-process, each cluster run, cold and warm) against the first.
  const mismatches: string[] = [];
  if (reference) {
    a.forEach((r, i) => {
      const d = compareAccuracies(reference, r.result);
      if (d) mismatches.push(`(a) repeat ${i + 1}: ${d}`);
    });
    for (const [n, timings] of byN) {
      timings.forEach((t, i) => {
        for (const [kind, result] of [
          ['cold', t.result],
          ['warm', t.warmResult],
        ] as const) {
          const d = compareAccuracies(reference, result);
          if (d) mismatches.push(`N = ${n} repeat ${i + 1} ${kind}: ${d}`);
        }
      });
    }
    const r = reference;
    log(
      `accuracies (members' val/test, every strategy's test) of (a), (b), (c), all repeats, cold and warm: ` +
        `${mismatches.length === 0 ? 'identical' : `DIFFER in ${mismatches.length} run(s)`}` +
        ` — members test ${r.members.map((m) => m.testAccuracy.toFixed(4)).join(' ')}, soft ${r.ensemble.soft.accuracy.toFixed(4)}, ` +
        `hard ${r.ensemble.hard.accuracy.toFixed(4)}`,
    );
    for (const m of mismatches.slice(0, 10)) log(`  ${m}`);
  }
  log(`load average (1/5/15 min) after each repeat: ${loads.join('  |  ')}`);
  const problems = logs.summary(logMark);
  log(`warnings/errors logged by the coordinator and workers: ${problems.length === 0 ? 'none' : ''}`);
  for (const p of problems.slice(0, 10)) log(`  ${p}`);
}

/** The coordinator's CPU seconds over a load test, and per acknowledged message (its main cost figure). */
function cpuPerAck(r: LoadReport): string {
  const acked = Object.values(r.byKind).reduce((s, k) => s + k.acked, 0);
  return `${fmt(r.coordinatorCpuSeconds, 2)} s, ${fmt((1000 * r.coordinatorCpuSeconds) / acked, 2)} ms per acked message`;
}

function loadRow(r: LoadReport): string {
  const kinds = Object.values(r.byKind);
  const sent = kinds.reduce((s, k) => s + k.sent, 0);
  const acked = kinds.reduce((s, k) => s + k.acked, 0);
  const errors = kinds.reduce((s, k) => s + k.errors, 0);
  const l = latencySummary(kinds);
  const evals = `${r.roundsSeen}/${r.roundsExpected} ${Number.isNaN(r.evaluationDrainSeconds) ? '(not all)' : `+${fmt(r.evaluationDrainSeconds, 1)} s`} [${r.evaluationsSeen}]`;
  return (
    `${String(r.clients).padStart(3)} ${`${r.claimed}/${r.clients}`.padStart(7)} ${fmt(r.connectSeconds).padStart(7)} ` +
    `${String(sent).padStart(6)} ${fmt((acked - errors) / r.ackSpanSeconds, 0).padStart(8)} ` +
    `${fmt(l.p50, 1).padStart(7)} ${fmt(l.p95, 1).padStart(7)} ${fmt(l.p99, 1).padStart(7)} ${fmt(l.max, 0).padStart(7)} ` +
    `${String(sent - acked).padStart(7)} ${String(errors).padStart(6)}  ${evals.padEnd(18)} ${fmt(r.coordinatorCpuPercent, 0).padStart(5)}%`
  );
}

/** The K = 64 verdict of one load test, also repeated in the closing summary. */
const targetLines: string[] = [];

async function loadTest(coordinator: CoordinatorProcess, watcher: RunWatcher, logs: LogTap) {
  log(
    `\n== 2. load test: K simulated workers against one coordinator — database: ${coordinator.database} ==\n` +
      `each client: handshake, member:request (one member of a K-member synthetic run), then for ${load.seconds} s ` +
      `(open loop): metrics ${load.metricsHz}/s (${load.pointsPerMessage} points each; a real worker sends at most 2/s), ` +
      (load.roundEverySeconds > 0
        ? `a round of predictions every ${load.roundEverySeconds} s (validation, then test once validation is acked), `
        : 'no predictions, ') +
      `a heartbeat every ${load.heartbeatEverySeconds} s (as the worker); then up to ${load.drainTimeoutMs / 1000} s for the last acks.`,
  );
  log(
    'acked/s: ok acks ÷ (window start → last ack); latency: emit → ack, all kinds; unacked = sent − acked; ' +
      'errors = acks with ok: false;\nevals: rounds reported complete / rounds every client completed, how long after the ' +
      'window the last came, [evaluation notifications: test splits arriving together share one]; CPU: coordinator process, connect → evals done.',
  );
  log(
    `\n  K claimed connect   sent   acked/s  p50 ms  p95 ms  p99 ms  max ms unacked errors  evals (drain) [notes] coord CPU   load avg`,
  );
  const logMark = logs.lines.length;
  const reports: LoadReport[] = [];
  for (const clients of clientCounts) {
    const from = process.hrtime.bigint();
    const report = await runLoadTest(coordinator, watcher, { clients, ...load });
    recordProfileWindow(`load K=${clients}`, from, process.hrtime.bigint());
    reports.push(report);
    log(`${loadRow(report)}   ${loadLine()}`);
    if (report.roundsSeen < report.roundsExpected && clients !== clientCounts[clientCounts.length - 1]) {
      log('    (evaluations still queued on the coordinator: the next K starts beside that backlog)');
    }
  }
  for (const r of reports) {
    const parts = (Object.entries(r.byKind) as [string, LoadReport['byKind']['metrics']][]).map(
      ([kind, s]) => {
        const l = latencySummary([s]);
        return `${kind} ${s.acked}/${s.sent} acked, p95 ${fmt(l.p95, 1)} ms`;
      },
    );
    const codes = [...r.errorCodes].map(([c, n]) => `${n} × ${c}`).join(', ');
    log(
      `  K = ${r.clients}: ${parts.join('; ')}${codes ? `; errors: ${codes}` : ''}; ` +
        `coordinator CPU ${cpuPerAck(r)}; ` +
        `${r.claimed} member:request answered in ${fmt(r.claimSeconds)} s; ` +
        `${r.refusals.length} refused connection(s), ${r.disconnects} disconnect(s), ${r.revokes} revoke(s)`,
    );
    for (const refusal of [...new Set(r.refusals)].slice(0, 3)) log(`    refused: ${refusal}`);
  }
  const first = reports[0];
  if (first)
    log(
      `  predictions: ${first.predictionBytes.validation} B (validation), ${first.predictionBytes.test} B (test) per message`,
    );
  const last = reports.find((r) => r.clients === 64);
  if (last) {
    const kinds = Object.values(last.byKind);
    const dropped =
      kinds.reduce((s, k) => s + k.sent - k.acked + k.errors, 0) +
      (last.clients - last.claimed) +
      last.disconnects;
    const p95 = latencySummary(kinds).p95;
    const line =
      `target at K = 64: nothing dropped (unacked + error acks + unclaimed + disconnects: ` +
      `${dropped === 0 ? 'met' : `MISSED: ${dropped}`}), ` +
      `p95 < 250 ms (${p95 < 250 ? 'met' : 'MISSED'}: ${fmt(p95, 1)} ms)`;
    log(line);
    targetLines.push(`${coordinator.database}: ${line}`);
  }
  const problems = logs.summary(logMark);
  log(`warnings/errors logged by the coordinator: ${problems.length === 0 ? 'none' : ''}`);
  for (const p of problems.slice(0, 10)) log(`  ${p}`);
}

/** VmRSS of a process (Linux), in bytes. */
function rssOf(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return kb === undefined ? NaN : Number(kb) * 1024;
}

/**
 * 3. The hostile neighbour: the load test with `--hostile-clients` honest simulated workers (32)
 * while one more client floods `plan:next` at `--flood-rate` messages/s (500); its budget answers
 * the excess `rate-limited` (apps/coordinator/README.md, "Limits"). Targets, printed and never
 * asserted: honest p95 ack latency < 250 ms, no lease lost, the coordinator's RSS back within 20%
 * of where it was before.
 */
async function hostileTest(coordinator: CoordinatorProcess, watcher: RunWatcher) {
  const clients = num('hostile-clients', 32);
  const rate = num('flood-rate', 500);
  log(
    `\n== 3. hostile neighbour — database: ${coordinator.database} ==\n` +
      `the load test with K = ${clients} honest simulated workers, while one more client (1 slot) floods plan:next ` +
      `at ${rate}/s for a member it does not hold`,
  );
  const rssBefore = rssOf(coordinator.pid);
  const from = process.hrtime.bigint();
  const flood = await startFlood(coordinator, rate);
  const report = await runLoadTest(coordinator, watcher, { ...load, clients });
  const flooded = await flood.stop();
  recordProfileWindow(`hostile K=${clients}`, from, process.hrtime.bigint());
  // The coordinator's memory once the flood is over (a few seconds to settle, a GC's worth).
  await new Promise((r) => setTimeout(r, 5_000));
  const rssAfter = rssOf(coordinator.pid);
  const kinds = Object.values(report.byKind);
  const p95 = latencySummary(kinds).p95;
  const heartbeatRevokes = report.errorCodes.get('heartbeat: revoked (heartbeat)') ?? 0;
  const leasesLost =
    report.revokes + heartbeatRevokes + report.disconnects + (report.clients - report.claimed);
  const codes = [...flooded.codes].map(([c, n]) => `${n} × ${c}`).join(', ');
  log(`  honest: ${loadRow(report)}`);
  const parts = (Object.entries(report.byKind) as [string, LoadReport['byKind']['metrics']][]).map(
    ([kind, s]) => `${kind} p95 ${fmt(latencySummary([s]).p95, 1)} ms`,
  );
  log(`  honest: ${parts.join(', ')}; coordinator CPU ${cpuPerAck(report)} (the flood's included)`);
  log(
    `  flood: ${flooded.sent} sent in ${fmt(flooded.seconds, 1)} s (${fmt(flooded.sent / flooded.seconds, 0)}/s): ${codes}`,
  );
  const change = (rssAfter - rssBefore) / rssBefore;
  log(
    `  target: honest p95 < 250 ms (${p95 < 250 ? 'met' : 'MISSED'}: ${fmt(p95, 1)} ms); leases lost 0 ` +
      `(${leasesLost === 0 ? 'met' : `MISSED: ${leasesLost}`}: revokes ${report.revokes}, revoked heartbeats ${heartbeatRevokes}, ` +
      `disconnects ${report.disconnects}, unclaimed ${report.clients - report.claimed}); coordinator RSS ` +
      `${fmt(rssBefore / 1e6, 0)} → ${fmt(rssAfter / 1e6, 0)} MB (${change >= 0 ? '+' : ''}${fmt(100 * change, 0)}%, ` +
      `within 20%: ${Math.abs(change) <= 0.2 ? 'met' : 'MISSED'})`,
  );
}

// --coordinator-cpu-prof <dir>: V8 CPU profiles of the coordinator process (written when it stops).
const coordinatorNodeArgs = args.includes('--coordinator-cpu-prof')
  ? ['--cpu-prof', '--cpu-prof-dir', arg('coordinator-cpu-prof', '.')]
  : [];

/**
 * With --coordinator-cpu-prof, each warm run's span, each load test's and the hostile test's
 * (monotonic clock, µs: the clock of the profile's sample timestamps on Linux) go to
 * <dir>/warm-windows.json with a label, so the profile's samples can be cut to them
 * (bench/support/cpuprofile-summary.mjs --windows, --label to keep only some).
 */
function recordProfileWindow(label: string, from: bigint, to: bigint): void {
  if (!args.includes('--coordinator-cpu-prof')) return;
  const file = join(arg('coordinator-cpu-prof', '.'), 'warm-windows.json');
  const windows = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as unknown[]) : [];
  windows.push({ label, fromUs: Number(from / 1000n), toUs: Number(to / 1000n) });
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(windows, null, 1));
}

/** A coordinator child process on one kind of database, and how to stop both. */
async function startOn(
  database: string,
  dataDir: string,
  logs: LogTap,
): Promise<{ coordinator: CoordinatorProcess; stop: () => Promise<void> }> {
  if (database === 'postgres') {
    // A private server from the installed PostgreSQL binaries (libs/db), removed at the end.
    const { startThrowawayPostgres } = await import('@chorus/db');
    const server = await startThrowawayPostgres();
    const coordinator = await startCoordinatorProcess(
      dataDir,
      logs,
      {
        url: server.connectionString,
        label: 'a throwaway PostgreSQL server from the installed binaries, fsync off (--database postgres)',
      },
      coordinatorNodeArgs,
    ).catch(async (error: unknown) => {
      await server.close();
      throw error;
    });
    return {
      coordinator,
      stop: async () => {
        await coordinator.stop();
        await server.close();
      },
    };
  }
  if (database === 'env' && !process.env.DATABASE_URL) throw new Error('--database env needs DATABASE_URL');
  if (database !== 'embedded' && database !== 'env')
    throw new Error(`--database takes embedded, postgres or env (comma-separated), got ${database}`);
  const coordinator = await startCoordinatorProcess(
    dataDir,
    logs,
    database === 'env'
      ? {
          url: process.env.DATABASE_URL ?? '',
          label: `DATABASE_URL, a PostgreSQL server (${redact(process.env.DATABASE_URL ?? '')})`,
        }
      : // An empty DATABASE_URL is unset: the embedded database, even when DATABASE_URL is set here.
        {
          url: '',
          label: 'embedded PGlite (inside the coordinator process), data dir in a temporary directory',
        },
    coordinatorNodeArgs,
  );
  return { coordinator, stop: () => coordinator.stop() };
}

/** A connection string without its password. */
const redact = (url: string): string => url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');

async function main(): Promise<void> {
  const started = now();
  log(
    `cluster bench — node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model ?? '?'}), ` +
      `load average at start ${loadLine()}`,
  );
  const tmp = mkdtempSync(join(tmpdir(), 'chorus-cluster-bench-'));
  const logs = new LogTap();
  let current: { coordinator: CoordinatorProcess; stop: () => Promise<void> } | undefined;
  let watcher: RunWatcher | undefined;
  const onSignal = () => {
    void current?.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  // The training comparison runs on the first database; the load test on each of them.
  const databases = arg('database', process.env.DATABASE_URL ? 'env' : 'embedded,postgres').split(',');
  try {
    for (const [i, database] of databases.entries()) {
      current = await startOn(database, join(tmp, `coordinator-${i}`), logs);
      const { coordinator } = current;
      log(
        `\ncoordinator: child process \`chorus coordinator --port 0\` on ${coordinator.url}, database: ${coordinator.database}; ` +
          `started in ${fmt(coordinator.startupSeconds)} s (not counted below)`,
      );
      watcher = await RunWatcher.connect(coordinator);
      if (i === 0 && !flag('skip-train')) await trainingComparison(coordinator, watcher, tmp, logs);
      if (!flag('skip-load')) await loadTest(coordinator, watcher, logs);
      if (!flag('skip-hostile')) await hostileTest(coordinator, watcher);
      watcher.close();
      watcher = undefined;
      await current.stop();
      current = undefined;
    }
  } finally {
    watcher?.close();
    await current?.stop();
    rmSync(tmp, { recursive: true, force: true });
    process.off('SIGINT', onSignal);
  }
  if (targetLines.length > 1) {
    log('\nload-test target at K = 64, by database:');
    for (const line of targetLines) log(`  ${line}`);
  }
  log(`\ntotal ${fmt((now() - started) / 1000, 0)} s; load average at the end ${loadLine()}`);
}

await main();
