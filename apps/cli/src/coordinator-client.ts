import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ChorusError, RunResultSchema, type ErrorCode, type RunConfig, type RunResult } from '@chorus/protocol';
import type { MemberProgress } from './local-train';
import { createProgressView } from './progress';
import { formatRunReport } from './report';

/** The subset of `GET /api/runs/:id` the CLI reads. */
export interface RunView {
  id: string;
  status: 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';
  error?: string | null;
  members: {
    index: number;
    status: string;
    step: number;
    epoch: number;
    totalBatches: number;
    samplesPerSecond: number | null;
  }[];
  result: RunResult | null;
}

/** HTTP calls to a coordinator; errors come back as ChorusError with the coordinator's code and message. */
export class CoordinatorClient {
  constructor(
    readonly baseUrl: string,
    private readonly adminToken?: string,
  ) {}

  async launch(config: RunConfig): Promise<string> {
    if (!this.adminToken) {
      throw new ChorusError(
        'unauthorized',
        'launching a run needs the admin token: --token, CHORUS_ADMIN_TOKEN, or the tokens.json of a local coordinator (--data-dir)',
      );
    }
    const body = await this.request<{ id: string }>('POST', '/api/runs', config);
    return body.id;
  }

  getRun(id: string): Promise<RunView> {
    return this.request<RunView>('GET', `/api/runs/${encodeURIComponent(id)}`);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(this.adminToken && method !== 'GET' ? { authorization: `Bearer ${this.adminToken}` } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (error) {
      throw new ChorusError('unavailable', `cannot reach the coordinator at ${this.baseUrl}: ${(error as Error).message}`);
    }
    const text = await res.text();
    const json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (!res.ok) {
      const issues = Array.isArray(json.issues)
        ? `\n${(json.issues as { path: string; message: string }[]).map((i) => `${i.path}: ${i.message}`).join('\n')}`
        : '';
      throw new ChorusError(
        (json.code as ErrorCode | undefined) ?? 'internal',
        `${method} ${path}: ${String(json.message ?? res.statusText)}${issues}`,
      );
    }
    return json as T;
  }
}

/** The admin token of a coordinator started with this data dir, if its tokens.json is readable. */
export async function adminTokenFromDataDir(dataDir: string): Promise<string | undefined> {
  try {
    const parsed = JSON.parse(await readFile(join(dataDir, 'tokens.json'), 'utf8')) as { adminToken?: unknown };
    return typeof parsed.adminToken === 'string' ? parsed.adminToken : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Polls a run until it ends, reporting member progress; resolves with its result, or throws
 * when it failed or was cancelled. The coordinator stays the source of truth: nothing is cached.
 */
export async function followRun(
  client: CoordinatorClient,
  runId: string,
  options: { onStart?: (totals: number[]) => void; onProgress?: (p: MemberProgress) => void; intervalMs?: number },
): Promise<RunResult> {
  let started = false;
  for (;;) {
    const run = await client.getRun(runId);
    if (!started && run.members.length > 0) {
      options.onStart?.(run.members.map((m) => m.totalBatches));
      started = true;
    }
    for (const m of run.members) {
      options.onProgress?.({
        member: m.index,
        epoch: m.epoch,
        step: m.step,
        totalSteps: m.totalBatches,
        samplesPerSecond: m.samplesPerSecond ?? 0,
      });
    }
    if (run.status === 'completed' && run.result) return RunResultSchema.parse(run.result);
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
  client: CoordinatorClient,
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
