import type { Command } from 'commander';
import {
  STRATEGY_NAMES,
  type EnsembleEvalView,
  type HttpClient,
  type MetricPointView,
  type RunNotification,
} from '@chorus/protocol';
import {
  addCoordinatorOption,
  coordinatorClient,
  explainRunError,
  type CoordinatorFlags,
} from '../coordinator-options';
import { parseEnv } from '../env';
import { createProgressView } from '../progress';
import { memberProgressOf, watchRun } from '../run-watch';
import { percent, plural } from '../wording';

interface LogsFlags extends CoordinatorFlags {
  follow?: boolean;
}

/**
 * `chorus logs RUN`: a run's story as lines on stdout — each member's last training point of each
 * epoch and each evaluated round's test accuracies, in time order, then its status; with
 * `--follow`, then live (the `/dashboard` socket, as `chorus run --wait`) until the run ends.
 */
export function registerLogsCommand(program: Command): void {
  const command = program
    .command('logs')
    .description("print a run's member progress and evaluations; --follow: live until it ends")
    .argument('<run>', 'the run id');
  addCoordinatorOption(command)
    .option('-f, --follow', 'keep printing as the run goes on, until it ends')
    .action(async (runId: string, flags: LogsFlags) => {
      const client = await coordinatorClient(flags, parseEnv());
      const print = (line: string) => process.stdout.write(`${line}\n`);
      try {
        const printed = await printHistory(client, runId, print, Boolean(flags.follow));
        if (printed !== undefined) await followLogs(client, runId, print, printed);
      } catch (error) {
        throw explainRunError(error, client, runId);
      }
    });
}

const clock = (at: Date) => at.toISOString().slice(11, 19);

/** `evaluation after epoch 2 (2 members) test: hard 80.0% …` (round = epoch, 0-based; -1 is the live view). */
export function roundLine(round: number, rows: readonly EnsembleEvalView[]): string {
  const test = rows.filter((r) => r.split === 'test' && r.round === round);
  const scores = STRATEGY_NAMES.flatMap((name) => {
    const row = test.find((r) => r.strategy === name);
    return row ? [`${name} ${percent(row.accuracy)}`] : [];
  });
  const members = test[0]?.memberCount ?? 0;
  return `${round < 0 ? 'live view' : `evaluation after epoch ${round + 1}`} (${plural(members, 'member')}) test: ${scores.join(' ')}`;
}

function pointLine(p: MetricPointView, totals: Map<number, number | null>): string {
  const total = totals.get(p.memberIndex);
  return (
    `member ${p.memberIndex} epoch ${p.epoch + 1}: step ${p.step}${total ? `/${total}` : ''} ` +
    `loss ${p.loss.toFixed(4)} acc ${p.accuracy.toFixed(3)} ${Math.round(p.samplesPerSecond)} samples/s`
  );
}

/**
 * Prints what the run did so far and, when it ended or unless `follow`, its status. Resolves with
 * the rounds printed when there is more to follow, else undefined.
 */
async function printHistory(
  client: HttpClient,
  runId: string,
  print: (line: string) => void,
  follow: boolean,
): Promise<Set<number> | undefined> {
  const run = await client.getRun({ params: { id: runId } });
  const [{ points }, { ensemble }] = await Promise.all([
    client.getRunMetrics({ params: { id: runId } }),
    client.getRunEvaluations({ params: { id: runId } }),
  ]);
  print(
    `${clock(run.createdAt)} run ${run.id} "${run.name}": ${run.members.length} × ${run.modelFile ?? run.model} on ${run.datasetName}, ` +
      `${run.epochs} epoch${run.epochs === 1 ? '' : 's'}, ${run.sharding} sharding`,
  );
  const totals = new Map(run.members.map((m) => [m.index, m.totalBatches]));
  // Each member's last point of each epoch: a line per epoch, not per flush.
  const lastOfEpoch = new Map<string, MetricPointView>();
  for (const p of points) {
    const key = `${p.memberIndex}:${p.epoch}`;
    const seen = lastOfEpoch.get(key);
    if (!seen || p.step > seen.step) lastOfEpoch.set(key, p);
  }
  const lines: Array<{ at: Date; text: string }> = [...lastOfEpoch.values()].map((p) => ({
    at: p.createdAt,
    text: pointLine(p, totals),
  }));
  const rounds = [...new Set(ensemble.filter((e) => e.split === 'test' && e.round >= 0).map((e) => e.round))];
  for (const round of rounds) {
    const at = ensemble
      .filter((e) => e.round === round)
      .reduce((a, e) => (e.updatedAt > a ? e.updatedAt : a), new Date(0));
    lines.push({ at, text: roundLine(round, ensemble) });
  }
  lines.sort((a, b) => a.at.getTime() - b.at.getTime());
  for (const line of lines) print(`${clock(line.at)} ${line.text}`);
  const ended = ['completed', 'failed', 'cancelled'].includes(run.status);
  if (!follow || ended) {
    print(statusLine(run));
    return undefined;
  }
  return new Set(rounds);
}

function statusLine(run: {
  status: string;
  error: string | null;
  finishedAt: Date | null;
  result: unknown;
}): string {
  return `${clock(run.finishedAt ?? new Date())} run ${run.status}${run.error ? `: ${run.error}` : ''}`;
}

async function followLogs(
  client: HttpClient,
  runId: string,
  print: (line: string) => void,
  printedRounds: Set<number>,
): Promise<void> {
  const stamped = (line: string) => print(`${clock(new Date())} ${line}`);
  const progress = createProgressView(false, stamped);
  const totals = new Map<number, number>();
  const workerNames = new Map<string, string>();
  const workerName = async (id: string) => {
    if (!workerNames.has(id)) {
      const { workers } = await client.listWorkers();
      for (const w of workers) workerNames.set(w.id, w.name);
    }
    return workerNames.get(id) ?? id;
  };
  const onNotification = async (n: RunNotification) => {
    if (n.kind === 'member' && 'index' in n.data) {
      const d = n.data;
      const on = d.workerId ? ` on ${await workerName(d.workerId)}` : '';
      stamped(`member ${d.index} ${d.status}${on}${d.error ? `: ${d.error}` : ''}`);
    } else if (n.kind === 'member' && 'requeued' in n.data) {
      stamped(`members ${n.data.requeued.join(', ')} back in the queue (their leases expired)`);
    } else if (n.kind === 'evaluation' && n.data.complete && !printedRounds.has(n.data.round)) {
      printedRounds.add(n.data.round);
      const { ensemble } = await client.getRunEvaluations({ params: { id: runId } });
      stamped(roundLine(n.data.round, ensemble));
    }
  };
  let chain = Promise.resolve();
  const run = await watchRun(client, runId, {
    onRun: (view) => {
      for (const m of view.members) totals.set(m.index, m.totalBatches ?? 0);
    },
    onMetrics: (m) => progress.update(memberProgressOf(m, totals.get(m.index) ?? 0)),
    // In order, one at a time: a line may wait for a fetch.
    onNotification: (n) => {
      chain = chain.then(() => onNotification(n)).catch(() => {});
    },
    onUnreachable: (error) => stamped(`${error.message}; retrying`),
    onReachable: () => stamped(`the coordinator at ${client.baseUrl} answers again`),
  });
  await chain;
  print(statusLine(run));
}
