import { ChorusError, type HttpClient, type RunConfig, type RunResult } from '@chorus/protocol';
import type { MemberProgress } from './local-train';
import { requireAdminToken } from './coordinator-options';
import { createProgressView } from './progress';
import { formatRunReport } from './report';
import { memberProgressOf, watchRun, type RunWatchOptions } from './run-watch';

/** Launches a run through libs/protocol's HTTP client; says where to find the admin token when there is none. */
export async function launchRun(client: HttpClient, adminToken: string | undefined, config: RunConfig): Promise<string> {
  const token = requireAdminToken(adminToken, 'launching a run');
  return (await client.createRun({ body: config }, { token })).id;
}

/**
 * Follows a run until it ends (watchRun: live metrics over the `/dashboard` socket, the run's view
 * over HTTP, through a coordinator restart), reporting member progress; resolves with its result,
 * or throws when it failed or was cancelled.
 */
export async function followRun(
  client: HttpClient,
  runId: string,
  options: {
    onStart?: (totals: number[]) => void;
    onProgress?: (p: MemberProgress) => void;
    log?: (line: string) => void;
  } & RunWatchOptions,
): Promise<RunResult> {
  let started = false;
  const totals = new Map<number, number>();
  const run = await watchRun(
    client,
    runId,
    {
      onRun: (view) => {
        if (!started && view.members.length > 0) {
          options.onStart?.(view.members.map((m) => m.totalBatches ?? 0));
          started = true;
        }
        for (const m of view.members) {
          totals.set(m.index, m.totalBatches ?? 0);
          options.onProgress?.({
            member: m.index,
            epoch: m.epoch,
            step: m.step,
            totalSteps: m.totalBatches ?? 0,
            samplesPerSecond: m.samplesPerSecond ?? 0,
          });
        }
      },
      onMetrics: (m) => {
        if (!started) return;
        options.onProgress?.(memberProgressOf(m, totals.get(m.index) ?? 0));
      },
      onUnreachable: (error) => options.log?.(`${error.message}; retrying`),
      onReachable: () => options.log?.(`the coordinator at ${client.baseUrl} answers again`),
    },
    options,
  );
  if (run.status === 'completed' && run.result) return run.result;
  throw new ChorusError('conflict', `run ${runId} ${run.status}${run.error ? `: ${run.error}` : ''}`);
}

/**
 * Follows a run with progress on stderr (bars on a terminal), then prints its result on stdout:
 * the tables, or with `json` the result object plus `runId` as one line.
 */
export async function followAndPrintRun(
  client: HttpClient,
  runId: string,
  options: { json: boolean; log: (line: string) => void },
): Promise<RunResult> {
  const view = createProgressView(Boolean(process.stderr.isTTY) && !options.json, options.log);
  try {
    const result = await followRun(client, runId, {
      onStart: (totals) => view.start(totals),
      onProgress: (p) => view.update(p),
      log: (line) => view.log(line),
    });
    view.stop();
    process.stdout.write(options.json ? `${JSON.stringify({ ...result, runId })}\n` : `${formatRunReport(result)}\n`);
    return result;
  } finally {
    view.stop();
  }
}
