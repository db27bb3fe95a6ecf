import { ChorusError, type HttpClient, type RunConfig, type RunResult } from '@chorus/protocol';
import type { MemberProgress } from './local-train';
import { createProgressView } from './progress';
import { formatRunReport } from './report';

/** Launches a run through libs/protocol's HTTP client; says where to find the admin token when there is none. */
export async function launchRun(client: HttpClient, adminToken: string | undefined, config: RunConfig): Promise<string> {
  if (!adminToken) {
    throw new ChorusError(
      'unauthorized',
      'launching a run needs the admin token: --token, CHORUS_ADMIN_TOKEN, or the tokens.json of a local ' +
        "coordinator (--data-dir); `npx chorus tokens --data-dir DIR` on the coordinator's machine prints it",
    );
  }
  return (await client.createRun({ body: config }, { token: adminToken })).id;
}

/**
 * Polls a run until it ends, reporting member progress; resolves with its result, or throws
 * when it failed or was cancelled. The coordinator stays the source of truth: nothing is cached.
 */
export async function followRun(
  client: HttpClient,
  runId: string,
  options: { onStart?: (totals: number[]) => void; onProgress?: (p: MemberProgress) => void; intervalMs?: number },
): Promise<RunResult> {
  let started = false;
  for (;;) {
    const run = await client.getRun({ params: { id: runId } });
    if (!started && run.members.length > 0) {
      options.onStart?.(run.members.map((m) => m.totalBatches ?? 0));
      started = true;
    }
    for (const m of run.members) {
      options.onProgress?.({
        member: m.index,
        epoch: m.epoch,
        step: m.step,
        totalSteps: m.totalBatches ?? 0,
        samplesPerSecond: m.samplesPerSecond ?? 0,
      });
    }
    if (run.status === 'completed' && run.result) return run.result;
    if (run.status === 'failed' || run.status === 'cancelled') {
      throw new ChorusError('conflict', `run ${runId} ${run.status}${run.error ? `: ${run.error}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 1000));
  }
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
    });
    view.stop();
    process.stdout.write(options.json ? `${JSON.stringify({ ...result, runId })}\n` : `${formatRunReport(result)}\n`);
    return result;
  } finally {
    view.stop();
  }
}
